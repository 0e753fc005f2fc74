#!/usr/bin/env python3
"""An independent verifier of static license QR payloads ("ZX1:...").

Written from docs/formats.md alone (sections 2-7), with nothing of the Go
code: Python's standard library for Base45, zlib and CBOR, and the OpenSSL
command line for SM4 (salts), SM3 (digests, when hashlib lacks it) and the
SM2 signature. license/independent_test.go runs it; it exists to show that
the format document is enough to write a compatible verifier.

usage: zx1verify.py QR-TEXT-FILE SIGNER-PUBLIC-KEY-PEM ZLIB-DICTIONARY-FILE
prints the fields as JSON and "SIGNATURE OK", or exits 1 with the reason.
"""
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


def main():
    text_file, pub_pem, dict_file = sys.argv[1:4]
    text = open(text_file, encoding="ascii").read().strip()
    if not text.startswith("ZX1:"):
        fail("not a ZX1: payload")
    z = b45decode(text[4:])
    d = zlib.decompressobj(zdict=open(dict_file, "rb").read())
    body = d.decompress(z, 8193)
    if len(body) > 8192 or d.unconsumed_tail or d.unused_data or not d.eof:
        fail("zlib stream too long, truncated or followed by bytes")
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
        salt = salts[16 * n:16 * n + 16]
        digests[t] = sm3(cbor_encode([salt, t, values[t]]))[:16]
    for t, dg in omitted.items():
        if t in digests or len(dg) != 16:
            fail("bad omitted digest")
        digests[t] = dg
    if digests:
        claims[12] = digests
    # Section 7: the signed payload and the ToBeSigned of RFC 9052 §4.4.
    payload = cbor_encode(claims)
    tbs = cbor_encode(["Signature1", protected, b"", payload])
    der = der_int(sig[:32]) + der_int(sig[32:])
    der = bytes([0x30, len(der)]) + der
    with tempfile.TemporaryDirectory() as tmp:
        mf, sf = os.path.join(tmp, "tbs"), os.path.join(tmp, "sig")
        open(mf, "wb").write(tbs)
        open(sf, "wb").write(der)
        code, out, err = openssl(["pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-in", mf,
                                  "-pubin", "-inkey", pub_pem,
                                  "-pkeyopt", "distid:1234567812345678", "-sigfile", sf])
    print(json.dumps({"type": claims[1], "issuer": claims[2], "serial": claims[3],
                      "values": {str(t): values[t] for t in tags}}, ensure_ascii=False))
    if code != 0 or b"Signature Verified Successfully" not in out:
        fail("signature does not verify: " + (out + err).decode(errors="replace").strip())
    print("SIGNATURE OK")


if __name__ == "__main__":
    main()
