package server

import (
	"context"
	"strconv"
	"strings"
	"sync"
)

// issueBatcher groups concurrent issuance writes (group commit). Requests
// queue while a batch is being written; when it commits, everything queued
// (up to maxBatch) becomes the next batch. There is no timer: a request
// arriving at an idle server is written at once, alone.
type issueBatcher struct {
	s   *Server
	bs  BatchLicenseStore
	max int

	mu      sync.Mutex
	pending []*issueJob
	running bool
}

type issueJob struct {
	l       *License
	key     string
	audit   *AuditEntry
	done    chan struct{}
	stored  *License
	created bool
	err     error
}

const maxIssueBatch = 500

// create writes l (through a batch when others are waiting) and returns
// what CreateLicense would.
func (b *issueBatcher) create(l *License, key string, audit *AuditEntry) (*License, bool, error) {
	j := &issueJob{l: l, key: key, audit: audit, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, j)
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
	// The write is not cancelled with the request: once queued it
	// happens, so a retry with the same Idempotency-Key finds it.
	<-j.done
	return j.stored, j.created, j.err
}

func (b *issueBatcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.pending), b.max)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		batch := b.pending[:n:n]
		b.pending = b.pending[n:]
		b.mu.Unlock()
		b.write(batch)
	}
}

func (b *issueBatcher) write(batch []*issueJob) {
	ctx := context.Background()
	defer func() {
		for _, j := range batch {
			close(j.done)
		}
	}()
	// The batch's one audit entry belongs to one agency's trail (its
	// issuers read it), so requests of several agencies (admins issue for
	// any) are written as one batch per agency, in order of arrival.
	var order []string
	byAgency := map[string][]*issueJob{}
	for _, j := range batch {
		a := j.l.Agency
		if _, ok := byAgency[a]; !ok {
			order = append(order, a)
		}
		byAgency[a] = append(byAgency[a], j)
	}
	for _, a := range order {
		b.writeAgency(ctx, a, byAgency[a])
	}
}

// writeAgency writes the jobs of one agency: in one transaction with one
// audit entry when there are several, alone otherwise.
func (b *issueBatcher) writeAgency(ctx context.Context, agency string, batch []*issueJob) {
	if len(batch) > 1 {
		ls := make([]*License, len(batch))
		keys := make([]string, len(batch))
		ids := make([]string, len(batch))
		actors := map[string]bool{}
		for i, j := range batch {
			ls[i], keys[i], ids[i] = j.l, j.key, j.l.ID
			actors[j.audit.Actor] = true
		}
		first := batch[0].audit
		audit := &AuditEntry{At: first.At, Actor: first.Actor, Action: "license.issue", Object: "batch", Agency: agency,
			Detail: map[string]string{"agency": agency, "count": strconv.Itoa(len(batch)), "ids": strings.Join(ids, ",")}}
		if len(actors) > 1 {
			audit.Actor = "multiple"
			as := make([]string, len(batch))
			for i, j := range batch {
				as[i] = j.audit.Actor
			}
			audit.Detail["actors"] = strings.Join(as, ",")
		}
		stored, created, err := b.bs.CreateLicenses(ctx, ls, keys, audit)
		if err == nil {
			for i, j := range batch {
				j.stored, j.created = stored[i], created[i]
			}
			return
		}
		// One bad row fails the whole transaction: write each alone so
		// that only the bad one fails.
		b.s.log.Warn("batch issuance failed; writing one by one", "count", len(batch), "err", err.Error())
	}
	for _, j := range batch {
		j.stored, j.created, j.err = b.s.store.CreateLicense(ctx, j.l, j.key, j.audit)
	}
}
