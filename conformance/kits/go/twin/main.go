// The twin fixture of the Go kit (see ../kit.toml): functions, variables, a function-typed
// variable, and an init that counts and logs itself.
package main

import (
	"sync/atomic"

	"fixtures/common"
)

const identity = "fixtures.twin"

// Value is read and written by the host through its pointer.
var Value int32 = 1000

// Counter is an atomic variable.
var Counter atomic.Int32

// InitCount counts how often init ran in this process.
var InitCount atomic.Int32

// Hook is a function-typed variable the host may redirect.
var Hook = func() int32 { return 2 }

// Add returns a + b + 1000.
func Add(a, b int32) int32 { return a + b + 1000 }

// GetValue is the plugin's own read of Value.
func GetValue() int32 { return atomic.LoadInt32(&Value) }

// SetValue is the plugin's own write of Value.
func SetValue(v int32) { atomic.StoreInt32(&Value, v) }

// CallHook calls through Hook.
func CallHook() int32 { return Hook() }

// InitCountFn is init_count in the cases (the kit maps the name).
func InitCountFn() int32 { return InitCount.Load() }

func init() {
	InitCount.Add(1)
	common.LogEvent("init", identity)
}

func main() {}
