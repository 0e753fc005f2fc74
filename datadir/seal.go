package datadir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/seal"
	"github.com/zhengxin/zhengxin/store"
)

// SealRequest is a seal to make.
type SealRequest struct {
	Agency  string // credit code; empty: the default agency
	ESID    string // empty: region code + sequence
	Name    string // empty: agency name + purpose
	Purpose string // e.g. 合同专用章; empty: 公章
	Shape   seal.Shape
	// Picture, if set, is the stamp image (PNG); otherwise it is drawn.
	Picture  []byte
	Validity time.Duration // zero: until the seal certificate expires
}

var esidPattern = regexp.MustCompile(`^[0-9A-Za-z-]{1,64}$`)

// MakeSeal makes a GB/T 38540 seal for the agency: the stamp picture, the
// agency's seal certificate as the one signer allowed, signed by its seal
// maker; writes seals/<esID>.esl, records it, and makes it the agency's
// default seal if it has none.
func (d *Dir) MakeSeal(ctx context.Context, r SealRequest) (*seal.Seal, string, error) {
	a, err := d.Agency(r.Agency)
	if err != nil {
		return nil, "", err
	}
	signerCert, err := d.AgencyCert(a.CreditCode, RoleSeal)
	if err != nil {
		return nil, "", err
	}
	makerCert, err := d.AgencyCert(a.CreditCode, RoleSealMaker)
	if err != nil {
		return nil, "", err
	}
	makerKey, err := d.AgencyKey(a.CreditCode, RoleSealMaker)
	if err != nil {
		return nil, "", err
	}
	if r.Purpose == "" {
		r.Purpose = "公章"
	}
	if r.Name == "" {
		r.Name = a.Name + r.Purpose
	}
	existing, err := d.Store.ListSeals(ctx, a.CreditCode)
	if err != nil {
		return nil, "", err
	}
	if r.ESID == "" {
		region := a.RegionCode
		if region == "" {
			region = a.CreditCode[2:8]
		}
		// Agencies of one region share the prefix: take the first
		// free number, not this agency's count.
		for n := len(existing) + 1; r.ESID == ""; n++ {
			id := fmt.Sprintf("%s%08d", region, n)
			_, err := d.Store.GetSeal(ctx, id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				r.ESID = id
			case err != nil:
				return nil, "", err
			}
		}
	}
	if !esidPattern.MatchString(r.ESID) {
		return nil, "", fmt.Errorf("seal id %q: use 1-64 letters, digits or '-'", r.ESID)
	}
	if _, err := d.Store.GetSeal(ctx, r.ESID); err == nil {
		return nil, "", fmt.Errorf("a seal with id %s exists already", r.ESID)
	}
	spec := seal.StampSpec{Shape: r.Shape, Agency: a.Name, Purpose: r.Purpose, Code: r.ESID}
	if r.Shape == seal.Square {
		spec.Agency = r.Name
	}
	pic := r.Picture
	if pic != nil {
		// The picture becomes the PDF appearance; a seal whose picture
		// does not decode verifies but can never stamp a document.
		if _, err := png.Decode(bytes.NewReader(pic)); err != nil {
			return nil, "", fmt.Errorf("the seal picture must be a PNG image: %v", err)
		}
	}
	if pic == nil {
		if pic, err = seal.RenderStamp(spec); err != nil {
			return nil, "", err
		}
	}
	w, h := spec.Size()
	now := d.Now().UTC().Truncate(time.Second)
	end := signerCert.NotAfter
	if r.Validity > 0 && now.Add(r.Validity).Before(end) {
		end = now.Add(r.Validity)
	}
	typ := seal.TypeOrganisation
	if r.Shape == seal.Square {
		typ = seal.TypePersonal
	}
	der, err := seal.MakeSeal(seal.SealSpec{
		ESID: r.ESID, Name: r.Name, Type: typ, SignerCerts: []*smx509.Certificate{signerCert},
		Picture:    seal.Picture{Type: "PNG", Data: pic, WidthMM: int(w + 0.5), HeightMM: int(h + 0.5)},
		CreateDate: now, ValidStart: now, ValidEnd: end,
	}, makerCert, makerKey)
	if err != nil {
		return nil, "", err
	}
	s, err := seal.ParseSeal(der)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(d.Path, "seals", r.ESID+".esl")
	if err := writeFileAtomic(path, der, 0o644); err != nil {
		return nil, "", err
	}
	if err := d.Store.PutSeal(ctx, store.Seal{ID: r.ESID, AgencyID: a.CreditCode, Name: r.Name, Type: fmt.Sprint(typ),
		DER: der, ValidFrom: now, ValidTo: end, CreatedAt: now}); err != nil {
		os.Remove(path)
		return nil, "", err
	}
	if _, err := d.Store.AppendAudit(ctx, store.AuditEntry{At: now, Actor: "cli", Action: "seal.make", Object: r.ESID,
		Detail: mustJSON(map[string]string{"agency": a.CreditCode, "name": r.Name}), Agency: a.CreditCode}); err != nil {
		return nil, "", err
	}
	if a.DefaultSeal == "" {
		for i := range d.Config.Agencies {
			if d.Config.Agencies[i].CreditCode == a.CreditCode {
				d.Config.Agencies[i].DefaultSeal = r.ESID
			}
		}
		if err := d.saveConfig(); err != nil {
			return nil, "", err
		}
	}
	return s, path, nil
}

// Seal returns a seal of the directory by esID, or the default agency's
// default seal when id is empty.
func (d *Dir) Seal(ctx context.Context, id string) (*seal.Seal, error) {
	if id == "" {
		a, err := d.Agency("")
		if err != nil {
			return nil, err
		}
		if a.DefaultSeal == "" {
			return nil, errors.New("the agency has no default seal: make one with \"zhengxin seal make\" or pass --seal")
		}
		id = a.DefaultSeal
	}
	rec, err := d.Store.GetSeal(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("no seal %s here: list them with \"zhengxin seal list\"", id)
		}
		return nil, err
	}
	return seal.ParseSeal(rec.DER)
}
