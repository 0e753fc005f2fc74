// Package sm2verify verifies SM2 signatures (GB/T 32918.2-2016 §7) fast
// for public keys that are used again and again.
//
// # When to use it
//
// A counter checks license QR codes signed by a handful of agency
// license-signer keys, thousands of times over. Prepare each such key once
// with [NewPublicKey] and keep the [*PublicKey]; then [PublicKey.Verify],
// [PublicKey.VerifyASN1] and [PublicKey.VerifyDigest] give the same answers
// as gmsm's sm2.VerifyASN1WithSM2 / sm2.VerifyASN1 in about 0.3 of the time.
// Measured on the project's machine (AMD EPYC, Go 1.26, gmsm v0.40.0 with
// its amd64 assembly), one verification of a short message:
//
//	gmsm sm2.VerifyASN1WithSM2        ≈ 50 µs, 15 allocations
//	PublicKey.VerifyASN1 (prepared)   ≈ 14 µs, no allocation
//	NewPublicKey                      ≈ 1.9 ms; the key keeps 256 KiB
//	G's table, once per process       ≈ 1.9 ms, 256 KiB (on first use)
//
// Preparing a key costs about 40 gmsm verifications and each prepared
// verification saves ≈ 35 µs, so it pays off from about 55 verifications
// with the same key; for a key seen a few times, call gmsm. The first
// verification in a process also builds G's table. A prepared key is
// immutable and safe for concurrent use.
//
// Verify and VerifyASN1 hash with the default user ID "1234567812345678"
// (Z_A is computed once, by gmsm's sm2.CalculateZA, and kept in the key);
// for another ID, compute e = SM3(Z_A || M) yourself and call VerifyDigest.
//
// # Why it exists
//
// gmsm computes s·G + t·P with a precomputed table for the base point G,
// but with a variable-base multiplication for the public key P, which is
// most of its verification time. For a key seen repeatedly a fixed-base
// table for P, built once, removes every doubling. gmsm keeps its point
// arithmetic internal, and no library offers this for SM2, so this package
// carries its own:
//
//   - field arithmetic mod p: gmsm's copy of the fiat-crypto generated code
//     (subpackage fiat; see its README for origin and licences);
//   - Jacobian point arithmetic with mixed (Jacobian + affine) addition,
//     handling every exceptional case: accumulator at infinity, adding a
//     point to itself (doubles), adding its negative (infinity);
//   - fixed-base tables: for window i and 1 ≤ j ≤ 128, the affine point
//     j·2^(8i)·P, 32 windows × 128 points × 64 bytes = 256 KiB, converted
//     to affine with one inversion (Montgomery's trick). Scalars are
//     recoded into signed base-256 digits (a scalar above n/2 is replaced by
//     n - k and the result negated, so 32 digits always suffice), and
//     s·G + t·P costs at most 64 mixed additions and no doubling;
//   - no final inversion: x1 = X/Z² is compared with (r - e) mod n, and
//     with (r - e) mod n + n when that is below p, multiplied by Z².
//
// The window width was chosen by measurement: 8 bits for keys (7 bits:
// 148 KiB and ≈ 1 µs slower; 9 bits would exceed 256 KiB per key) and for
// G (10 bits would save ≈ 8% of a verification for an 832 KiB, 13 ms
// table; not worth it).
//
// # Not constant time
//
// The code branches on, and indexes tables by, the scalars and
// coordinates it handles. That is fine: verification handles only public
// data (the public key, the message, the signature); there is no secret
// to leak. Do not reuse this arithmetic for signing, key agreement or
// anything else that touches a private key.
//
// # The standard
//
// GB/T 32918.2-2016 §7.1 (GM/T 0003.2-2012): with n the order of G,
// reject unless r, s ∈ [1, n-1]; e = SM3(Z_A || M); t = (r + s) mod n,
// reject if t = 0; (x1, y1) = s·G + t·P, reject if it is the point at
// infinity; accept iff (e + x1) mod n = r. As in gmsm, a digest given to
// VerifyDigest is read as a big-endian integer from its leftmost 256 bits
// and reduced mod n. DER signatures are read exactly as gmsm reads them
// (cryptobyte: strict DER, non-negative minimal INTEGERs).
package sm2verify
