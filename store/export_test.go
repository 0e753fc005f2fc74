package store

import "sort"

// MigrationSteps names the migrations that have a Go step, for tests.
func MigrationSteps() []string {
	var out []string
	for name := range goSteps {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
