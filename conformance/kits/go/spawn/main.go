// The spawn fixture of the Go kit: init waits for one goroutine and leaves another ticking.
package main

import (
	"sync/atomic"
	"time"

	"fixtures/common"
)

// Joined is 1 once the joined goroutine ran.
var Joined int32

// Ticks counts the ticking goroutine's ticks.
var Ticks int32

// TicksFn is ticks in the cases.
func TicksFn() int32 { return atomic.LoadInt32(&Ticks) }

func init() {
	common.LogEvent("init", "fixtures.spawn")
	done := make(chan struct{})
	go func() { atomic.StoreInt32(&Joined, 1); close(done) }()
	<-done
	go func() {
		for {
			atomic.AddInt32(&Ticks, 1)
			time.Sleep(5 * time.Millisecond)
		}
	}()
}

func main() {}
