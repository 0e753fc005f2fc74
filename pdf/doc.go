// Package pdf signs any PDF with SM2 and a visible seal, verifies the
// signatures of a PDF, and renders an e-license as a PDF.
//
// # Signing
//
// [Sign] appends an incremental update (ISO 32000-1 §7.5.6) to the
// original file, which is copied byte for byte, so earlier signatures stay
// valid and a document can be countersigned:
//
//	err := pdf.Sign(in, size, out, pdf.SignOptions{
//		Signer: key, Cert: cert, Chain: []*smx509.Certificate{agencyCA},
//		Reason: "盖章", Location: "北京",
//		Appearance: &pdf.Appearance{PNG: stampPNG, Page: 1, Rect: pdf.Rect{X: 400, Y: 100, W: 120, H: 120}},
//	})
//
// The update adds a signature dictionary (/Type /Sig /Filter
// /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached, /ByteRange, /Contents,
// /M, /Name, /Reason, /Location), a signature field that is also its widget
// annotation on the chosen page, an appearance stream drawing the seal
// picture (an RGB image XObject with a DeviceGray /SMask, so the stamp's
// transparent background shows the page), the page's /Annots and the
// catalog's /AcroForm with /SigFlags 3. Its cross-reference section is a
// classic table if the file ends with one, else a cross-reference stream;
// both carry /Prev. Encrypted PDFs are refused with [ErrEncrypted].
//
// /Contents holds, by [SignOptions].Format:
//   - [CMS]: a detached CMS SignedData, RFC 5652 content types, digest SM3
//     (1.2.156.10197.1.401), SignerInfo signature algorithm SM2
//     (1.2.156.10197.1.301.1) computed with Z_A for the user ID
//     "1234567812345678", signed attributes contentType, signingTime and
//     messageDigest, the signer certificate and chain — what gmsm's
//     NewSignedData with SetDigestAlgorithm(SM3) writes (STANDARDS.md §2.3).
//   - [SES]: a GB/T 38540 SES_Signature (package seal) whose dataHash is SM3
//     over the bytes the /ByteRange covers (STANDARDS.md §3.1, mode b).
//
// The original bytes are streamed once, copied and hashed together; only the
// update (a few kilobytes plus the seal picture) is built in memory.
//
// With [SignOptions].Timestamp set, the CMS signature value is handed to
// it (package tsaclient, or package tsatest in tests) and the RFC 3161
// TimeStampToken it returns is added as the unsigned attribute
// id-aa-timeStampToken (RFC 3161 Appendix A). [AddDocTimestamp] adds a
// document timestamp (ISO 32000-2 §12.8.5, /SubFilter /ETSI.RFC3161): a
// revision whose /Contents is a bare token over the byte range; [Verify]
// reports one as Format [DocTimestamp], the TSA as its signer.
//
// # Verifying
//
// [Verify] finds every signature field, and for each checks that the
// /ByteRange is [0 a b c], lies in the file, ends where a revision ends and
// leaves out exactly the /Contents hex string; hashes the ranges in chunks;
// checks a CMS (SM2 with either 1.2.156.10197.1.301.1 or .501, RFC 5652 or
// GB/T 35275 content types; RSA PKCS #1 v1.5 and ECDSA with SHA-1/2, so
// signatures from other producers verify too) or an SES_Signature (sniffed
// from /Contents); and compares each later revision with the signed one:
// added signatures, annotations, form entries, page /Annots, catalog
// /AcroForm and document metadata are reported in [Signature].Changes, any
// other change (page content, resources, objects replaced or deleted) and
// bytes after the last %%EOF that are not an incremental update set
// [Signature].ModifiedErr. A CMS signature's RFC 3161 timestamp (unsigned
// attribute id-aa-timeStampToken) is checked by [VerifyTimestampToken] into
// [Signature].Timestamp: eContentType id-ct-TSTInfo, the contentType,
// messageDigest and signing-certificate attributes, the message imprint
// over the signature value, the TSA's SM2, ECDSA or RSA signature, and a
// TSA certificate with the critical id-kp-timeStamping usage (RFC 3161
// §2.3). Certificate chains (the signer's, the TSA's) and the seal's
// validity are the caller's: package verify checks them against its trust.
//
// # License PDFs
//
// [RenderLicense] lays out a license on A4 with Chinese text in the
// embedded font (package font, subset into the PDF by go-pdf/fpdf);
// [RenderAndSign] signs it with the seal as the visible signature over the
// issuer's name, as a paper license is stamped.
//
// # What is hand-written, and why
//
// Reading PDF objects is github.com/digitorus/pdf. Three parts are ours:
// the incremental-update writer, because digitorus/pdfsign's signer builds
// its CMS with a library that has no SM2 and holds the whole file in memory
// twice (~5.7x the file size measured); the CMS builder, because gmsm's
// SignedData always writes time.Now() as signingTime while the signing time
// must be SignOptions.Time in /M, the CMS and an SES alike (its output is
// checked against gmsm's verifier in the tests); and the CMS signature
// check, because gmsm's verifier knows only the .301.1 algorithm identifier,
// wants the signed content in memory and judges certificates against the
// current time. The timestamp token is parsed by hand too (timestamp.go
// says why). digitorus/pdf trusts sizes and offsets in the file, so
// guard.go checks the cross-reference chain, object streams and trees with
// bounds before the library reads them.
package pdf
