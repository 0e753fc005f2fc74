// Package certs is Zhengxin's SM2 public-key infrastructure: keys, the
// certificates of issuing agencies and their signers, CRLs, the signed
// trust list, and checking a certificate chain at a given time.
//
// Everything is on the Chinese national algorithms: SM2 signatures
// (GB/T 32918) with SM3 (GB/T 32905), certificates signed SM2-with-SM3
// (OID 1.2.156.10197.1.501, GM/T 0015), keys at rest encrypted with SM4
// (GB/T 32907). Every SM2 signature uses Z_A with the default user ID
// "1234567812345678" (GM/T 0009) over the raw message, DER SEQUENCE{r, s};
// that is what [Sign] and [Verify] do, and what OpenSSL 3 does only when
// given -sigopt/-vfyopt distid:1234567812345678. The implementation is
// github.com/emmansun/gmsm; its output is tested against OpenSSL 3 and
// github.com/tjfoc/gmsm in both directions.
//
// # Trust model
//
//	Root CA (offline key; CA, path length 1)
//	  └─ Agency CA, one per issuing agency 发证机构 (CA, path length 0)
//	       ├─ license signer   — signs e-licenses and status lists  (EKU license-signing)
//	       ├─ seal signer      — the seal owner's key, signs documents (EKU seal-signing)
//	       └─ seal maker 制章人 — signs GB/T 38540 seal structures    (EKU seal-making)
//
// Make a root with [NewRootCA], an agency CA with [CA.NewAgencyCA], and
// end-entity certificates with [CA.Issue] and a [Profile]. Every function
// that issues takes the issue time as a parameter; the package never reads
// the wall clock. Issuing refuses from a certificate that is not a CA, from
// an issuer expired (or not yet valid) at the issue time, and with a key
// that is not the issuer's; a validity reaching past the issuer's is
// clamped to the issuer's NotAfter. Serial numbers are random 128-bit.
// Subjects are CN, O and C=CN; an agency's 18-character unified social
// credit code (统一社会信用代码, GB 32100, checked) is in the subject's
// serialNumber attribute (2.5.4.5), and end-entity certificates inherit
// the agency's O and code.
//
// # Extended key usages
//
// No standard OIDs exist yet for these purposes, so Zhengxin defines its
// own under the provisional arc 1.3.6.1.4.1.32473.2026.1 —
// [OIDExtKeyUsageLicenseSigning] (.1), [OIDExtKeyUsageSealSigning] (.2),
// [OIDExtKeyUsageSealMaking] (.3), [OIDExtKeyUsageTrustListSigning] (.4).
// 32473 is the enterprise number IANA reserves for documentation
// (RFC 5612): it belongs to no real organisation, so these OIDs cannot
// collide with anyone's, but they are ours and provisional, to be replaced
// by a registered arc or a national standard OID before production use.
//
// # Key files
//
// [WriteKeyFile] writes a private key as an "ENCRYPTED PRIVATE KEY" PEM
// block: PKCS#8 EncryptedPrivateKeyInfo with PBES2 (RFC 8018),
// PBKDF2-HMAC-SM3 ([KDFIterations] iterations, 16-byte salt) and SM4-CBC.
// The file is mode 0600, written to a temporary file, synced and renamed;
// an existing file is not overwritten unless asked. Keys are never written
// unencrypted. [ReadKeyFile] and [ParsePrivateKeyPEM] also read
// unencrypted SM2 keys ("PRIVATE KEY", "EC PRIVATE KEY") and encrypted
// keys from OpenSSL (PBES2 with SM4-CBC or AES and HMAC-SHA-2); OpenSSL
// 3.0 cannot read our files, because it lacks the HMAC-SM3 PRF. A wrong
// passphrase gives an error wrapping [ErrWrongPassphrase]; a key of
// another type (RSA, ECDSA P-256) is named as such.
//
// [ParsePublicKey] accepts both SubjectPublicKeyInfo encodings of SM2 keys
// found in the wild: id-ecPublicKey with the SM2 curve 1.2.156.10197.1.301
// as parameter (GM/T 0015, Chinese CAs, OpenSSL 3.0, tjfoc), and the SM2
// OID 1.2.156.10197.1.301 as the algorithm itself (GM/T 0015-2023, some
// OpenSSL 3 builds), with or without the curve parameter.
//
// # Verifying
//
// A [Pool] holds trust anchors, intermediate CAs, other certificates
// findable by kid ([KID]: the first 8 bytes of SM3 over the DER) and
// CRLs; it implements the verify package's Trust interface.
// [Pool.VerifyChain] builds the chain to an anchor and checks, at the time
// given, every signature, validity period, basic constraints, keyCertSign,
// path length, unknown critical extension, the leaf's extended key usage
// (a leaf without the extension is unrestricted, per RFC 5280; ours always
// carry one) and revocation. Errors carry a verification reason from package
// verify/report: NO_CERTIFICATE_CHAIN_FOUND, CHAIN_CONSTRAINTS_FAILURE,
// CERT_EXPIRED, NOT_YET_VALID, CERT_REVOKED, SIG_CRYPTO_FAILURE (a
// certificate whose issuer, identified by key ID, did not sign it),
// TRUST_LIST_EXPIRED. Revocation for key or CA compromise, or without a
// stated reason, applies whatever the time checked; other reasons
// (superseded, cessation of operation, ...) apply from the revocation
// time, so licenses signed before a key was retired stay valid.
//
// Every certificate signature that verified (keyed by the DER of the
// certificate and of its issuer, bounded in number) is cached in the Pool,
// so verifying root -> agency CA -> signer costs no SM2 verification once
// warm; validity, constraints, EKU and revocation are checked on every call.
//
// Pools come from [LoadPEMBundle] (every certificate of a PEM bundle is an
// anchor), from [LoadTrustList] (a signed trust list checked against
// anchors the caller holds), or from [LoadTrust], which takes either — the
// file given to `zhengxin verify --trust FILE`.
//
// # Trust list
//
// A trust list (docs/pki.md specifies it fully) is a JSON body — format,
// version, sequence, issued_at, next_update, the signer's certificate, and
// entries with role, kid, subject, credit code, validity and certificate —
// in a "ZHENGXIN TRUST LIST" PEM block, followed by a "ZHENGXIN TRUST LIST
// SIGNATURE" block holding the SM2 signature over the exact body bytes.
// It is signed by a root, or by a trust-list signer certificate under one.
// A verifier works offline from it; [Pool.ExpiresWithin] warns before it
// runs out; once its next update has passed, every [Pool.VerifyChain]
// fails with TRUST_LIST_EXPIRED, so the verdict is INDETERMINATE, never
// PASSED.
//
// # Example
//
//	rootKey, _ := certs.GenerateKey()
//	root, _ := certs.NewRootCA(rootKey, certs.Name{CommonName: "某省电子证照根CA", Organization: "某省政务服务管理局"}, now, 20*365*24*time.Hour)
//	agencyKey, _ := certs.GenerateKey()
//	agency, _ := certs.CA{Cert: root, Key: rootKey}.NewAgencyCA(&agencyKey.PublicKey,
//		certs.Name{CommonName: "福州市市场监督管理局 CA", Organization: "福州市市场监督管理局", CreditCode: "91350100M000100Y43"},
//		now, 10*365*24*time.Hour)
//	signerKey, _ := certs.GenerateKey()
//	signer, _ := certs.CA{Cert: agency, Key: agencyKey}.Issue(certs.LicenseSigner, &signerKey.PublicKey,
//		certs.Name{CommonName: "电子证照签发"}, now, 2*365*24*time.Hour)
//	_ = certs.WriteKeyFile("signer.key", signerKey, passphrase, false)
//
//	pool := certs.NewPool()
//	pool.AddAnchor(root)
//	chain, err := pool.VerifyChain(signer, []*smx509.Certificate{agency}, signedAt, certs.OIDExtKeyUsageLicenseSigning)
package certs
