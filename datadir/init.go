package datadir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/store"
)

// InitOptions configure Init.
type InitOptions struct {
	Passphrase []byte
	// Demo marks the directory as a demo and adds a default seal and a
	// sample license of every shipped type.
	Demo bool
	// DB is a postgres:// URL; empty means SQLite in the directory.
	DB string
	// RootName is the root CA's subject; zero means a demo-style default.
	RootName certs.Name
	// Agency is the first issuing agency; zero means the demo agency.
	Agency AgencyConfig
	Now    time.Time
}

// DemoAgency is the agency a demo directory issues for. Its credit code is
// made up (it passes the GB 32100 check) and says DEMO in its name.
var DemoAgency = AgencyConfig{
	Name:       "演示市市场监督管理局（DEMO）",
	CreditCode: "11350100MB0000019U",
	RegionCode: "350100",
}

// Validity periods of what Init makes.
const (
	RootValidity   = 20 * 365 * 24 * time.Hour
	AgencyValidity = 10 * 365 * 24 * time.Hour
	LeafValidity   = 3 * 365 * 24 * time.Hour
)

// Init creates a data directory at path. The directory must not exist or
// be empty. Everything is built in a temporary sibling and renamed into
// place at the end, so a failure leaves no half-made directory.
func Init(ctx context.Context, path string, o InitOptions) (*Dir, error) {
	if len(o.Passphrase) == 0 {
		return nil, errors.New("a passphrase is needed to encrypt the keys: set ZHENGXIN_PASSPHRASE or run in a terminal")
	}
	if err := checkDB(o.DB); err != nil {
		return nil, err
	}
	if Exists(path) {
		return nil, fmt.Errorf("%s 已是证信数据目录 / %s is already a Zhengxin data directory: use it as it is, or choose another --dir", path, path)
	}
	if entries, err := os.ReadDir(path); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty and is not a Zhengxin data directory: choose an empty or new directory", path)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var clock func() time.Time // for the opened result: fixed only if asked
	if o.Now.IsZero() {
		o.Now = time.Now()
	} else {
		fixed := o.Now
		clock = func() time.Time { return fixed }
	}
	o.Now = o.Now.UTC().Truncate(time.Second)
	if o.Agency.CreditCode == "" {
		o.Agency = DemoAgency
	}
	if err := certs.CheckCreditCode(o.Agency.CreditCode); err != nil {
		return nil, fmt.Errorf("agency credit code: %w", err)
	}
	if o.RootName.CommonName == "" {
		o.RootName = certs.Name{CommonName: "证信根CA Zhengxin Root CA", Organization: "证信 Zhengxin"}
		if o.Demo {
			o.RootName = certs.Name{CommonName: "证信演示根CA Zhengxin DEMO Root CA", Organization: "证信 Zhengxin DEMO"}
		}
	}

	parent := filepath.Dir(filepath.Clean(path))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, ".zhengxin-init-*")
	if err != nil {
		return nil, fmt.Errorf("cannot create the data directory next to %s: %w", path, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o700); err != nil {
		return nil, err
	}

	d := &Dir{Path: tmp, passphrase: o.Passphrase, Now: func() time.Time { return o.Now },
		Config: Config{Format: Format, Demo: o.Demo, DB: o.DB, Addr: "127.0.0.1:8080", CreatedAt: o.Now}}
	d.resetCaches()

	rootKey, err := certs.GenerateKey()
	if err != nil {
		return nil, err
	}
	root, err := certs.NewRootCA(rootKey, o.RootName, o.Now, RootValidity)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(tmp, "root"), 0o700); err != nil {
		return nil, err
	}
	if err := certs.WriteKeyFile(filepath.Join(tmp, rootFile("key")), rootKey, o.Passphrase, false); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(tmp, rootFile("pem")), certs.EncodeCertificatePEM(root), 0o644); err != nil {
		return nil, err
	}
	if err := d.saveConfig(); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, o.DB, tmp)
	if err != nil {
		return nil, err
	}
	d.Store = st
	if err := d.putCert(ctx, root, "", store.RoleRoot); err != nil {
		st.Close()
		return nil, err
	}
	if _, err := d.AddAgency(ctx, o.Agency); err != nil {
		st.Close()
		return nil, err
	}
	if o.Demo {
		if err := d.addDemoContent(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("demo content: %w", err)
		}
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		// path may exist as an empty directory: replace it.
		if rerr := os.Remove(path); rerr != nil {
			return nil, fmt.Errorf("moving the new data directory into place: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("moving the new data directory into place: %w", err)
		}
	}
	ok = true
	return Open(ctx, path, OpenOptions{Passphrase: o.Passphrase, DB: o.DB, Now: clock})
}

func (d *Dir) resetCaches() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keys = map[string]*sm2.PrivateKey{}
	d.certs = map[string]*smx509.Certificate{}
}
