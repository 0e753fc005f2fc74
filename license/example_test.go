package license_test

import (
	"fmt"

	"github.com/zhengxin/zhengxin/license"
)

func ExampleParseIdentifier() {
	id, err := license.ParseIdentifier("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U")
	fmt.Println(id.TypeCode, id.Issuer, id.Serial, id.Version, err)
	_, err = license.ParseIdentifier("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.V")
	fmt.Println(err)
	// Output:
	// 11100000000013338W011 11430000006122244L 20230000403 1 <nil>
	// license: 第73位校验位应为U / check character at position 73 should be U (ISO 7064 MOD 37,36)
}

func ExampleCheckCitizenID() {
	_, err := license.CheckCitizenID("110105194912310021")
	fmt.Println(err)
	// Output:
	// license: 第18位校验码应为X / check character at position 18 should be X (GB 11643 MOD 11-2)
}
