// The spawn fixture of the Go kit: init waits for one goroutine and leaves another ticking.
package main

import (
	"sync/atomic"
	"time"

	"fixtures/common"
)

// Joined is 1 once the joined goroutine ran.
var Joined atomic.Int32

// Ticks counts the ticking goroutine's ticks.
var Ticks atomic.Int32

// TicksFn is ticks in the cases.
func TicksFn() int32 { return Ticks.Load() }

func init() {
	common.LogEvent("init", "fixtures.spawn")
	done := make(chan struct{})
	go func() { Joined.Store(1); close(done) }()
	<-done
	go func() {
		for {
			Ticks.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
	}()
}

func main() {}
