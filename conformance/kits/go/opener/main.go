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
var OpenResult int32 = -1

// OpenResultFn is open_result in the cases.
func OpenResultFn() int32 { return atomic.LoadInt32(&OpenResult) }

func init() {
	common.LogEvent("init", "fixtures.opener")
	path, ok := os.LookupEnv("PLUGSPEC_FIXTURE_OPEN")
	if !ok {
		return
	}
	if _, err := plugin.Open(path); err != nil {
		atomic.StoreInt32(&OpenResult, -2)
		return
	}
	atomic.StoreInt32(&OpenResult, 0)
}

func main() {}
