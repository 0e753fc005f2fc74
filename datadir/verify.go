package datadir

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/store"
	"github.com/zhengxin/zhengxin/verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

// OnlineStatus answers license status from the store: the information is
// current, so its age is zero.
type OnlineStatus struct {
	Store store.Store
	Now   func() time.Time
}

// LicenseStatus implements verify.StatusSource.
func (o OnlineStatus) LicenseStatus(ctx context.Context, id, listID string, index uint64) (string, time.Time, error) {
	rec, err := o.Store.GetLicense(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", time.Time{}, report.Errorf(report.StatusUnavailable, "license %s is not in this register; verify it where it was issued or with the issuer's status list", id)
	}
	if err != nil {
		return "", time.Time{}, report.Errorf(report.TryLater, "reading the status of %s: %v", id, err)
	}
	return string(rec.Status), o.Now(), nil
}

// HolderThumbprint implements verify.HolderKeySource: the device the
// license is bound to now, from the store.
func (o OnlineStatus) HolderThumbprint(ctx context.Context, id string) ([]byte, error) {
	rec, err := o.Store.GetLicense(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // not ours: the status check reports it
	}
	if err != nil {
		return nil, report.Errorf(report.TryLater, "reading the holder binding of %s: %v", id, err)
	}
	if len(rec.HolderDeviceKey) == 0 {
		return nil, nil
	}
	pub, err := license.ParseHolderPublicKey(rec.HolderDeviceKey)
	if err != nil {
		return nil, fmt.Errorf("stored device key of %s: %w", id, err)
	}
	return license.Thumbprint(pub)
}

// VerifyOptions returns what an online verifier at this directory uses:
// the directory's trust, status from the store, replay protection in the
// store.
func (d *Dir) VerifyOptions(ctx context.Context) (verify.Options, error) {
	pool, err := d.Pool(ctx)
	if err != nil {
		return verify.Options{}, err
	}
	pool.SetClock(d.Now)
	return verify.Options{
		Trust:  pool,
		Status: OnlineStatus{Store: d.Store, Now: d.Now},
		Nonces: store.Nonces{Store: d.Store, Now: d.Now},
		Now:    d.Now,
	}, nil
}
