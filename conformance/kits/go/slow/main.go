// The slow fixture of the Go kit: init takes 100 ms and sets InitDone last.
package main

import (
	"sync/atomic"
	"time"

	"fixtures/common"
)

// InitDone is 1 once init has finished.
var InitDone atomic.Int32

// InitCount counts how often init ran.
var InitCount atomic.Int32

// InitCountFn is init_count in the cases.
func InitCountFn() int32 { return InitCount.Load() }

func init() {
	InitCount.Add(1)
	common.LogEvent("init", "fixtures.slow")
	time.Sleep(100 * time.Millisecond)
	InitDone.Store(1)
}

func main() {}
