package datadir

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/store"
)

// Signer returns the license signer of the agency (its current
// license-signer key and certificate).
func (d *Dir) Signer(agency string) (*license.Signer, error) {
	a, err := d.Agency(agency)
	if err != nil {
		return nil, err
	}
	key, err := d.AgencyKey(a.CreditCode, RoleLicenseSigner)
	if err != nil {
		return nil, err
	}
	cert, err := d.AgencyCert(a.CreditCode, RoleLicenseSigner)
	if err != nil {
		return nil, err
	}
	s, err := license.NewSigner(key, cert, a.CreditCode)
	if err != nil {
		return nil, err
	}
	s.Now = d.Now
	return s, nil
}

// IssueRequest is one license to issue.
type IssueRequest struct {
	Agency string // credit code; empty: the default agency
	license.Request
	// IdempotencyKey makes a retry safe: a second issue with the same key
	// returns the first license instead of a new one.
	IdempotencyKey string
	Operator       string
}

// Issued is the result of an issuance.
type Issued struct {
	Record  store.LicenseRecord
	License *license.License
	// Existed: the idempotency key had been used; nothing new was issued.
	Existed bool
}

// ErrIdempotencyConflict: an idempotency key already names a license with
// other content. A retry must repeat the request; a new license needs a new
// key.
var ErrIdempotencyConflict = errors.New("幂等键已用于内容不同的证照 / the idempotency key already names a license with different content; give a new key for a new license")

// IssueLicense validates, numbers, signs and stores one license, with its
// audit entry, in one transaction. The status-list index is reserved
// before signing, since the signed license carries it.
func (d *Dir) IssueLicense(ctx context.Context, r IssueRequest) (Issued, error) {
	a, err := d.Agency(r.Agency)
	if err != nil {
		return Issued{}, err
	}
	signer, err := d.Signer(a.CreditCode)
	if err != nil {
		return Issued{}, err
	}
	first, err := d.Store.ReserveStatusIndexes(ctx, a.CreditCode, 1)
	if err != nil {
		return Issued{}, err
	}
	r.Request.StatusList = a.CreditCode
	r.Request.StatusIndex = uint64(first)
	l, err := signer.Issue(r.Request)
	if err != nil {
		return Issued{}, err
	}
	rec, err := recordOf(l, a.CreditCode, r.IdempotencyKey, r.Request.Fields)
	if err != nil {
		return Issued{}, err
	}
	if r.Request.HolderKey != nil {
		if rec.HolderDeviceKey, err = license.MarshalHolderPublicKey(r.Request.HolderKey); err != nil {
			return Issued{}, err
		}
	}
	stored, existed, err := d.Store.IssueLicense(ctx, rec, store.AuditEntry{
		At: d.Now().UTC(), Actor: operatorOr(r.Operator), Action: "license.issue", Object: rec.ID, Agency: a.CreditCode,
		Detail: mustJSON(map[string]string{"type": l.Type.Key, "holder": license.MaskID(rec.HolderIDNumber)}),
	})
	if err != nil {
		return Issued{}, err
	}
	if existed {
		prev, err := license.ParseLicense(stored.Payload)
		if err != nil {
			return Issued{}, err
		}
		if !prev.SameContent(l) {
			return Issued{}, fmt.Errorf("%w: %s", ErrIdempotencyConflict, stored.ID)
		}
		l = prev
	}
	return Issued{Record: stored, License: l, Existed: existed}, nil
}

func operatorOr(op string) string {
	if op == "" {
		return "cli"
	}
	return op
}

// recordOf maps a signed license to its store record.
func recordOf(l *license.License, agency, idem string, fields map[string]string) (store.LicenseRecord, error) {
	holderName, _ := l.Value("holder_name")
	holderID, _ := l.Value("holder_id")
	number, ok := l.Value("number")
	if !ok {
		number = l.Serial
	}
	idType := strconv.FormatInt(l.Type.HolderIDType, 10)
	if v, ok := l.Value("holder_id_type"); ok {
		idType = v
	}
	fj, err := json.Marshal(fields)
	if err != nil {
		return store.LicenseRecord{}, err
	}
	rec := store.LicenseRecord{
		ID: l.ID(), AgencyID: agency, TypeCode: l.Type.Key, Number: number,
		HolderName: holderName, HolderIDType: idType, HolderIDNumber: holderID,
		Status: store.StatusValid, ValidFrom: l.ValidFrom.Time(), IssuedAt: l.SignedAt.UTC(),
		Version: l.Version, StatusListID: l.StatusList, StatusIndex: int64(l.StatusIndex), IndexReserved: true,
		Payload: l.Marshal(), Fields: fj, IdempotencyKey: idem,
	}
	if l.ValidTo != nil {
		rec.ValidTo = l.ValidTo.Time()
	}
	return rec, nil
}

// LoadLicense returns a stored license and its parsed holder copy.
func (d *Dir) LoadLicense(ctx context.Context, id string) (store.LicenseRecord, *license.License, error) {
	rec, err := d.Store.GetLicense(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return rec, nil, fmt.Errorf("no license %s here: list them with \"zhengxin license list\"", id)
		}
		return rec, nil, err
	}
	l, err := license.ParseLicense(rec.Payload)
	if err != nil {
		return rec, nil, fmt.Errorf("stored license %s: %w", id, err)
	}
	return rec, l, nil
}

// SetStatus changes a license's status with a reason, kept as history.
func (d *Dir) SetStatus(ctx context.Context, id string, to store.LicenseStatus, reason, operator string) error {
	if !to.Known() {
		return fmt.Errorf("未知状态 %q / unknown status %q: use valid, suspended (暂扣), revoked (吊销) or cancelled (注销)", to, to)
	}
	if reason == "" {
		return errors.New("变更状态须说明原因 / a status change needs a reason (--reason)")
	}
	if _, err := d.Store.GetLicense(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no license %s here: list them with \"zhengxin license list\"", id)
		}
		return err
	}
	return d.Store.SetLicenseStatus(ctx, id, to, reason, operatorOr(operator), d.Now().UTC())
}

// StatusListValidity is the next-update horizon of a published status list.
const StatusListValidity = 24 * time.Hour

// StatusList builds and signs the agency's status list from the store.
func (d *Dir) StatusList(ctx context.Context, agency string) ([]byte, error) {
	a, err := d.Agency(agency)
	if err != nil {
		return nil, err
	}
	signer, err := d.Signer(a.CreditCode)
	if err != nil {
		return nil, err
	}
	var entries []license.StatusEntry
	size := uint64(0)
	for e, err := range d.Store.StatusSnapshot(ctx, a.CreditCode) {
		if err != nil {
			return nil, err
		}
		s, err := license.ParseStatus(string(e.Status))
		if err != nil {
			return nil, err
		}
		if uint64(e.Index)+1 > size {
			size = uint64(e.Index) + 1
		}
		if s != license.StatusValid {
			entries = append(entries, license.StatusEntry{Index: uint64(e.Index), Status: s})
		}
	}
	l, err := license.BuildStatusList(a.CreditCode, a.CreditCode, size, entries)
	if err != nil {
		return nil, err
	}
	now := d.Now().UTC()
	return signer.SignStatusList(l, now, now.Add(StatusListValidity))
}

// BindHolder re-signs a license for the holder's device key (same
// identifier, version and status index; fresh salts), so its presentations
// must be signed by that device. It returns the new holder copy.
func (d *Dir) BindHolder(ctx context.Context, id string, device crypto.PublicKey, operator string) (*license.License, error) {
	rec, l, err := d.LoadLicense(ctx, id)
	if err != nil {
		return nil, err
	}
	signer, err := d.Signer(rec.AgencyID)
	if err != nil {
		return nil, err
	}
	var fields map[string]string
	if err := json.Unmarshal(rec.Fields, &fields); err != nil {
		return nil, fmt.Errorf("stored fields of %s: %w", id, err)
	}
	nl, err := signer.Issue(license.Request{Type: l.Type.Key, Fields: fields, Serial: l.Serial, Version: l.Version,
		StatusList: l.StatusList, StatusIndex: l.StatusIndex, HolderKey: device})
	if err != nil {
		return nil, err
	}
	if nl.ID() != id {
		return nil, fmt.Errorf("re-signing %s gave %s", id, nl.ID())
	}
	pub, err := license.MarshalHolderPublicKey(device)
	if err != nil {
		return nil, err
	}
	err = d.Store.BindHolderKey(ctx, id, pub, nl.Marshal(), store.AuditEntry{At: d.Now().UTC(), Actor: operatorOr(operator),
		Action: "license.bind", Object: id, Agency: rec.AgencyID, Detail: mustJSON(map[string]string{"thumbprint": fmt.Sprintf("%X", nl.HolderKey)})})
	if err != nil {
		return nil, err
	}
	return nl, nil
}
