package capture

import (
	"runtime"
)

// tracer runs functions on one OS thread, the thread that seizes the tracees: Linux
// accepts ptrace requests about a tracee only from the thread that attached it.
type tracer struct {
	reqs chan func()
	done chan struct{}
}

func newTracer() *tracer {
	t := &tracer{reqs: make(chan func()), done: make(chan struct{})}
	go func() {
		// Never unlocked: the thread ends with the goroutine, and with it any tracee
		// left attached is detached by the kernel (exit_ptrace), never left stopped.
		runtime.LockOSThread()
		defer close(t.done)
		for f := range t.reqs {
			f()
		}
	}()
	return t
}

// do runs f on the tracer thread and waits for it.
func (t *tracer) do(f func()) {
	ch := make(chan struct{})
	t.reqs <- func() { defer close(ch); f() }
	<-ch
}

// stop ends the tracer thread.
func (t *tracer) stop() {
	close(t.reqs)
	<-t.done
}
