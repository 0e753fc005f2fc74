// Package license is Zhengxin's e-license (电子证照): the catalogue of
// license types, the identifier and check digits of the national
// standards, signing, the QR codes a holder shows, selective disclosure,
// holder binding and status lists. docs/formats.md specifies every byte.
//
// # Standards
//
//   - GB/T 36903-2018 电子证照 元数据规范: the metadata of every type
//     (name, holder, holder ID type and number, issuing agency and code,
//     issue date, validity). License types are data: types.json, embedded.
//   - GB/T 36904-2018 电子证照 标识规范: the identifier
//     1.2.156.3005.2.<type code>.<issuer>.<serial>.<version>.<check>, with
//     its ISO 7064 MOD 37,36 check character ([ParseIdentifier]).
//   - GB 11643 (citizen ID, MOD 11-2), GB 32100 (unified social credit
//     code, MOD 31) and GB 11714 (organisation code): [CheckCitizenID],
//     [CheckUSCC], [CheckOrgCode] name the position and the rule broken.
//   - SM2 (GB/T 32918, Z_A with the default user ID), SM3 (GB/T 32905),
//     SM4 (GB/T 32907); CBOR (RFC 8949, core deterministic encoding),
//     COSE_Sign1 (RFC 9052, private-use algorithm -65537 for SM2-with-SM3),
//     Base45 (RFC 9285), zlib (RFC 1950) with a preset dictionary.
//
// # Issuing
//
// An agency makes a [Signer] from its license-signer key and certificate
// and calls [Signer.Issue] with a [Request] (fields in text form, as from
// flags or JSON: [RequestFromJSON]). Issue validates every field (a
// [ValidationError] lists them all, Chinese first), assigns the identifier,
// salts each field, signs, and returns a [License]. [License.Marshal] is the
// holder's copy: keep it, give it to the holder's wallet, never show it.
//
// # Showing
//
// [License.QRText] is the static QR ("ZX1:"): every field, verifiable
// offline, but copyable — it proves what the license says, not who shows
// it. A license issued with Request.HolderKey is bound to the holder's
// device key (SM2, or ECDSA P-256 for WebCrypto); [MakePresentation] makes
// the presentation QR ("ZXP1:"): only the fields chosen for a purpose
// (the type's profiles), signed by the device, valid for 60 seconds. Package
// license/qrpng draws and reads the pictures.
//
// # Verifying
//
// [ParseQR] and [ParsePresentation] decode (bounded, strict, never
// panicking); [License.VerifySignature] and the Presentation Check methods
// do the cryptography. Package verify puts it all together with the trust
// store and status into a report; use it rather than these pieces.
//
// # Status
//
// Each agency publishes signed status lists ([StatusList],
// [Signer.SignStatusList]): 2 bits per license (valid, suspended, revoked,
// cancelled), 10 million licenses in about 160 KB. [StatusLists] verifies
// them and answers verify.StatusSource offline.
//
// The package has no cgo and no operating-system calls, so the wallet page
// runs it compiled to WebAssembly (GOOS=js GOARCH=wasm).
package license
