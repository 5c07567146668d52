// The mismatch-two fixture of the Go kit: built in ../ (module fixtures), whose common and
// extra packages each differ from the kit's in one byte, so it differs from the host in two
// shared packages; Go refuses it with "different version of package", naming one of them.
package main

import (
	"fixtures/common"
	"fixtures/extra"
)

// Answer returns 42.
func Answer() int32 { return 42 }

func init() {
	common.LogEvent("init", "fixtures.mismatch-two"+common.Version+extra.Version)
}

func main() {}
