// The opener fixture of the Go kit: init opens the plugin named by PLUGSPEC_FIXTURE_OPEN (if
// set) with the standard plugin package and records the outcome.
package main

import (
	"os"
	"plugin"
	"sync/atomic"

	"fixtures/common"
)

// OpenResult is -1 before init tried, 0 when the open succeeded, -2 when it failed (Go's
// errors carry no kind).
var OpenResult atomic.Int32

// OpenResultFn is open_result in the cases.
func OpenResultFn() int32 { return OpenResult.Load() }

func init() {
	OpenResult.Store(-1)
	common.LogEvent("init", "fixtures.opener")
	path, ok := os.LookupEnv("PLUGSPEC_FIXTURE_OPEN")
	if !ok {
		return
	}
	if _, err := plugin.Open(path); err != nil {
		OpenResult.Store(-2)
		return
	}
	OpenResult.Store(0)
}

func main() {}
