package license

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

func TestRequestFromJSON(t *testing.T) {
	r, err := RequestFromJSON([]byte(`{"type":"营业执照","serial":"A1","fields":{"holder_name":"某某有限公司","registered_capital":500.5,"established":"2018-03-15"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "营业执照" || r.Serial != "A1" || r.Fields["registered_capital"] != "500.5" || r.Fields["holder_name"] != "某某有限公司" {
		t.Fatalf("%+v", r)
	}
	if _, err := RequestFromJSON([]byte(`{"type":"x","colour":"red"}`)); err == nil {
		t.Error("unknown key accepted")
	}
	if _, err := RequestFromJSON([]byte(`{"type":"x","fields":{"a":[1]}}`)); err == nil {
		t.Error("array value accepted")
	}
}

func TestRecord(t *testing.T) {
	s, _ := testSigner(t)
	l := issueSample(t, s, "business_license", nil)
	r := l.Record()
	if r.ID != l.ID() || r.Holder != "杭州西湖云帆信息技术有限公司" || r.HolderID != "91330106MA2B3C4D11" || r.ValidTo != "" || r.StatusList != "L1" || r.IssueDate != "2023-06-01" {
		t.Fatalf("%+v", r)
	}
}

// The wallet runs this package compiled to WebAssembly.
func TestBuildsForWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds for js/wasm")
	}
	gobin := runtime.GOROOT() + "/bin/go"
	cmd := exec.Command(gobin, "build", "-o", os.DevNull, ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build ./license: %v\n%s", err, out)
	}
}
