package server_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zhengxin/zhengxin/server"
	"github.com/zhengxin/zhengxin/store"
)

// Status indexes handed out by ReserveFrom are unique under concurrency,
// and come from the store's own counter, in blocks.
func TestReserveFromBlocks(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "z.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateAgency(ctx, store.Agency{ID: "11350100MB0000019U", Name: "A", CreditCode: "11350100MB0000019U", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	reserve := server.ReserveFrom(st)
	const workers, each = 8, 100
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				list, idx, err := reserve(ctx, "11350100MB0000019U")
				if err != nil || list != "11350100MB0000019U" {
					t.Error(list, err)
					return
				}
				mu.Lock()
				if seen[idx] {
					t.Errorf("index %d handed out twice", idx)
				}
				seen[idx] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// 800 indexes need 4 blocks of 256: the store's counter is at 1024.
	next, err := st.ReserveStatusIndexes(ctx, "11350100MB0000019U", 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64((workers*each + server.ReserveBlock - 1) / server.ReserveBlock * server.ReserveBlock); next != want {
		t.Errorf("store counter at %d, want %d", next, want)
	}
}
