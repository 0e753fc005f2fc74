#!/usr/bin/env python3
"""An independent verifier of license QR payloads ("ZX1:...", "ZXP1:...").

Written from docs/formats.md alone (sections 2-7), with nothing of the Go
code: Python's standard library for Base45, zlib and CBOR, and the OpenSSL
command line for SM4 (salts), SM3 (digests, when hashlib lacks it) and the
SM2 signature. license/independent_test.go runs it; it exists to show that
the format document is enough to write a compatible verifier.

usage: zx1verify.py QR-TEXT-FILE SIGNER-PUBLIC-KEY-PEM ZLIB-DICTIONARY-FILE
prints the fields as JSON and "SIGNATURE OK" (static QR) or "PRESENTATION OK"
(presentation: issuer signature, disclosures, holder binding and device
signature; not its time, audience or nonce, which need the verifier's clock
and memory), or exits 1 with the reason.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zlib

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def fail(msg):
    print("FAILED: " + msg)
    sys.exit(1)


def b45decode(s):
    out = bytearray()
    if len(s) % 3 == 1:
        fail("base45 length")
    for i in range(0, len(s), 3):
        chunk = s[i:i + 3]
        try:
            digits = [B45.index(c) for c in chunk]
        except ValueError:
            fail("non-base45 character")
        n = sum(d * 45 ** k for k, d in enumerate(digits))
        if len(chunk) == 3:
            if n > 0xFFFF:
                fail("base45 triple too large")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                fail("base45 pair too large")
            out.append(n)
    return bytes(out)


# --- CBOR (RFC 8949), just what the format uses ---

def cbor_decode(b, i=0):
    ib = b[i]
    major, info = ib >> 5, ib & 31
    i += 1
    if info < 24:
        arg = info
    elif info in (24, 25, 26, 27):
        n = 1 << (info - 24)
        arg = int.from_bytes(b[i:i + n], "big")
        i += n
    else:
        fail("indefinite or reserved CBOR head")
    if major == 0:
        return arg, i
    if major == 1:
        return -1 - arg, i
    if major == 2:
        return bytes(b[i:i + arg]), i + arg
    if major == 3:
        return b[i:i + arg].decode("utf-8"), i + arg
    if major == 4:
        items = []
        for _ in range(arg):
            v, i = cbor_decode(b, i)
            items.append(v)
        return items, i
    if major == 5:
        m = {}
        for _ in range(arg):
            k, i = cbor_decode(b, i)
            v, i = cbor_decode(b, i)
            m[k] = v
        return m, i
    if major == 6:
        v, i = cbor_decode(b, i)
        return ("tag", arg, v), i
    if major == 7 and info in (20, 21, 22):
        return {20: False, 21: True, 22: None}[info], i
    fail("unexpected CBOR item")


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")


def cbor_encode(v):
    """Core deterministic encoding (RFC 8949 §4.2.1)."""
    if isinstance(v, bool) or v is None:
        fail("no simple values in the format")
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        e = v.encode("utf-8")
        return head(3, len(e)) + e
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor_encode(x) for x in v)
    if isinstance(v, dict):
        items = sorted((cbor_encode(k), cbor_encode(x)) for k, x in v.items())
        return head(5, len(v)) + b"".join(k + x for k, x in items)
    fail("cannot encode %r" % (v,))


def openssl(args, data=None):
    r = subprocess.run(["openssl"] + args, input=data, capture_output=True)
    return r.returncode, r.stdout, r.stderr


def sm3(data):
    if "sm3" in hashlib.algorithms_available:
        return hashlib.new("sm3", data).digest()
    code, out, err = openssl(["dgst", "-sm3", "-binary"], data)
    if code != 0:
        fail("openssl sm3: " + err.decode())
    return out


def sm4_ecb(key, data):
    code, out, err = openssl(["enc", "-sm4-ecb", "-nopad", "-K", key.hex()], data)
    if code != 0:
        fail("openssl sm4: " + err.decode())
    return out


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return bytes([2, len(b)]) + b


def verify_sm2_or_p256(pub_pem, alg, tbs, sig):
    """SM2 (alg -65537, default user ID) or ECDSA P-256 (alg -7) over tbs;
    sig is r || s."""
    der = der_int(sig[:32]) + der_int(sig[32:])
    der = bytes([0x30, len(der)]) + der
    with tempfile.TemporaryDirectory() as tmp:
        mf, sf, kf = (os.path.join(tmp, n) for n in ("tbs", "sig", "key.pem"))
        open(mf, "wb").write(tbs)
        open(sf, "wb").write(der)
        if isinstance(pub_pem, bytes):
            open(kf, "wb").write(pub_pem)
            pub_pem = kf
        args = ["pkeyutl", "-verify", "-rawin", "-in", mf, "-pubin", "-inkey", pub_pem, "-sigfile", sf]
        if alg == -65537:
            args += ["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"]
        elif alg == -7:
            args += ["-digest", "sha256"]
        else:
            fail("unknown algorithm %d" % alg)
        code, out, err = openssl(args)
    return code == 0 and b"Signature Verified Successfully" in out


def unwrap(text, prefix, dict_file):
    if not text.startswith(prefix):
        fail("not a %s payload" % prefix)
    z = b45decode(text[len(prefix):])
    d = zlib.decompressobj(zdict=open(dict_file, "rb").read())
    body = d.decompress(z, 8193)
    if len(body) > 8192 or d.unconsumed_tail or d.unused_data or not d.eof:
        fail("zlib stream too long, truncated or followed by bytes")
    return body


def field_digest(salt, tag, value):
    """Section 6: first 16 bytes of SM3 over CBOR [salt, tag, value]."""
    return sm3(cbor_encode([salt, tag, value]))[:16]


# SubjectPublicKeyInfo of an EC key (RFC 5480): id-ecPublicKey, the curve.
EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")
CURVE_OID = {-65537: bytes.fromhex("06082a811ccf5501822d"),  # sm2p256v1 1.2.156.10197.1.301
             1: bytes.fromhex("06082a8648ce3d030107")}      # P-256
CURVE_P = {-65537: 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF,
           1: 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF}
CURVE_B = {-65537: 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
           1: 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B}


def holder_key(cose_key):
    """Section 3: a COSE_Key, y as bytes or as a sign bit (decompressed with
    y = (x^3 - 3x + b)^((p+1)/4) mod p); returns (crv, x, y, SPKI PEM)."""
    if cose_key.get(1) != 2 or cose_key.get(-1) not in CURVE_P or len(cose_key.get(-2, b"")) != 32:
        fail("holder COSE_Key is not an EC2 key on SM2 or P-256")
    crv, x = cose_key[-1], cose_key[-2]
    y = cose_key.get(-3)
    if isinstance(y, bool):
        p, xi = CURVE_P[crv], int.from_bytes(x, "big")
        yi = pow((xi ** 3 - 3 * xi + CURVE_B[crv]) % p, (p + 1) // 4, p)
        if (yi * yi - (xi ** 3 - 3 * xi + CURVE_B[crv])) % p != 0:
            fail("holder key x is not on the curve")
        if (yi & 1) != int(y):
            yi = p - yi
        y = yi.to_bytes(32, "big")
    if not isinstance(y, bytes) or len(y) != 32:
        fail("holder key y")
    alg = EC_PUBLIC_KEY + CURVE_OID[crv]
    alg = bytes([0x30, len(alg)]) + alg
    bits = b"\x03\x42\x00\x04" + x + y
    spki = bytes([0x30, len(alg) + len(bits)]) + alg + bits
    pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(spki) + b"-----END PUBLIC KEY-----\n"
    return crv, x, y, pem


def verify_static(text, pub_pem, dict_file):
    body = unwrap(text, "ZX1:", dict_file)
    qr, end = cbor_decode(body)
    if end != len(body) or not isinstance(qr, list) or len(qr) != 5:
        fail("body is not [cose, claims, master, values, omitted]")
    cose, claims, master, values, omitted = qr
    if cose[0] != "tag" or cose[1] != 18 or len(cose[2]) != 4:
        fail("not a tagged COSE_Sign1")
    protected, unprotected, payload, sig = cose[2]
    if unprotected != {} or payload is not None or len(sig) != 64 or len(master) != 16:
        fail("COSE_Sign1 shape")
    hdr, _ = cbor_decode(protected)
    if hdr.get(1) != -65537:
        fail("algorithm is not SM2-with-SM3 (-65537)")
    if 12 in claims:
        fail("claims must not carry digests in a static QR")
    # Section 6: salts by SM4 under the master salt, digests by SM3.
    tags = sorted(values)
    blocks = b"".join(b"zx-salt:" + t.to_bytes(8, "big") for t in tags)
    salts = sm4_ecb(master, blocks)
    digests = {}
    for n, t in enumerate(tags):
        digests[t] = field_digest(salts[16 * n:16 * n + 16], t, values[t])
    for t, dg in omitted.items():
        if t in digests or len(dg) != 16:
            fail("bad omitted digest")
        digests[t] = dg
    if digests:
        claims[12] = digests
    # Section 7: the signed payload and the ToBeSigned of RFC 9052 §4.4.
    payload = cbor_encode(claims)
    tbs = cbor_encode(["Signature1", protected, b"", payload])
    print(json.dumps({"type": claims[1], "issuer": claims[2], "serial": claims[3],
                      "values": {str(t): values[t] for t in tags}}, ensure_ascii=False))
    if not verify_sm2_or_p256(pub_pem, -65537, tbs, sig):
        fail("signature does not verify")
    print("SIGNATURE OK")


def verify_presentation(text, pub_pem, dict_file):
    body = unwrap(text, "ZXP1:", dict_file)
    # Section 8: [license, disclosures, holder-key, device], the first two
    # kept as carried (the device signs their exact bytes).
    if body[0] != 0x84:
        fail("body is not an array of 4")
    spans, i = [], 1
    for _ in range(4):
        start = i
        _, i = cbor_decode(body, i)
        spans.append(body[start:i])
    if i != len(body):
        fail("bytes after the body")
    lic, disclosures, cose_key, device = (cbor_decode(x)[0] for x in spans)
    if lic[0] != "tag" or lic[1] != 18 or device[0] != "tag" or device[1] != 18:
        fail("not tagged COSE_Sign1s")
    protected, unprotected, payload, sig = lic[2]
    if unprotected != {} or not isinstance(payload, bytes) or len(sig) != 64:
        fail("issuer COSE_Sign1 shape")
    if cbor_decode(protected)[0].get(1) != -65537:
        fail("issuer algorithm is not SM2-with-SM3")
    if not verify_sm2_or_p256(pub_pem, -65537, cbor_encode(["Signature1", protected, b"", payload]), sig):
        fail("issuer signature does not verify")
    claims = cbor_decode(payload)[0]
    if cbor_encode(claims) != payload:
        fail("claims are not deterministically encoded")
    shown = {}
    for tag, (salt, value) in sorted(disclosures.items()):
        if claims.get(12, {}).get(tag) != field_digest(salt, tag, value):
            fail("field %d does not match its digest" % tag)
        shown[str(tag)] = value
    crv, x, y, key_pem = holder_key(cbor_decode(spans[2])[0])
    thumb = sm3(cbor_encode({1: 2, -1: crv, -2: x, -3: y}))[:16]
    if claims.get(11) != thumb:
        fail("the presenting device key is not the key the license is bound to")
    dprot, dunprot, dpayload, dsig = device[2]
    dalg = cbor_decode(dprot)[0].get(1)
    if dunprot != {} or len(dsig) != 64 or dalg != (-65537 if crv == -65537 else -7):
        fail("device COSE_Sign1 shape or algorithm")
    aad = sm3(spans[0] + spans[1])
    if not verify_sm2_or_p256(key_pem, dalg, cbor_encode(["Signature1", dprot, aad, dpayload]), dsig):
        fail("device signature does not verify")
    dclaims = cbor_decode(dpayload)[0]
    print(json.dumps({"type": claims[1], "issuer": claims[2], "serial": claims[3], "values": shown,
                      "made_at": dclaims.get(2), "lifetime": dclaims.get(3)}, ensure_ascii=False))
    print("PRESENTATION OK")


def main():
    text_file, pub_pem, dict_file = sys.argv[1:4]
    text = open(text_file, encoding="ascii").read().strip()
    if text.startswith("ZXP1:"):
        verify_presentation(text, pub_pem, dict_file)
    else:
        verify_static(text, pub_pem, dict_file)


if __name__ == "__main__":
    main()
