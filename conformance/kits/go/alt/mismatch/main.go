// The mismatch fixture of the Go kit: built in ../ (module fixtures) whose common package
// differs from the kit's in one byte, so Go refuses it with "different version of package".
package main

import "fixtures/common"

// Answer returns 42.
func Answer() int32 { return 42 }

func init() { common.LogEvent("init", "fixtures.mismatch"+common.Version) }

func main() {}
