package license

import (
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

func resetIssuerKeys(t *testing.T) {
	t.Helper()
	ik := &issuerKeys
	ik.Lock()
	saved := maxPrepared
	ik.m, ik.prepared, ik.tick, ik.disabled = map[[64]byte]*issuerKey{}, 0, 0, false
	ik.Unlock()
	t.Cleanup(func() {
		ik.Lock()
		ik.m, ik.prepared, ik.disabled = map[[64]byte]*issuerKey{}, 0, false
		maxPrepared = saved
		ik.Unlock()
	})
}

func isPrepared(pub *ecdsa.PublicKey) bool {
	id, _ := keyID(pub)
	issuerKeys.Lock()
	defer issuerKeys.Unlock()
	e := issuerKeys.m[id]
	return e != nil && e.key != nil
}

// TestIssuerKeyPrepared: a signer key gets its table on the prepareAfter-th
// verification, and from then on good and altered licenses get the same
// answers as before (gmsm's), also against the wrong key.
func TestIssuerKeyPrepared(t *testing.T) {
	resetIssuerKeys(t)
	s, cert := testSigner(t)
	pub := cert.PublicKey.(*ecdsa.PublicKey)
	other := testKey(t, "other")
	text, err := issueSample(t, s, "business_license", nil).QRText()
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParseQR(text)
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := ParseQR(text)
	bad.signature = append([]byte(nil), bad.signature...)
	bad.signature[40] ^= 1
	for i := 1; i <= prepareAfter+3; i++ {
		if got := isPrepared(pub); got != (2*(i-1) >= prepareAfter) { // two verifications a round
			t.Fatalf("before verification %d: prepared = %v", i, got)
		}
		if err := l.VerifySignature(pub); err != nil {
			t.Fatalf("verification %d: %v", i, err)
		}
		if err := bad.VerifySignature(pub); err == nil {
			t.Fatalf("verification %d: altered signature accepted", i)
		}
		// Message and signature checked against gmsm directly.
		msg := sigStructure(l.protected, l.payload)
		if !sm2.VerifyASN1WithSM2(pub, nil, msg, rsToDER(l.signature)) || sm2.VerifyASN1WithSM2(pub, nil, msg, rsToDER(bad.signature)) {
			t.Fatal("gmsm disagrees")
		}
	}
	if err := l.VerifySignature(&other.PublicKey); err == nil {
		t.Fatal("verified with another key")
	}
}

// TestIssuerKeyEviction: no more than maxPrepared keys keep a table; the
// least recently used one loses it, and still verifies (through gmsm).
func TestIssuerKeyEviction(t *testing.T) {
	resetIssuerKeys(t)
	maxPrepared = 2
	var keys []*sm2.PrivateKey
	var msgs [][]byte
	var sigs [][]byte
	for i := 0; i < 3; i++ {
		k := testKey(t, fmt.Sprint("evict", i))
		msg := []byte{byte(i), 'z', 'x'}
		rs, err := signSM2(rand.Reader, k, msg)
		if err != nil {
			t.Fatal(err)
		}
		keys, msgs, sigs = append(keys, k), append(msgs, msg), append(sigs, rs)
	}
	use := func(i int) {
		t.Helper()
		if !verifyIssuerSig(&keys[i].PublicKey, msgs[i], sigs[i]) {
			t.Fatalf("key %d: good signature refused", i)
		}
		if verifyIssuerSig(&keys[i].PublicKey, msgs[(i+1)%3], sigs[i]) {
			t.Fatalf("key %d: signature of another message accepted", i)
		}
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < prepareAfter; j += 2 { // two verifications per use
			use(i)
		}
		use(0) // key 0 stays recently used
	}
	if !isPrepared(&keys[0].PublicKey) || isPrepared(&keys[1].PublicKey) || !isPrepared(&keys[2].PublicKey) {
		t.Errorf("prepared: %v %v %v, want key 1 evicted", isPrepared(&keys[0].PublicKey), isPrepared(&keys[1].PublicKey), isPrepared(&keys[2].PublicKey))
	}
	if issuerKeys.prepared != 2 {
		t.Errorf("%d prepared keys, limit 2", issuerKeys.prepared)
	}
	use(1)
}

// TestIssuerKeyConcurrent: many verifications at once while the key gets
// its table (run with -race): every answer right, one table built.
func TestIssuerKeyConcurrent(t *testing.T) {
	resetIssuerKeys(t)
	s, cert := testSigner(t)
	pub := cert.PublicKey.(*ecdsa.PublicKey)
	text, err := issueSample(t, s, "business_license", nil).QRText()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				l, err := ParseQR(text)
				if err == nil {
					err = l.VerifySignature(pub)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !isPrepared(pub) || issuerKeys.prepared != 1 {
		t.Errorf("prepared %v, %d tables", isPrepared(pub), issuerKeys.prepared)
	}
}
