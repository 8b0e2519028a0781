package hangs

import (
	"fmt"
	"strings"

	"github.com/coredig/coredig/internal/arch"
)

// Wait kinds, as the JSON contract names them (threads[].waiting.kind).
const (
	KindMutex      = "mutex"
	KindRwlock     = "rwlock"
	KindCondvar    = "condvar"
	KindSemaphore  = "semaphore"
	KindFutex      = "futex"
	KindJoin       = "thread_join"
	KindGIL        = "gil"
	KindPythonLock = "python_lock"
	KindSyscall    = "syscall"
)

// Frame is one native frame of a thread, innermost first.
type Frame struct {
	Function string
	Module   string
}

// PyFrame is one Python frame of a thread, innermost first.
type PyFrame struct {
	Function, QualName, File string
	Line                     int
}

// Thread is what the caller knows of one thread.
type Thread struct {
	TID  int
	Regs []uint64 // in arch.RegNames order
	// Code holds the bytes that end at the thread's pc (at least the length of the
	// system call instruction), nil when unreadable.
	Code   []byte
	Frames []Frame
	Python []PyFrame
	// Where names the place in the program where the thread blocked, for people:
	// "lock_ab (abba.c:31)".
	Where string
	// Ident is the thread's pthread_self(), 0 when unknown.
	Ident uint64
	// PyStacks are the localsplus addresses of the thread's Python frames, innermost
	// first (python.Frame.Localsplus), where `with` blocks keep their __exit__.
	PyStacks []uint64
}

// Python is what the caller knows of a CPython interpreter in the process.
type Python struct {
	// GILHolder is the tid of the thread holding the GIL, 0 when none or unknown.
	GILHolder int
	// Interpreter reports whether a module is CPython's (the python executable or
	// libpython), to tell the eval loop from a native call.
	Interpreter func(module string) bool
	// DropRequest is the GIL drop request a waiter sets (gil_drop_request, or the
	// eval_breaker bit), nil when unknown.
	DropRequest *bool
}

// Process is the input of Explain.
type Process struct {
	Arch    *arch.Arch
	Mem     Memory
	Threads []Thread
	Python  *Python // nil without CPython
	// Descriptors says what each file descriptor is ("pipe:[123] (read end)"), from
	// the note of a snapshot coredig took; nil when unknown.
	Descriptors map[int]string
}

// Wait is what one thread waits for.
type Wait struct {
	Kind       string
	Address    uint64
	HasAddress bool
	// OwnerTID is the thread holding what it waits for, 0 when there is none or it is
	// unknown; OwnerOutside says that tid is no thread of this process.
	OwnerTID     int
	OwnerOutside bool
	// OwnerDied: a robust mutex's FUTEX_OWNER_DIED bit.
	OwnerDied bool
	// Shared: a process-shared lock, whose owner may live in another process.
	Shared  bool
	Syscall *Syscall
	// Call is the call as strace would show it.
	Call string
	// External says what outside the process the thread waits for ("input on fd 3",
	// "a child process", "time"), "" when it waits for something inside.
	External string
	Detail   string
	// Where is Thread.Where.
	Where string
	// plainPyLock marks a wait for a threading.Lock, whose holder only a `with` block
	// on some thread's value stack can name.
	plainPyLock bool
	// pyWait is the threading or queue call the thread waits in, notify whether it
	// waits for a notification (pyWaitFrame).
	pyWait string
	notify bool
}

// maxWaitFrames is how deep in a stack the frames that name a wait are looked for.
const maxWaitFrames = 16

// trimName strips what compilers and glibc add around a function's name: leading
// underscores, "@GLIBC…" versions, and the 64-bit time suffix ("…_common64").
func trimName(s string) string {
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimLeft(s, "_")
	s = strings.TrimPrefix(s, "GI_")
	s = strings.TrimLeft(s, "_")
	return strings.TrimSuffix(s, "64")
}

// frameIndex returns the index of the first frame (innermost first) whose trimmed name
// starts with one of prefixes, or -1.
func frameIndex(frames []Frame, prefixes ...string) int {
	for i, f := range frames {
		if i >= maxWaitFrames {
			break
		}
		n := trimName(f.Function)
		for _, p := range prefixes {
			if strings.HasPrefix(n, p) {
				return i
			}
		}
	}
	return -1
}

// gilLoop is the wait of a thread that is on the CPU inside take_gil: between two of its
// timed waits (5 ms each), or taking the GIL's mutex, it still waits for the GIL, and a
// snapshot of a loaded machine often catches a waiter there. nil for any other running
// thread, and for the holder itself (just through take_gil).
func gilLoop(p *Process, t *Thread) *Wait {
	if frameIndex(t.Frames, "take_gil") < 0 || p.Python != nil && p.Python.GILHolder == t.TID {
		return nil
	}
	w := &Wait{Kind: KindGIL, Where: t.Where, Detail: "take_gil: waiting for the GIL (running its wait loop)"}
	if p.Python != nil && p.Python.GILHolder != 0 {
		w.OwnerTID = p.Python.GILHolder
		w.Detail += fmt.Sprintf(", held by thread %d", w.OwnerTID)
	}
	return w
}

// classify says what thread t waits for, or nil when it is neither blocked in a system
// call nor in take_gil's loop.
func classify(p *Process, t *Thread, isThread func(int) bool, idents map[uint64]int) *Wait {
	sc, ok := SyscallOf(p.Arch, t.Regs, t.Code)
	if !ok {
		return gilLoop(p, t)
	}
	sc.Restart(t.Frames)
	w := &Wait{Syscall: &sc, Call: sc.DescribeMem(p.Arch, p.Mem), Where: t.Where}
	addr, cmd, isFutex := sc.FutexWait()
	if !isFutex {
		if sc.Name == "futex" || sc.Name == "sched_yield" {
			return nil // a wake or requeue does not block
		}
		w.Kind = KindSyscall
		w.External = sc.external()
		if fd := sc.fd(); fd >= 0 {
			w.External += fmt.Sprintf(" on fd %d", fd)
		}
		if w.External == "" {
			w.External = "the kernel"
		}
		w.Detail = fmt.Sprintf("blocked in %s, waiting for %s", w.Call, w.External)
		if sc.Restarted {
			w.Detail += " (resumed as restart_syscall after a stop; the call named by " + t.Frames[0].Function + ")"
		}
		if fds := describeFDs(p, sc); fds != "" {
			w.Detail += "; " + fds
		}
		return w
	}
	w.Kind, w.Address, w.HasAddress = KindFutex, addr, true
	frames := t.Frames
	switch {
	case frameIndex(frames, "take_gil") >= 0:
		w.Kind, w.HasAddress = KindGIL, false
		w.Detail = "take_gil: waiting for the GIL"
		if p.Python != nil && p.Python.GILHolder != 0 {
			w.OwnerTID = p.Python.GILHolder
			w.Detail += fmt.Sprintf(", held by thread %d", w.OwnerTID)
		}
		return w
	case frameIndex(frames, "PyThread_acquire_lock", "acquire_timed", "lock_PyThread_acquire_lock", "rlock_acquire", "PyMutex_Lock", "PyMutex_LockTimed") >= 0:
		pythonLock(p, t, w, idents)
		return w
	case frameIndex(frames, "pthread_join", "pthread_clockjoin", "pthread_timedjoin", "pthread_tryjoin") >= 0:
		// The joiner sleeps on the joined thread's tid word (struct pthread.tid), which
		// the kernel clears when that thread exits (CLONE_CHILD_CLEARTID).
		w.Kind = KindJoin
		w.Detail = "pthread_join: waiting for a thread to exit"
		if tid, err := readU32(p, addr); err == nil && tid != 0 && int(tid) <= maxPlausibleTID {
			w.OwnerTID = int(tid)
			w.Detail = fmt.Sprintf("pthread_join: waiting for thread %d to exit", tid)
		}
		return w
	}
	i := frameIndex(frames, "lll_lock_wait", "pthread_mutex_", "pthread_rwlock_", "pthread_cond_", "sem_wait", "sem_timedwait", "sem_clockwait", "new_sem_wait", "do_futex_wait")
	prim := ""
	if i >= 0 {
		prim = trimName(frames[i].Function)
	}
	switch {
	case strings.HasPrefix(prim, "lll_lock_wait"):
		if frameIndex(frames[i:], "pthread_mutex_", "mutex_cond_lock", "pthread_cond_") < 0 {
			w.Detail = fmt.Sprintf("a glibc internal lock (__lll_lock_wait, %s)", FutexOpName(sc.Args[1]))
			return w
		}
		mutexWait(p, w, isThread)
	case strings.HasPrefix(prim, "pthread_mutex_"):
		if parkedPI(p, t, w, cmd, sc, isThread) {
			return w
		}
		mutexWait(p, w, isThread)
	case strings.HasPrefix(prim, "pthread_rwlock_"):
		rwlockWait(p, w, isThread, prim)
	case strings.HasPrefix(prim, "pthread_cond_"):
		w.Kind = KindCondvar
		w.Detail = "a condition variable: no thread owns it; it waits to be signalled (the mutex it released is not recorded in the condition variable)"
	case prim != "":
		w.Kind = KindSemaphore
		w.Detail = "a semaphore: no thread owns it; it waits for a sem_post"
	case cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2:
		// A priority-inheriting lock's word is the owner's tid, whatever wraps it.
		if v, err := readU32(p, addr); err == nil {
			w.OwnerTID = int(v & FUTEX_TID_MASK)
			w.OwnerDied = v&FUTEX_OWNER_DIED != 0
			w.OwnerOutside = w.OwnerTID != 0 && !isThread(w.OwnerTID)
			w.Detail = fmt.Sprintf("a priority-inheriting futex, word %#x", v)
		}
	default:
		w.Detail = fmt.Sprintf("a futex (%s) with no known lock around it", FutexOpName(sc.Args[1]))
	}
	return w
}

func readU32(p *Process, addr uint64) (uint32, error) {
	var b [4]byte
	if err := read(p.Mem, b[:], addr, "futex word"); err != nil {
		return 0, err
	}
	return p.Arch.ByteOrder.Uint32(b[:]), nil
}

// mutexWait fills w for a wait on the pthread mutex whose __lock is w.Address.
func mutexWait(p *Process, w *Wait, isThread func(int) bool) {
	w.Kind = KindMutex
	m, err := ReadMutex(p.Arch, p.Mem, w.Address-uint64(p.Arch.Pthread.MutexLock))
	if err != nil {
		w.Detail = "pthread mutex, unreadable: " + err.Error()
		return
	}
	if !m.Plausible() {
		w.Kind = KindFutex
		w.Detail = "a futex in a mutex-locking function whose words are no pthread mutex: " + m.Describe()
		return
	}
	w.Address = m.Addr
	w.OwnerTID = m.OwnerTID()
	w.OwnerDied = m.OwnerDied()
	w.Shared = m.Shared()
	w.OwnerOutside = w.OwnerTID != 0 && !isThread(w.OwnerTID)
	w.Detail = m.Describe()
}

// rwlockWait fills w for a wait on the rwlock one of whose futex words is w.Address.
func rwlockWait(p *Process, w *Wait, isThread func(int) bool, fn string) {
	w.Kind = KindRwlock
	rw, ok := FindRwlock(p.Arch, p.Mem, w.Address, isThread)
	if !ok {
		w.Detail = "a pthread rwlock whose words could not be read"
		return
	}
	w.Address = rw.Addr
	w.OwnerTID = int(rw.CurWriter)
	w.OwnerOutside = w.OwnerTID != 0 && !isThread(w.OwnerTID)
	want := "to read"
	if strings.Contains(fn, "wrlock") {
		want = "to write"
	}
	w.Detail = fmt.Sprintf("pthread rwlock (%s), waiting %s; __cur_writer %d, %d readers", fn, want, rw.CurWriter, rw.ReaderCount())
	if rw.CurWriter == 0 && rw.ReaderCount() > 0 {
		w.Detail += " (readers are not recorded by thread)"
	}
}

// pythonLock fills w for a thread in a threading lock's acquire.
func pythonLock(p *Process, t *Thread, w *Wait, idents map[uint64]int) {
	w.Kind = KindPythonLock
	w.Detail = "a threading lock"
	chain, notify := pyWaitFrame(t.Python)
	w.pyWait, w.notify = chain, notify
	if chain != "" {
		w.Detail += ", in " + chain
	}
	sp := uint64(0)
	if p.Arch.SP < len(t.Regs) {
		sp = t.Regs[p.Arch.SP]
	}
	l, ok := FindPyLock(p.Arch, p.Mem, sp, w.Address)
	if !ok {
		w.Detail += fmt.Sprintf(" (the lock object was not found; its semaphore is at %#x)", w.Address)
		return
	}
	w.Address = l.Addr
	if !l.RLock() {
		w.plainPyLock = true
		w.Detail = fmt.Sprintf("threading.Lock at %#x: a Lock records no owner", l.Addr)
		if notify {
			w.Detail = fmt.Sprintf("waits to be notified: the Condition's waiter lock at %#x is released by notify(), no thread holds it", l.Addr)
		}
		if chain != "" {
			w.Detail += "; in " + chain
		}
		return
	}
	w.Detail = fmt.Sprintf("threading.RLock at %#x, rlock_owner %#x, rlock_count %d", l.Addr, l.Owner, l.Count)
	if l.Owner != 0 {
		if tid, ok := idents[l.Owner]; ok {
			w.OwnerTID = tid
		} else if len(idents) > 0 {
			w.OwnerOutside = true
			w.Detail += " (the owner ident is no thread of this process)"
		}
	}
}

// pyWaitFrame names the Python frames of the threading and queue modules the thread
// waits in, innermost first, when its innermost frame is one: "Condition.wait
// (threading.py:355) <- Event.wait (threading.py:629)"; notify says the wait is for a
// notification (Condition.wait, which Event, Barrier and queue.Queue use): its lock is
// the waiter lock that notify() releases, which no thread holds.
func pyWaitFrame(frames []PyFrame) (chain string, notify bool) {
	var parts []string
	for i, f := range frames {
		base := f.File[strings.LastIndexByte(f.File, '/')+1:]
		if i >= 4 || base != "threading.py" && base != "queue.py" {
			break
		}
		name := f.QualName
		if name == "" {
			name = f.Function
		}
		if i == 0 && (name == "Condition.wait" || name == "wait" && base == "threading.py") {
			notify = true
		}
		parts = append(parts, fmt.Sprintf("%s (%s:%d)", name, base, f.Line))
	}
	return strings.Join(parts, " <- "), notify
}

// maxParkedScan bounds the stack words searched for the mutex of a parked PI lock.
const maxParkedScan = 512

// parkedPI recognises glibc's answer to a priority-inheriting lock the kernel refused
// (nptl/pthread_mutex_lock.c __pthread_mutex_lock_full: FUTEX_LOCK_PI returned EDEADLK, a
// deadlock the kernel's PI chain walk found, or ESRCH, an owner that died): the thread
// then waits forever on a zero word of its own stack. The mutex it wanted is looked for
// among its registers and the first words of its stack: a priority-inheriting mutex
// owned by another thread of the process.
func parkedPI(p *Process, t *Thread, w *Wait, cmd int, sc Syscall, isThread func(int) bool) bool {
	if cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET || uint32(sc.Args[2]) != 0 || p.Arch.SP >= len(t.Regs) {
		return false
	}
	sp := t.Regs[p.Arch.SP]
	if w.Address < sp || w.Address-sp > 1<<16 {
		return false
	}
	note := "glibc parks this thread forever: the kernel refused its priority-inheriting lock (EDEADLK, a deadlock its PI chain walk found, or ESRCH, an owner that died)"
	ws := uint64(p.Arch.PtrSize)
	buf := make([]byte, maxParkedScan*ws)
	n, _ := p.Mem.ReadAt(buf, sp)
	// The registers first (a callee-saved one may still hold the mutex), then the stack.
	cands := append([]uint64(nil), t.Regs...)
	for i := 0; i+int(ws) <= n; i += int(ws) {
		cands = append(cands, p.Arch.Word(buf[i:]))
	}
	// Optimised code may keep a pointer to one of the mutex's fields instead of to it.
	pl := p.Arch.Pthread
	fields := []int{0, pl.MutexLock, pl.MutexCount, pl.MutexOwner, pl.MutexKind}
	for _, c := range cands {
		if c == 0 || c%4 != 0 || !p.Arch.Canonical(c) {
			continue
		}
		a, ok := uint64(0), false
		for _, off := range fields {
			if uint64(off) > c {
				continue
			}
			base := c - uint64(off)
			if base == w.Address {
				continue
			}
			m, err := ReadMutex(p.Arch, p.Mem, base)
			if err != nil || !m.Plausible() || m.Kind&PTHREAD_MUTEX_PRIO_INHERIT_NP == 0 {
				continue
			}
			if o := m.OwnerTID(); o == 0 || o == t.TID || !isThread(o) {
				continue
			}
			a, ok = base, true
			break
		}
		if !ok {
			continue
		}
		w.Address = a
		mutexWait(p, w, isThread)
		w.Detail += "; " + note + "; the mutex was found in its registers or on its stack"
		return true
	}
	w.Kind = KindMutex
	w.Detail = note + "; the mutex it wanted was not found in its registers or on its stack"
	return true
}

// maxPollFDs bounds the pollfd entries of a poll read to describe its descriptors.
const maxPollFDs = 16

// describeFDs says what the descriptors a call waits on are, from p.Descriptors:
// "fd 3 is pipe:[123] (read end)"; for poll and ppoll, those of its pollfd array
// (struct pollfd { int fd; short events, revents; }, 8 bytes). "" when unknown.
func describeFDs(p *Process, sc Syscall) string {
	if len(p.Descriptors) == 0 || sc.Arg0Lost {
		return ""
	}
	var fds []int
	switch sc.Name {
	case "poll", "ppoll":
		n := min(sc.Args[1], maxPollFDs)
		buf := make([]byte, 8*n)
		got, _ := p.Mem.ReadAt(buf, sc.Args[0])
		for i := 0; i+8 <= got; i += 8 {
			fds = append(fds, int(int32(p.Arch.ByteOrder.Uint32(buf[i:]))))
		}
	default:
		if fd := sc.fd(); fd >= 0 {
			fds = append(fds, fd)
		}
	}
	var parts []string
	for _, fd := range fds {
		if d, ok := p.Descriptors[fd]; ok {
			parts = append(parts, fmt.Sprintf("fd %d is %s", fd, d))
		}
	}
	return strings.Join(parts, ", ")
}
