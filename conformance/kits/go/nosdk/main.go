// The nosdk fixture of the Go kit: a Go shared library that is not a plugin
// (-buildmode=c-shared).
package main

import "C"

//export Answer
func Answer() int32 { return 42 }

func main() {}
