package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zhengxin/zhengxin/datadir"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/seal"
	"github.com/zhengxin/zhengxin/store"
	"github.com/zhengxin/zhengxin/verify"
)

// ForDataDir wires a server to an open data directory: its store, its
// trust for online verification (status from the store, replay
// protection, device bindings), issuance with the agencies' signers,
// license PDFs sealed with their default seals, seals, PDF signing,
// claim-time device binding, the published trust and status lists, and
// the pages. The directory must have its passphrase set (it signs).
//
// Certificates are read when it is called: after `zhengxin ca` changes
// (a new agency, a rotated signer), restart the server.
func ForDataDir(ctx context.Context, d *datadir.Dir) (Deps, error) {
	opts, err := d.VerifyOptions(ctx)
	if err != nil {
		return Deps{}, err
	}
	key, err := sessionKey(d.Path)
	if err != nil {
		return Deps{}, err
	}
	api := FromStore(d.Store, LicenseQRText)
	n := &node{d: d, api: api}
	return Deps{
		Store:  api,
		Verify: VerifierFor(opts),
		Issuer: &LicenseIssuer{Signer: d.Signer, Reserve: ReserveFrom(d.Store), Render: n.render},
		Published: &Publisher{Store: d.Store, Signer: d.Signer, Now: d.Now,
			TrustListFile: d.TrustListFile},
		Seals:      StoreSeals{Store: d.Store, Make: n.makeSeal},
		PDFSigner:  n,
		Binder:     n,
		Pages:      PagesHandler(PagesConfig{}),
		SessionKey: key,
		Now:        d.Now,
	}, nil
}

type node struct {
	d   *datadir.Dir
	api Store
}

func (n *node) render(ctx context.Context, l *License) ([]byte, error) {
	return n.d.LicensePDF(ctx, l.ID)
}

func (n *node) makeSeal(ctx context.Context, agency string, req *SealRequest) (store.Seal, error) {
	a, err := n.d.Agency(agency)
	if err != nil {
		return store.Seal{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	// The seal's name is the agency's name and the purpose ("某局" +
	// "行政审批专用章"); the picture shows the purpose under the star.
	r := datadir.SealRequest{Agency: a.CreditCode, Name: req.Name, Picture: req.Picture, Purpose: "公章"}
	if purpose := strings.TrimPrefix(req.Name, a.Name); req.Type != "official" && purpose != "" && utf8.RuneCountInString(purpose) <= 12 {
		r.Purpose = purpose
	}
	if req.ValidDays > 0 {
		r.Validity = time.Duration(req.ValidDays) * 24 * time.Hour
	}
	switch req.Type {
	case "oval":
		r.Shape = seal.Oval
	case "square":
		r.Shape = seal.Square
		r.Name, r.Purpose = req.Name, ""
	}
	s, _, err := n.d.MakeSeal(ctx, r)
	if err != nil {
		return store.Seal{}, err
	}
	return n.d.Store.GetSeal(ctx, s.ESID)
}

// SignPDF implements PDFSigner with the agency's seal (the default one when
// the request names none).
func (n *node) SignPDF(ctx context.Context, agency string, req *SignPDFRequest) ([]byte, error) {
	sealID := req.SealID
	if sealID == "" {
		a, err := n.d.Agency(agency)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
		}
		sealID = a.DefaultSeal
	} else if s, err := n.d.Store.GetSeal(ctx, sealID); err != nil || (agency != "" && s.AgencyID != agency) {
		return nil, fmt.Errorf("%w: seal %s", ErrNotFound, sealID)
	}
	var out bytes.Buffer
	err := n.d.SignPDF(ctx, bytes.NewReader(req.PDF), int64(len(req.PDF)), &out,
		datadir.PDFSignRequest{Seal: sealID, Page: req.Page, X: req.X, Y: req.Y})
	if err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// BindHolder implements Binder: datadir re-signs the license for the
// device key and records the binding.
func (n *node) BindHolder(ctx context.Context, id string, deviceKeyPEM []byte) (*License, error) {
	pub, err := license.ParseHolderPublicKey(deviceKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	if _, err := n.d.BindHolder(ctx, id, pub, "wallet"); err != nil {
		return nil, err
	}
	return n.api.GetLicense(ctx, id)
}

// sessionKey reads the page-session key of the data directory, making it
// on first use: every replica started on the same directory shares it, and
// logins survive a restart.
func sessionKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, "session.key")
	b, err := os.ReadFile(path)
	if err == nil && len(b) == 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, err
	}
	return b, os.Rename(tmp, path)
}

var _ verify.HolderKeySource = datadir.OnlineStatus{}
