package datadir

import (
	"context"
	"fmt"

	"github.com/zhengxin/zhengxin/license"
)

// addDemoContent gives a demo directory a default seal and one sample
// license of every shipped type.
func (d *Dir) addDemoContent(ctx context.Context) error {
	if _, _, err := d.MakeSeal(ctx, SealRequest{Purpose: "电子证照专用章"}); err != nil {
		return err
	}
	a, err := d.Agency("")
	if err != nil {
		return err
	}
	for i, req := range license.SampleRequests() {
		// The demo agency issues every sample, so it is the issuing authority.
		req.Fields["issuer_name"] = a.Name
		if _, err := d.IssueLicense(ctx, IssueRequest{Request: req, IdempotencyKey: fmt.Sprintf("demo-%d", i), Operator: "demo"}); err != nil {
			return fmt.Errorf("sample %s: %w", req.Type, err)
		}
	}
	return nil
}
