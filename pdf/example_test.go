package pdf_test

import (
	"fmt"
	"os"

	"github.com/zhengxin/zhengxin/pdf"
)

func ExampleVerify() {
	f, err := os.Open("testdata/good_countersigned.pdf")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	st, _ := f.Stat()
	res, err := pdf.Verify(f, st.Size())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range res.Signatures {
		ok := s.ByteRangeErr == nil && s.DigestErr == nil && s.SignatureErr == nil && s.ModifiedErr == nil
		fmt.Printf("%s revision %d/%d %s %s intact=%v whole=%v\n", s.Field, s.Revision, len(res.RevisionEnds), s.Format, s.Algorithm, ok, s.CoversWholeFile)
	}
	// Output:
	// Signature1 revision 2/3 CMS SM2-with-SM3 intact=true whole=false
	// Signature2 revision 3/3 CMS SM2-with-SM3 intact=true whole=true
}
