package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/store"
)

// Publisher implements Published from store/ and package license: the
// trust list is served as the file the operator exported, and each status
// list is built from store.StatusSnapshot, signed by the agency's license
// signer, and kept for Refresh so that every client (and CDN) sees the
// same bytes and ETag until the next rebuild.
//
// Status list identifiers are store/'s: the agency code unless a license
// names another list. A list is found through the agency of the same code.
type Publisher struct {
	Store store.Store
	// TrustList returns the signed trust list file (certs.SignTrustList).
	TrustListFile func(ctx context.Context) ([]byte, error)
	// Signer returns the agency's license signer (it signs status lists).
	Signer func(agency string) (*license.Signer, error)
	// Refresh is how long a built list is served before it is rebuilt,
	// and its Cache-Control max-age; 1 minute when zero.
	Refresh time.Duration
	// Validity is the list's next-update distance; 24 hours when zero.
	Validity time.Duration
	Now      func() time.Time

	mu    sync.Mutex
	lists map[string]*builtList
}

type builtList struct {
	body  []byte
	built time.Time
}

var _ Published = (*Publisher)(nil)

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Publisher) refresh() time.Duration {
	if p.Refresh > 0 {
		return p.Refresh
	}
	return time.Minute
}

// TrustList serves the operator's signed trust list.
func (p *Publisher) TrustList(ctx context.Context) (*Document, error) {
	if p.TrustListFile == nil {
		return nil, errors.New("server: Publisher.TrustListFile is not set: export the trust list (zhengxin ca trustlist) and wire it")
	}
	b, err := p.TrustListFile(ctx)
	if err != nil {
		return nil, err
	}
	return &Document{Body: b, ContentType: "application/json", MaxAge: p.refresh()}, nil
}

// StatusList returns the signed status list id, rebuilding it when the
// cached one is older than Refresh.
func (p *Publisher) StatusList(ctx context.Context, id string) (*Document, error) {
	now := p.now()
	p.mu.Lock()
	if b := p.lists[id]; b != nil && now.Sub(b.built) < p.refresh() {
		p.mu.Unlock()
		return &Document{Body: b.body, ContentType: "application/cose", MaxAge: p.refresh()}, nil
	}
	p.mu.Unlock()
	body, err := p.build(ctx, id, now)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.lists == nil {
		p.lists = map[string]*builtList{}
	}
	p.lists[id] = &builtList{body: body, built: now}
	p.mu.Unlock()
	return &Document{Body: body, ContentType: "application/cose", MaxAge: p.refresh()}, nil
}

func (p *Publisher) build(ctx context.Context, id string, now time.Time) ([]byte, error) {
	ag, err := p.Store.GetAgency(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("server: status list %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	signer, err := p.Signer(id)
	if err != nil {
		return nil, err
	}
	var entries []license.StatusEntry
	size := uint64(1024) // a floor, so a new agency's list does not tell how few licenses it has
	for e, err := range p.Store.StatusSnapshot(ctx, id) {
		if err != nil {
			return nil, err
		}
		if e.ListID != id {
			continue
		}
		st, err := license.ParseStatus(string(e.Status))
		if err != nil {
			return nil, err
		}
		if uint64(e.Index) >= size {
			size = (uint64(e.Index)/1024 + 1) * 1024
		}
		if st != 0 {
			entries = append(entries, license.StatusEntry{Index: uint64(e.Index), Status: st})
		}
	}
	l, err := license.BuildStatusList(ag.CreditCode, id, size, entries)
	if err != nil {
		return nil, err
	}
	validity := p.Validity
	if validity <= 0 {
		validity = 24 * time.Hour
	}
	return signer.SignStatusList(l, now, now.Add(validity))
}

// ReserveFrom returns a LicenseIssuer.Reserve function over store/: an
// index of the agency's own list (named by the agency code) per license.
// Indexes are reserved from the store in blocks of ReserveBlock and handed
// out one by one, so issuing does not pay a locked round trip to the
// database per license. Indexes of a block left when the process stops
// stay unused: a status list treats them as absent.
func ReserveFrom(st store.Store) func(ctx context.Context, agency string) (string, uint64, error) {
	r := &blockReserver{st: st, next: map[string][2]int64{}}
	return r.reserve
}

// ReserveBlock is how many status indexes ReserveFrom takes from the store
// at a time.
const ReserveBlock = 256

type blockReserver struct {
	st   store.Store
	mu   sync.Mutex
	next map[string][2]int64 // agency -> [next, end)
}

func (r *blockReserver) reserve(ctx context.Context, agency string) (string, uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.next[agency]
	if b[0] >= b[1] {
		first, err := r.st.ReserveStatusIndexes(ctx, agency, ReserveBlock)
		if err != nil {
			return "", 0, err
		}
		b = [2]int64{first, first + ReserveBlock}
	}
	idx := b[0]
	b[0]++
	r.next[agency] = b
	return agency, uint64(idx), nil
}
