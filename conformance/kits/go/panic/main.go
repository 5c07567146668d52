// The panic fixture of the Go kit: its init logs itself and panics.
package main

import "fixtures/common"

// Answer returns 42.
func Answer() int32 { return 42 }

func init() {
	common.LogEvent("init", "fixtures.panic")
	panic("boom from plugin init")
}

func main() {}
