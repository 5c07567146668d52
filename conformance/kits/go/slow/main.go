// The slow fixture of the Go kit: init takes 300 ms and sets InitDone last.
package main

import (
	"sync/atomic"
	"time"

	"fixtures/common"
)

// InitDone is 1 once init has finished.
var InitDone int32

// InitCount counts how often init ran.
var InitCount int32

// InitCountFn is init_count in the cases.
func InitCountFn() int32 { return atomic.LoadInt32(&InitCount) }

func init() {
	atomic.AddInt32(&InitCount, 1)
	common.LogEvent("init", "fixtures.slow")
	time.Sleep(300 * time.Millisecond)
	atomic.StoreInt32(&InitDone, 1)
}

func main() {}
