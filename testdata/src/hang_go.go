// hang_go.go: goroutines deadlocked ABBA on two sync.Mutex values, and two goroutines
// blocked on channels nobody serves. Goroutine A locks mu_a, then waits for mu_b at
// "LINE: a_waits"; goroutine B locks mu_b, then waits for mu_a at "LINE: b_waits";
// goroutine R waits to receive from chan_r ("LINE: recv", "chan receive"), goroutine S
// to send on chan_s ("LINE: send", "chan send"). Once every one of them is parked with
// the wait reason the test expects (read from the runtime's own traceback,
// runtime.Stack), main prints the facts and "ready", then sleeps: a sleeping goroutine
// keeps the runtime's "all goroutines are asleep" check from ending the process, so it
// hangs until the test sends SIGABRT (with GOTRACEBACK=crash the runtime then dumps
// core). The mutexes live on the heap and are reached through pointers, as in most
// programs; each is unlocked by a deferred call (mu.Lock(); defer mu.Unlock()).
//
// Assert (stdout): "mu_a 0x…", "mu_b 0x…", "chan_r 0x…", "chan_s 0x…" (a channel's
// %p is its runtime.hchan), "goid_a N", "goid_b N", "goid_r N", "goid_s N",
// "goid_main N", "pid N". The deadlock: A waits for mu_b, held by B; B waits for mu_a,
// held by A; the cycle is {goid_a -> goid_b, mu_b, mutex}, {goid_b -> goid_a, mu_a,
// mutex} (lowest goroutine id first).
//
// Arguments: "nodefer" unlocks with explicit Unlock calls instead of deferred ones (the
// holders can then not be inferred); "select" makes main block forever in select {}
// after "ready" instead of sleeping: no goroutine can run and no timer is pending, so the
// runtime's own checkdead ends the process ("fatal error: all goroutines are asleep -
// deadlock!"), dumping core with GOTRACEBACK=crash. Build: go build -o hang_go hang_go.go
//
//go:build ignore

package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

type pair struct {
	a, b sync.Mutex
}

// goid is the calling goroutine's id, from the first line of its own traceback
// ("goroutine 18 [running]:").
func goid() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := strings.Fields(string(buf))
	id, _ := strconv.ParseUint(f[1], 10, 64)
	return id
}

//go:noinline
func lockBoth(first, second *sync.Mutex, id *uint64, held *sync.WaitGroup, both *sync.WaitGroup, wait string) {
	if hasArg("nodefer") {
		lockBothNoDefer(first, second, id, held, both, wait)
		return
	}
	*id = goid()
	first.Lock()
	defer first.Unlock()
	held.Done()
	both.Wait()
	if wait == "a" {
		second.Lock() // LINE: a_waits
	} else {
		second.Lock() // LINE: b_waits
	}
	defer second.Unlock()
}

//go:noinline
func lockBothNoDefer(first, second *sync.Mutex, id *uint64, held *sync.WaitGroup, both *sync.WaitGroup, wait string) {
	*id = goid()
	first.Lock()
	held.Done()
	both.Wait()
	if wait == "a" {
		second.Lock() // LINE: a_waits_nodefer
	} else {
		second.Lock() // LINE: b_waits_nodefer
	}
	second.Unlock()
	first.Unlock()
}

func hasArg(a string) bool {
	for _, x := range os.Args[1:] {
		if x == a {
			return true
		}
	}
	return false
}

//go:noinline
func receive(ch chan int, id *uint64) int {
	*id = goid()
	return <-ch // LINE: recv
}

//go:noinline
func send(ch chan int, id *uint64) {
	*id = goid()
	ch <- 1 // LINE: send
}

// parked reports whether the runtime's traceback shows goroutine id waiting for reason.
func parked(all []byte, id uint64, reason string) bool {
	return bytes.Contains(all, []byte(fmt.Sprintf("goroutine %d [%s", id, reason)))
}

func main() {
	p := new(pair)
	chR, chS := make(chan int), make(chan int)
	var ga, gb, gr, gs uint64
	var held, both sync.WaitGroup
	held.Add(2)
	both.Add(1)
	go lockBoth(&p.a, &p.b, &ga, &held, &both, "a")
	go lockBoth(&p.b, &p.a, &gb, &held, &both, "b")
	held.Wait()
	both.Done()
	go receive(chR, &gr)
	go send(chS, &gs)
	buf := make([]byte, 1<<20)
	for i := 0; ; i++ {
		all := buf[:runtime.Stack(buf, true)]
		if parked(all, ga, "sync.Mutex.Lock") && parked(all, gb, "sync.Mutex.Lock") &&
			parked(all, gr, "chan receive") && parked(all, gs, "chan send") {
			break
		}
		if i == 20000 {
			fmt.Fprintf(os.Stderr, "the goroutines never parked:\n%s", all)
			os.Exit(3)
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("mu_a %p\nmu_b %p\nchan_r %p\nchan_s %p\n", &p.a, &p.b, chR, chS)
	fmt.Printf("goid_a %d\ngoid_b %d\ngoid_r %d\ngoid_s %d\ngoid_main %d\npid %d\nready\n", ga, gb, gr, gs, goid(), os.Getpid())
	os.Stdout.Sync()
	if hasArg("select") {
		select {} // LINE: main_selects
	}
	for {
		time.Sleep(time.Hour) // LINE: main_sleeps
	}
}
