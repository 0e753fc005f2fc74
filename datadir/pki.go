package datadir

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/store"
)

// CRLValidity is how long a CRL is current; verifiers holding an older one
// still use it, and `zhengxin ca crl` makes a fresh one.
const CRLValidity = 7 * 24 * time.Hour

// TrustListValidity is the next-update horizon of an exported trust list.
const TrustListValidity = 30 * 24 * time.Hour

// Pool returns the trust this directory has: the root as anchor, every
// agency CA as intermediate, every other certificate findable by kid, and
// the agencies' CRLs.
func (d *Dir) Pool(ctx context.Context) (*certs.Pool, error) {
	root, err := d.RootCert()
	if err != nil {
		return nil, err
	}
	p := certs.NewPool()
	p.AddAnchor(root)
	all, err := d.Store.ListCertificates(ctx, store.CertFilter{})
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		cert, err := certs.ParseCertificate(c.DER)
		if err != nil {
			return nil, fmt.Errorf("certificate %s in the store: %w", c.Serial, err)
		}
		switch c.Role {
		case store.RoleRoot:
		case store.RoleAgencyCA:
			p.AddIntermediate(cert)
		default:
			p.AddCertificate(cert)
		}
	}
	for _, a := range d.Config.Agencies {
		b, err := os.ReadFile(filepath.Join(d.Path, agencyFile(a.CreditCode, "crl", "pem")))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		crl, err := certs.ParseCRL(b)
		if err != nil {
			return nil, fmt.Errorf("CRL of %s: %w", a.CreditCode, err)
		}
		if err := p.AddCRL(crl); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Profiles by the role names the CLI uses.
var profiles = map[string]struct {
	profile certs.Profile
	role    store.CertRole
	cn      string
}{
	RoleLicenseSigner: {certs.LicenseSigner, store.RoleLicenseSigner, "电子证照签发 License Signer"},
	RoleSeal:          {certs.SealSigner, store.RoleSeal, "电子印章 Seal"},
	RoleSealMaker:     {certs.SealMaker, store.RoleSealMaker, "制章 Seal Maker"},
}

// RoleNames lists the roles IssueCert accepts.
func RoleNames() []string {
	var n []string
	for k := range profiles {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// IssueCert issues a fresh key and certificate for one of the agency's
// roles and makes it current: the previous certificate and key move to
// agencies/<code>/archive/. The old certificate stays valid until it
// expires or is revoked, so licenses it signed keep verifying.
func (d *Dir) IssueCert(ctx context.Context, agency, role, commonName string, validity time.Duration) (*smx509.Certificate, error) {
	p, ok := profiles[role]
	if !ok {
		return nil, fmt.Errorf("unknown certificate role %q: use one of %s", role, strings.Join(RoleNames(), ", "))
	}
	a, ca, err := d.agencyCA(agency)
	if err != nil {
		return nil, err
	}
	if commonName == "" {
		commonName = a.Name + " " + p.cn
	}
	if validity <= 0 {
		validity = LeafValidity
	}
	k, err := certs.GenerateKey()
	if err != nil {
		return nil, err
	}
	c, err := ca.Issue(p.profile, &k.PublicKey, certs.Name{CommonName: commonName, Organization: a.Name, CreditCode: a.CreditCode}, d.Now().UTC(), validity)
	if err != nil {
		return nil, err
	}
	if err := d.putCert(ctx, c, a.CreditCode, p.role); err != nil {
		return nil, err
	}
	// Archive the current pair, then write the new one.
	arch := filepath.Join(d.Path, "agencies", a.CreditCode, "archive")
	if old, err := d.AgencyCert(a.CreditCode, role); err == nil {
		serial := serialHex(old)
		if err := os.MkdirAll(arch, 0o700); err != nil {
			return nil, err
		}
		for _, ext := range []string{"pem", "key"} {
			from := filepath.Join(d.Path, agencyFile(a.CreditCode, role, ext))
			if err := os.Rename(from, filepath.Join(arch, role+"-"+serial+"."+ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
	}
	if err := certs.WriteKeyFile(filepath.Join(d.Path, agencyFile(a.CreditCode, role, "key")), k, d.passphrase, true); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(d.Path, agencyFile(a.CreditCode, role, "pem")), certs.EncodeCertificatePEM(c), 0o644); err != nil {
		return nil, err
	}
	d.resetCaches()
	_, err = d.Store.AppendAudit(ctx, store.AuditEntry{At: d.Now().UTC(), Actor: "cli", Action: "cert.issue", Object: serialHex(c),
		Detail: mustJSON(map[string]string{"agency": a.CreditCode, "role": role, "subject": commonName}), Agency: a.CreditCode})
	return c, err
}

// agencyCA returns the agency and its CA: certificate and key.
func (d *Dir) agencyCA(agency string) (AgencyConfig, certs.CA, error) {
	a, err := d.Agency(agency)
	if err != nil {
		return a, certs.CA{}, err
	}
	key, err := d.AgencyKey(a.CreditCode, RoleAgencyCA)
	if err != nil {
		return a, certs.CA{}, err
	}
	cert, err := d.AgencyCert(a.CreditCode, RoleAgencyCA)
	if err != nil {
		return a, certs.CA{}, err
	}
	return a, certs.CA{Cert: cert, Key: key}, nil
}

// RevocationReasons maps the reason names the CLI accepts to RFC 5280 codes.
var RevocationReasons = map[string]int{
	"unspecified":          certs.ReasonUnspecified,
	"keyCompromise":        certs.ReasonKeyCompromise,
	"affiliationChanged":   certs.ReasonAffiliationChanged,
	"superseded":           certs.ReasonSuperseded,
	"cessationOfOperation": certs.ReasonCessationOfOperation,
	"privilegeWithdrawn":   certs.ReasonPrivilegeWithdrawn,
}

// RevokeCert revokes the certificate with the hex serial and publishes a
// new CRL for its agency.
func (d *Dir) RevokeCert(ctx context.Context, serial, reason string) error {
	if _, ok := RevocationReasons[reason]; !ok {
		var names []string
		for k := range RevocationReasons {
			names = append(names, k)
		}
		sort.Strings(names)
		return fmt.Errorf("unknown revocation reason %q: use one of %s", reason, strings.Join(names, ", "))
	}
	serial = strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(serial, ":", ""), "0x"))
	c, err := d.Store.GetCertificate(ctx, serial)
	if err != nil {
		return fmt.Errorf("certificate with serial %s: %w (list them with \"zhengxin ca cert list\")", serial, err)
	}
	if c.Role == store.RoleRoot || c.AgencyID == "" {
		return errors.New("a root certificate cannot be revoked by a CRL: withdraw it from the trust list instead")
	}
	if !c.RevokedAt.IsZero() {
		return fmt.Errorf("certificate %s was revoked already on %s", serial, c.RevokedAt.Format(time.RFC3339))
	}
	if c.Role == store.RoleAgencyCA {
		return errors.New("revoking an agency CA needs the root's CRL, which this version does not publish: remove the agency from the trust list instead")
	}
	if err := d.Store.RevokeCertificate(ctx, serial, d.Now().UTC(), reason); err != nil {
		return err
	}
	if _, err := d.WriteCRL(ctx, c.AgencyID); err != nil {
		return err
	}
	_, err = d.Store.AppendAudit(ctx, store.AuditEntry{At: d.Now().UTC(), Actor: "cli", Action: "cert.revoke", Object: serial,
		Detail: mustJSON(map[string]string{"agency": c.AgencyID, "reason": reason}), Agency: c.AgencyID})
	return err
}

// WriteCRL makes a fresh CRL for the agency CA from the store's
// revocations, writes it to agencies/<code>/crl.pem and returns its PEM.
func (d *Dir) WriteCRL(ctx context.Context, agency string) ([]byte, error) {
	a, ca, err := d.agencyCA(agency)
	if err != nil {
		return nil, err
	}
	list, err := d.Store.ListCertificates(ctx, store.CertFilter{AgencyID: a.CreditCode})
	if err != nil {
		return nil, err
	}
	var revoked []certs.Revocation
	for _, c := range list {
		if c.RevokedAt.IsZero() || c.Role == store.RoleAgencyCA {
			continue
		}
		n, ok := new(big.Int).SetString(c.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("certificate serial %q in the store is not hex", c.Serial)
		}
		revoked = append(revoked, certs.Revocation{Serial: n, At: c.RevokedAt, Reason: RevocationReasons[c.RevocationReason]})
	}
	number := uint64(1)
	path := filepath.Join(d.Path, agencyFile(a.CreditCode, "crl", "pem"))
	if b, err := os.ReadFile(path); err == nil {
		if old, err := certs.ParseCRL(b); err == nil && old.Number != nil {
			number = old.Number.Uint64() + 1
		}
	}
	now := d.Now().UTC()
	crl, err := ca.NewCRL(revoked, number, now, now.Add(CRLValidity))
	if err != nil {
		return nil, err
	}
	out := certs.EncodeCRLPEM(crl)
	return out, writeFileAtomic(path, out, 0o644)
}

// TrustList exports the signed trust list: the root, every agency CA and
// their current, unrevoked license-signer and seal certificates, signed by
// the root key, with a next update TrustListValidity ahead.
func (d *Dir) TrustList(ctx context.Context) ([]byte, error) {
	root, err := d.RootCert()
	if err != nil {
		return nil, err
	}
	rootKey, err := d.key(rootFile("key"))
	if err != nil {
		return nil, err
	}
	all, err := d.Store.ListCertificates(ctx, store.CertFilter{})
	if err != nil {
		return nil, err
	}
	now := d.Now().UTC()
	tl := &certs.TrustList{Sequence: uint64(now.Unix()), IssuedAt: now, NextUpdate: now.Add(TrustListValidity)}
	for _, c := range all {
		if !c.RevokedAt.IsZero() || now.After(c.NotAfter) {
			continue
		}
		cert, err := certs.ParseCertificate(c.DER)
		if err != nil {
			return nil, err
		}
		tl.Entries = append(tl.Entries, certs.TrustEntry{Role: certs.RoleOf(cert), Cert: cert})
	}
	return certs.SignTrustList(tl, root, rootKey)
}

// TrustListFile is what a verifier installs: the root certificate, then
// the signed trust list. "verify --trust FILE" takes the file's
// certificates as the anchors the list's signature is checked against;
// whoever installs it decides to trust that root (compare its fingerprint
// out of band).
func (d *Dir) TrustListFile(ctx context.Context) ([]byte, error) {
	b, err := d.TrustList(ctx)
	if err != nil {
		return nil, err
	}
	root, err := d.RootCert()
	if err != nil {
		return nil, err
	}
	return append(certs.EncodeCertificatePEM(root), b...), nil
}
