// Package datadir is a Zhengxin deployment on disk: the data directory that
// `zhengxin init` creates and every other command opens. It ties the
// packages together — certs (keys and certificates), store (the database),
// license, seal — so that cmd/zhengxin and server stay free of logic.
//
// # Layout
//
//	D/zhengxin.json                     config: format marker, agencies, database URL, listen address
//	D/zhengxin.db                       the SQLite database (absent with PostgreSQL)
//	D/root/root-ca.pem                  the root CA certificate
//	D/root/root-ca.key                  its private key (PKCS#8, SM4-encrypted, 0600)
//	D/agencies/<code>/agency-ca.{pem,key}
//	D/agencies/<code>/license-signer.{pem,key}
//	D/agencies/<code>/seal.{pem,key}          the seal owner's signing key
//	D/agencies/<code>/seal-maker.{pem,key}    the 制章人's key
//	D/agencies/<code>/crl.pem                 the agency CA's latest CRL
//	D/seals/<esID>.esl                        GB/T 38540 seal files
//
// <code> is the agency's 18-character unified social credit code, which is
// also its id in the store. Every key file is encrypted under one
// passphrase (ZHENGXIN_PASSPHRASE or a prompt); a demo directory uses
// [DemoPassphrase] unless ZHENGXIN_PASSPHRASE is set, and says so. In a
// real deployment the root key does not stay here: see keys.example/.
//
// A directory is recognised as ours by the "format" field of
// zhengxin.json; Init refuses a non-empty directory that is not ours, and
// builds a new one in a temporary sibling that is renamed into place only
// when complete, so a failure leaves nothing half-written.
package datadir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/store"
)

// Format marks a Zhengxin data directory in zhengxin.json.
const Format = "zhengxin-datadir/1"

// ConfigFile is the name of the config file inside the data directory.
const ConfigFile = "zhengxin.json"

// DemoPassphrase protects the keys of a demo directory made without
// ZHENGXIN_PASSPHRASE. It is public: demo keys protect nothing.
const DemoPassphrase = "zhengxin-DEMO-passphrase-not-secret"

// Config is zhengxin.json.
type Config struct {
	Format string `json:"format"`
	// Demo marks a directory made by `init --demo`: its keys are DEMO keys.
	Demo bool `json:"demo,omitempty"`
	// DB is a postgres:// URL; empty means the SQLite file in the directory.
	// A password does not belong here: use PGPASSWORD or ~/.pgpass.
	DB string `json:"db,omitempty"`
	// Addr is where `serve` listens unless --addr says otherwise.
	Addr string `json:"addr,omitempty"`
	// TSA is the URL of an RFC 3161 time-stamping authority that `pdf
	// sign` and `license pdf` ask for a signature timestamp (CMS
	// signatures only); empty means none. TSAHash is the imprint's hash
	// (default SHA256; SM3 for a TSA that takes it).
	TSA     string `json:"tsa,omitempty"`
	TSAHash string `json:"tsa_hash,omitempty"`
	// DefaultAgency is the credit code of the agency commands act for when
	// none is named.
	DefaultAgency string         `json:"default_agency"`
	Agencies      []AgencyConfig `json:"agencies"`
	CreatedAt     time.Time      `json:"created_at"`
}

// AgencyConfig names an issuing agency (发证机构).
type AgencyConfig struct {
	Name       string `json:"name"`
	CreditCode string `json:"credit_code"` // 统一社会信用代码 (GB 32100)
	RegionCode string `json:"region_code,omitempty"`
	// DefaultSeal is the esID of the seal `pdf sign` uses without --seal.
	DefaultSeal string `json:"default_seal,omitempty"`
}

// Dir is an open data directory.
type Dir struct {
	Path   string
	Config Config
	Store  store.Store
	// Now is the clock for issuance and verification; tests fix it.
	Now func() time.Time

	passphrase []byte
	mu         sync.Mutex
	keys       map[string]*sm2.PrivateKey
	certs      map[string]*smx509.Certificate
}

// ErrNotDataDir is wrapped by Open for a directory that is not ours.
var ErrNotDataDir = errors.New("not a Zhengxin data directory")

// Exists reports whether path holds a Zhengxin data directory.
func Exists(path string) bool {
	_, err := readConfig(path)
	return err == nil
}

func readConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(filepath.Join(path, ConfigFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat(path); serr != nil {
				return c, fmt.Errorf("data directory %s does not exist: run \"zhengxin init --dir %s\" first", path, path)
			}
			return c, fmt.Errorf("%s: %w (no %s): run \"zhengxin init --dir\" on a new directory", path, ErrNotDataDir, ConfigFile)
		}
		return c, fmt.Errorf("reading %s: %w", ConfigFile, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %s is damaged (%v): restore it from a backup", path, ConfigFile, err)
	}
	if c.Format != Format {
		return c, fmt.Errorf("%s: %w (%s has no format %q)", path, ErrNotDataDir, ConfigFile, Format)
	}
	return c, nil
}

// OpenOptions configure Open.
type OpenOptions struct {
	// Passphrase decrypts the keys; it is needed only by operations that
	// sign, and may be nil for read-only use.
	Passphrase []byte
	// DB overrides the config's database URL (--db, ZHENGXIN_DB).
	DB  string
	Now func() time.Time
}

// Open opens the data directory at path and its database, applying
// pending migrations.
func Open(ctx context.Context, path string, o OpenOptions) (*Dir, error) {
	c, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	dsn := c.DB
	if o.DB != "" {
		dsn = o.DB
	}
	if err := checkDB(dsn); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, dsn, path)
	if err != nil {
		return nil, err
	}
	d := &Dir{Path: path, Config: c, Store: st, Now: o.Now, passphrase: o.Passphrase,
		keys: map[string]*sm2.PrivateKey{}, certs: map[string]*smx509.Certificate{}}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d, nil
}

// checkDB refuses a database URL that is neither empty (SQLite in the
// directory) nor PostgreSQL, which the store would otherwise take as
// "SQLite" without a word. Only the scheme is echoed: URLs carry passwords.
func checkDB(dsn string) error {
	if dsn == "" || store.IsPostgres(dsn) {
		return nil
	}
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok {
		scheme = "(no scheme)"
	}
	return fmt.Errorf("unsupported database URL scheme %s: use postgres://user@host:port/database, or no --db (and no ZHENGXIN_DB) for SQLite in the data directory", scheme)
}

// Close closes the database.
func (d *Dir) Close() error { return d.Store.Close() }

// SetPassphrase sets the passphrase that decrypts the keys.
func (d *Dir) SetPassphrase(p []byte) { d.passphrase = p }

// HasPassphrase reports whether a passphrase is set.
func (d *Dir) HasPassphrase() bool { return len(d.passphrase) > 0 }

func (d *Dir) saveConfig() error {
	b, err := json.MarshalIndent(d.Config, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(d.Path, ConfigFile), append(b, '\n'), 0o644)
}

// Agency returns the agency with credit code code, or the default agency
// when code is empty.
func (d *Dir) Agency(code string) (AgencyConfig, error) {
	if code == "" {
		code = d.Config.DefaultAgency
	}
	for _, a := range d.Config.Agencies {
		if a.CreditCode == code {
			return a, nil
		}
	}
	return AgencyConfig{}, fmt.Errorf("no agency with credit code %q in %s: list them with \"zhengxin ca agency list\"", code, d.Path)
}

// file names inside the directory.
func rootFile(ext string) string { return filepath.Join("root", "root-ca."+ext) }
func agencyFile(code, role, ext string) string {
	return filepath.Join("agencies", code, role+"."+ext)
}

// Roles of an agency's key pairs, which name their files.
const (
	RoleAgencyCA      = "agency-ca"
	RoleLicenseSigner = "license-signer"
	RoleSeal          = "seal"
	RoleSealMaker     = "seal-maker"
)

// Cert reads a certificate by its file name relative to the directory.
func (d *Dir) cert(rel string) (*smx509.Certificate, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.certs[rel]; c != nil {
		return c, nil
	}
	b, err := os.ReadFile(filepath.Join(d.Path, rel))
	if err != nil {
		return nil, fmt.Errorf("reading certificate %s: %w", rel, err)
	}
	c, err := certs.ParseCertificatePEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	d.certs[rel] = c
	return c, nil
}

func (d *Dir) key(rel string) (*sm2.PrivateKey, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k := d.keys[rel]; k != nil {
		return k, nil
	}
	if len(d.passphrase) == 0 {
		return nil, errors.New("this operation signs and needs the key passphrase: set ZHENGXIN_PASSPHRASE or run it in a terminal to be asked")
	}
	k, err := certs.ReadKeyFile(filepath.Join(d.Path, rel), d.passphrase)
	if err != nil {
		return nil, err
	}
	d.keys[rel] = k
	return k, nil
}

// RootCert returns the root CA certificate.
func (d *Dir) RootCert() (*smx509.Certificate, error) { return d.cert(rootFile("pem")) }

// AgencyCert returns one of an agency's certificates by role.
func (d *Dir) AgencyCert(code, role string) (*smx509.Certificate, error) {
	a, err := d.Agency(code)
	if err != nil {
		return nil, err
	}
	return d.cert(agencyFile(a.CreditCode, role, "pem"))
}

// AgencyKey returns one of an agency's private keys by role. It refuses
// the key of a revoked or expired certificate: what it signed would be
// invalid from the start.
func (d *Dir) AgencyKey(code, role string) (*sm2.PrivateKey, error) {
	a, err := d.Agency(code)
	if err != nil {
		return nil, err
	}
	if err := d.checkUsable(a.CreditCode, role); err != nil {
		return nil, err
	}
	return d.key(agencyFile(a.CreditCode, role, "key"))
}

func (d *Dir) checkUsable(code, role string) error {
	c, err := d.cert(agencyFile(code, role, "pem"))
	if err != nil {
		return err
	}
	fix := fmt.Sprintf("issue a new one with \"zhengxin ca cert issue --role %s --agency %s\"", role, code)
	if now := d.Now(); now.After(c.NotAfter) {
		return fmt.Errorf("the %s certificate of agency %s expired on %s: %s", role, code, c.NotAfter.UTC().Format(time.RFC3339), fix)
	}
	rec, err := d.Store.GetCertificate(context.Background(), serialHex(c))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !rec.RevokedAt.IsZero() {
		return fmt.Errorf("the %s certificate of agency %s was revoked on %s (%s): %s", role, code, rec.RevokedAt.UTC().Format(time.RFC3339), rec.RevocationReason, fix)
	}
	return nil
}

// Chain returns the license-signer certificate of the agency, its agency
// CA and the root, leaf first.
func (d *Dir) Chain(code string) ([]*smx509.Certificate, error) {
	return d.chainFor(code, RoleLicenseSigner)
}

func (d *Dir) chainFor(code, role string) ([]*smx509.Certificate, error) {
	leaf, err := d.AgencyCert(code, role)
	if err != nil {
		return nil, err
	}
	ca, err := d.AgencyCert(code, RoleAgencyCA)
	if err != nil {
		return nil, err
	}
	root, err := d.RootCert()
	if err != nil {
		return nil, err
	}
	return []*smx509.Certificate{leaf, ca, root}, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, synced and renamed, so a crash leaves the old file or the new
// one, never a mix.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
