package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/zhengxin/zhengxin/store"
)

// StoreSeals implements Seals over store/'s seal table. Making a seal needs
// the agency's seal and maker keys, which live in the data directory, so
// Make (seal.Make with those keys) is supplied by the caller; StoreSeals
// stores what it returns and audits nothing itself (the handler does).
type StoreSeals struct {
	Store store.Store
	Make  func(ctx context.Context, agency string, req *SealRequest) (store.Seal, error)
}

var _ Seals = StoreSeals{}

func sealInfo(s *store.Seal) *SealInfo {
	return &SealInfo{ID: s.ID, Agency: s.AgencyID, Name: s.Name, Type: s.Type, ValidFrom: s.ValidFrom, ValidUntil: s.ValidTo}
}

func (ss StoreSeals) ListSeals(ctx context.Context, agency string) ([]*SealInfo, error) {
	var list []store.Seal
	var err error
	if agency == "" {
		as, aerr := ss.Store.ListAgencies(ctx)
		if aerr != nil {
			return nil, aerr
		}
		for _, a := range as {
			l, lerr := ss.Store.ListSeals(ctx, a.ID)
			if lerr != nil {
				return nil, lerr
			}
			list = append(list, l...)
		}
	} else if list, err = ss.Store.ListSeals(ctx, agency); err != nil {
		return nil, err
	}
	out := make([]*SealInfo, len(list))
	for i := range list {
		out[i] = sealInfo(&list[i])
	}
	return out, nil
}

func (ss StoreSeals) GetSeal(ctx context.Context, id string) (*SealInfo, []byte, error) {
	s, err := ss.Store.GetSeal(ctx, id)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	return sealInfo(&s), s.DER, nil
}

func (ss StoreSeals) MakeSeal(ctx context.Context, agency string, req *SealRequest) (*SealInfo, error) {
	if ss.Make == nil {
		return nil, errors.New("server: StoreSeals.Make is not set: wire seal making with the agency's keys")
	}
	s, err := ss.Make(ctx, agency, req)
	if err != nil {
		return nil, err
	}
	if s.AgencyID != agency {
		return nil, fmt.Errorf("server: made seal %s belongs to agency %q, not %q", s.ID, s.AgencyID, agency)
	}
	if err := ss.Store.PutSeal(ctx, s); err != nil {
		return nil, mapErr(err)
	}
	return sealInfo(&s), nil
}
