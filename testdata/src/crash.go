// crash.go: a Go program that dereferences a nil *T at field offset 0x60.
// Run with GOTRACEBACK=crash in the environment (testcore's catalogue
// does) so that the runtime, after printing the panic, re-raises and the
// kernel writes a core.
//
// Assert: the runtime first catches SIGSEGV (fault address 0x60) and prints
// "panic: runtime error: invalid memory address or nil pointer dereference"
// and "[signal SIGSEGV: segmentation violation code=0x1 addr=0x60 pc=...]"
// on stderr; with GOTRACEBACK=crash it then dies by SIGABRT (6), raised by
// the runtime with tgkill (SI_TKILL). The goroutine trace on stderr names
// "main.readField" at "LINE: read_field". The runtime raises SIGABRT on
// whichever thread (M) ran the panicking goroutine, so the core's first
// NT_PRSTATUS (the dumping thread) is not always the main thread; the
// number of threads varies (at least 2). Build: go build -o crash crash.go
// (statically linked with CGO_ENABLED=0).
//
//go:build ignore

package main

import (
	"fmt"
	"os"
)

// T has its field x at offset 0x60.
type T struct {
	pad [0x60]byte
	x   int64
}

var target *T

//go:noinline
func readField(p *T) int64 {
	return p.x // LINE: read_field
}

func main() {
	fmt.Println("ready")
	os.Stdout.Sync()
	fmt.Println(readField(target)) // LINE: main_calls
}
