// Command csvgen writes n invented business-licence rows as CSV to
// standard output, for trying and measuring the bulk import:
//
//	go run ./datadir/internal/csvgen/cmd/csvgen -n 1000000 > licenses.csv
//	zhengxin license issue --csv licenses.csv --type business_license
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/zhengxin/zhengxin/datadir/internal/csvgen"
)

func main() {
	n := flag.Int64("n", 1000, "number of rows")
	seed := flag.Uint64("seed", 1, "seed: the same seed gives the same file")
	typ := flag.Bool("type-column", false, "add a type column (business_license)")
	flag.Parse()
	if err := csvgen.Write(os.Stdout, csvgen.Options{Rows: *n, Seed: *seed, TypeColumn: *typ}); err != nil {
		fmt.Fprintln(os.Stderr, "csvgen:", err)
		os.Exit(1)
	}
}
