// goroutines.go: a Go program with parked goroutines that then dereferences nil
// at field offset 0x60 in its main goroutine. Run with GOTRACEBACK=crash.
//
// Assert: SIGABRT (6) SI_TKILL from the runtime after the SIGSEGV at 0x60 in
// main.readField ("LINE: read_field"). Besides the main goroutine (id 1) and
// the runtime's own, three goroutines wait in main.waitOn on a channel receive
// ("LINE: chan_recv", wait reason "chan receive"), one in main.sleeper in
// time.Sleep ("LINE: sleep", "sleep") and one in main.lockOn on a locked
// sync.Mutex ("LINE: lock", "sync.Mutex.Lock"). The runtime's traceback on
// stderr lists every goroutine. Build: go build -o goroutines goroutines.go
//
//go:build ignore

package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

type T struct {
	pad [0x60]byte
	x   int64
}

//go:noinline
func waitOn(ch chan int) int {
	return <-ch // LINE: chan_recv
}

//go:noinline
func sleeper() {
	time.Sleep(time.Hour) // LINE: sleep
}

//go:noinline
func lockOn(mu *sync.Mutex) {
	mu.Lock() // LINE: lock
}

//go:noinline
func readField(p *T) int64 {
	return p.x // LINE: read_field
}

func main() {
	ch := make(chan int)
	var mu sync.Mutex
	mu.Lock()
	var started sync.WaitGroup
	run := func(f func()) {
		started.Add(1)
		go func() { started.Done(); f() }()
	}
	for i := 0; i < 3; i++ {
		run(func() { waitOn(ch) })
	}
	run(sleeper)
	run(func() { lockOn(&mu) })
	// Every goroutine has started; give each the moment it needs to reach its wait.
	started.Wait()
	time.Sleep(300 * time.Millisecond)
	fmt.Println("ready")
	os.Stdout.Sync()
	var target *T
	fmt.Println(readField(target))
}
