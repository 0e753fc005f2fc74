package datadir

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/store"
)

// AddAgency creates an agency: its CA under the root (path length 0), its
// license-signer, seal and seal-maker certificates and keys, and an empty
// CRL; records the agency and certificates in the store and the audit log.
// It needs the root key.
func (d *Dir) AddAgency(ctx context.Context, a AgencyConfig) (AgencyConfig, error) {
	if err := certs.CheckCreditCode(a.CreditCode); err != nil {
		return a, fmt.Errorf("agency credit code: %w", err)
	}
	if a.Name == "" {
		return a, errors.New("the agency needs a name (--name)")
	}
	if _, err := d.Agency(a.CreditCode); err == nil {
		return a, fmt.Errorf("agency %s exists already", a.CreditCode)
	}
	rootKey, err := d.key(rootFile("key"))
	if err != nil {
		return a, err
	}
	root, err := d.RootCert()
	if err != nil {
		return a, err
	}
	now := d.Now().UTC()
	dir := filepath.Join(d.Path, "agencies", a.CreditCode)
	if _, err := os.Stat(dir); err == nil {
		return a, fmt.Errorf("%s exists but the agency is not in %s: move it away first", dir, ConfigFile)
	}
	// Build in a temporary directory, rename at the end.
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return a, err
	}
	defer os.RemoveAll(tmp)

	caKey, err := certs.GenerateKey()
	if err != nil {
		return a, err
	}
	name := certs.Name{CommonName: a.Name + " CA", Organization: a.Name, CreditCode: a.CreditCode}
	ca, err := certs.CA{Cert: root, Key: rootKey}.NewAgencyCA(&caKey.PublicKey, name, now, AgencyValidity)
	if err != nil {
		return a, err
	}
	type made struct {
		role string
		cert *smx509.Certificate
		sr   store.CertRole
	}
	all := []made{{RoleAgencyCA, ca, store.RoleAgencyCA}}
	if err := certs.WriteKeyFile(filepath.Join(tmp, RoleAgencyCA+".key"), caKey, d.passphrase, false); err != nil {
		return a, err
	}
	for _, p := range []struct {
		role    string
		profile certs.Profile
		cn      string
		sr      store.CertRole
	}{
		{RoleLicenseSigner, certs.LicenseSigner, a.Name + " 电子证照签发 License Signer", store.RoleLicenseSigner},
		{RoleSeal, certs.SealSigner, a.Name + " 电子印章 Seal", store.RoleSeal},
		{RoleSealMaker, certs.SealMaker, a.Name + " 制章 Seal Maker", store.RoleSealMaker},
	} {
		k, err := certs.GenerateKey()
		if err != nil {
			return a, err
		}
		c, err := certs.CA{Cert: ca, Key: caKey}.Issue(p.profile, &k.PublicKey, certs.Name{CommonName: p.cn, Organization: a.Name, CreditCode: a.CreditCode}, now, LeafValidity)
		if err != nil {
			return a, err
		}
		if err := certs.WriteKeyFile(filepath.Join(tmp, p.role+".key"), k, d.passphrase, false); err != nil {
			return a, err
		}
		all = append(all, made{p.role, c, p.sr})
	}
	for _, m := range all {
		if err := writeFileAtomic(filepath.Join(tmp, m.role+".pem"), certs.EncodeCertificatePEM(m.cert), 0o644); err != nil {
			return a, err
		}
	}
	crl, err := certs.CA{Cert: ca, Key: caKey}.NewCRL(nil, 1, now, now.Add(CRLValidity))
	if err != nil {
		return a, err
	}
	if err := writeFileAtomic(filepath.Join(tmp, "crl.pem"), certs.EncodeCRLPEM(crl), 0o644); err != nil {
		return a, err
	}

	// The store: agency and certificates, then the files, then the config.
	err = d.Store.CreateAgency(ctx, store.Agency{ID: a.CreditCode, Name: a.Name, CreditCode: a.CreditCode, RegionCode: a.RegionCode, CreatedAt: now})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return a, err
	}
	for _, m := range all {
		if err := d.putCert(ctx, m.cert, a.CreditCode, m.sr); err != nil {
			return a, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return a, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return a, err
	}
	d.Config.Agencies = append(d.Config.Agencies, a)
	if d.Config.DefaultAgency == "" {
		d.Config.DefaultAgency = a.CreditCode
	}
	if err := d.saveConfig(); err != nil {
		return a, err
	}
	_, err = d.Store.AppendAudit(ctx, store.AuditEntry{At: now, Actor: "cli", Action: "agency.create", Object: a.CreditCode,
		Detail: mustJSON(map[string]string{"name": a.Name}), Agency: a.CreditCode})
	return a, err
}

// serialHex is how the store, "ca cert list", the audit log and archived
// file names spell a certificate serial: the hex of its bytes, so a serial
// whose first byte is below 0x10 keeps its leading zero everywhere.
func serialHex(c *smx509.Certificate) string { return hex.EncodeToString(c.SerialNumber.Bytes()) }

func (d *Dir) putCert(ctx context.Context, c *smx509.Certificate, agency string, role store.CertRole) error {
	err := d.Store.PutCertificate(ctx, store.Certificate{
		Serial: serialHex(c), AgencyID: agency, Role: role,
		Subject: c.Subject.CommonName, NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		DER: c.Raw, KID: certs.KID(c),
	})
	if errors.Is(err, store.ErrExists) {
		return nil
	}
	return err
}
