package hangs

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// fakeMem is process memory made of regions at fixed addresses.
type fakeMem map[uint64][]byte

var errUnmapped = errors.New("unmapped")

func (m fakeMem) ReadAt(p []byte, addr uint64) (int, error) {
	for base, b := range m {
		if addr >= base && addr-base < uint64(len(b)) {
			n := copy(p, b[addr-base:])
			if n < len(p) {
				return n, errUnmapped
			}
			return n, nil
		}
	}
	return 0, errUnmapped
}

const (
	dataBase  = 0x10000
	stackBase = 0x70000
)

// regs returns x86_64 registers for a thread blocked in call nr with args.
func regs(nr uint64, args ...uint64) []uint64 {
	a := arch.AMD64
	r := make([]uint64, len(a.RegNames))
	r[a.Reg("orig_rax")] = nr
	r[a.Reg("rax")] = uint64(^uint64(511)) // -ERESTARTSYS
	r[a.Reg("rip")] = 0x401002
	r[a.Reg("rsp")] = stackBase
	for i, v := range args {
		r[a.Reg(a.Syscall.Args[i])] = v
	}
	return r
}

var syscallInst = []byte{0x0f, 0x05}

func mutexFrames(fn string) []Frame {
	return []Frame{{Function: "__lll_lock_wait", Module: "/lib/libc.so.6"},
		{Function: "___pthread_mutex_lock", Module: "/lib/libc.so.6"}, {Function: fn, Module: "/bin/prog"}}
}

// putMutex writes a pthread_mutex_t at off of b.
func putMutex(b []byte, off int, lock, owner, kind uint32) {
	le := binary.LittleEndian
	le.PutUint32(b[off:], lock)
	le.PutUint32(b[off+8:], owner)
	le.PutUint32(b[off+16:], kind)
}

func TestSyscallOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    *arch.Arch
		code []byte
		nr   uint64
		want string
		ok   bool
	}{
		{"x86_64 futex", arch.AMD64, []byte{0x90, 0x0f, 0x05}, 202, "futex", true},
		{"x86_64 not after syscall", arch.AMD64, []byte{0x0f, 0x05, 0x90}, 202, "", false},
		{"x86_64 unknown number", arch.AMD64, syscallInst, 9999, "", false},
		{"x86_64 orig_rax -1", arch.AMD64, syscallInst, ^uint64(0), "", false},
		{"x86_64 returned", arch.AMD64, syscallInst, 1001, "", false},
		{"aarch64 futex", arch.ARM64, []byte{0x01, 0x00, 0x00, 0xd4}, 98, "futex", true},
		{"aarch64 read", arch.ARM64, []byte{0x01, 0x00, 0x00, 0xd4}, 63, "read", true},
		{"i386 futex", arch.I386, []byte{0x90, 0xcd, 0x80}, 240, "futex", true},
		{"i386 futex_time64", arch.I386, []byte{0xcd, 0x80}, 422, "futex", true},
		{"i386 read", arch.I386, []byte{0xcd, 0x80}, 3, "read", true},
		{"i386 not after int 0x80", arch.I386, []byte{0x0f, 0x05}, 240, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := make([]uint64, len(tc.a.RegNames))
			r[tc.a.Reg(tc.a.Syscall.Nr)] = tc.nr
			r[tc.a.Reg(tc.a.Syscall.Ret)] = ^uint64(511) // -ERESTARTSYS
			if tc.a.PtrSize == 4 {
				r[tc.a.Reg(tc.a.Syscall.Ret)] = 0xfffffe00 // as a 32-bit eax holds it
			}
			if tc.nr == 1001 {
				r[tc.a.Reg(tc.a.Syscall.Nr)], r[tc.a.Reg(tc.a.Syscall.Ret)] = 1, 6 // write returned 6
			}
			s, ok := SyscallOf(tc.a, r, tc.code)
			if ok != tc.ok || s.Name != tc.want {
				t.Errorf("got %q %v, want %q %v", s.Name, ok, tc.want, tc.ok)
			}
			if ok && tc.a == arch.ARM64 && !s.Arg0Lost {
				t.Errorf("aarch64: x0 holds the result, so the first argument must be marked lost")
			}
		})
	}
}

// TestTimeout32: an i386 call's struct timespec has 32-bit fields, except in the *_time64
// calls; the futex timeout argument (esi) points at it.
func TestTimeout32(t *testing.T) {
	a := arch.I386
	for _, tc := range []struct {
		nr   int
		ts   []byte
		want string
	}{
		{240, []byte{5, 0, 0, 0, 0x40, 0x42, 0x0f, 0}, "futex(0x1000, FUTEX_WAIT_PRIVATE, 2, {tv_sec=5, tv_nsec=1000000})"},
		{422, []byte{7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, "futex(0x1000, FUTEX_WAIT_PRIVATE, 2, {tv_sec=7, tv_nsec=1})"},
	} {
		m := fakeMem{0x2000: tc.ts}
		s := Syscall{Nr: tc.nr, Name: "futex", Args: [6]uint64{0x1000, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 2, 0x2000}}
		if got := s.DescribeMem(a, m); got != tc.want {
			t.Errorf("nr %d: %s, want %s", tc.nr, got, tc.want)
		}
	}
}

func TestFutexOpName(t *testing.T) {
	for op, want := range map[uint64]string{
		0: "FUTEX_WAIT", 128: "FUTEX_WAIT_PRIVATE", 9 | 128 | 256: "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME",
		6: "FUTEX_LOCK_PI", 99: "0x63",
	} {
		if got := FutexOpName(op); got != want {
			t.Errorf("FutexOpName(%d) = %q, want %q", op, got, want)
		}
	}
}

func TestMutex(t *testing.T) {
	for _, tc := range []struct {
		name              string
		lock, owner, kind uint32
		tid               int
		died, shared      bool
		kindName          string
	}{
		{"normal locked", 2, 101, 0, 101, false, false, "normal"},
		{"normal free", 0, 0, 0, 0, false, false, "normal"},
		{"recursive", 1, 7, 1, 7, false, false, "recursive"},
		{"errorcheck", 2, 9, 2, 9, false, false, "errorcheck"},
		{"robust owner in word", FUTEX_WAITERS | 55, 55, 16 | 128, 55, false, false, "robust normal"},
		{"robust owner died", FUTEX_OWNER_DIED | FUTEX_WAITERS, PTHREAD_MUTEX_INCONSISTENT, 16 | 128, 0, true, false, "robust normal"},
		{"pi", 77, 77, 32, 77, false, false, "priority-inheriting normal"},
		{"pshared", 2, 88, 128, 88, false, true, "process-shared normal"},
		{"pp", 1, 5, 64, 5, false, false, "priority-protected normal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, 64)
			putMutex(b, 0, tc.lock, tc.owner, tc.kind)
			m, err := ReadMutex(arch.AMD64, fakeMem{dataBase: b}, dataBase)
			if err != nil {
				t.Fatal(err)
			}
			if m.OwnerTID() != tc.tid || m.OwnerDied() != tc.died || m.Shared() != tc.shared || m.KindName() != tc.kindName || !m.Plausible() {
				t.Errorf("%+v: owner %d died %v shared %v kind %q, want %d %v %v %q", m, m.OwnerTID(), m.OwnerDied(), m.Shared(), m.KindName(), tc.tid, tc.died, tc.shared, tc.kindName)
			}
		})
	}
	if _, err := ReadMutex(arch.AMD64, fakeMem{}, 0x1234); err == nil {
		t.Error("reading unmapped memory must fail")
	}
}

// process builds a process from threads blocked on mutexes in fake memory.
func process(mem fakeMem, threads ...Thread) *Process {
	return &Process{Arch: arch.AMD64, Mem: mem, Threads: threads}
}

func TestExplainDeadlock(t *testing.T) {
	data := make([]byte, 256)
	putMutex(data, 0x40, 2, 12, 0) // mutex A held by 12
	putMutex(data, 0x80, 2, 11, 0) // mutex B held by 11
	p := process(fakeMem{dataBase: data},
		Thread{TID: 10, Regs: regs(61), Code: syscallInst, Where: "main at m.c:3"}, // wait4
		Thread{TID: 11, Regs: regs(202, dataBase+0x40, 128, 2), Code: syscallInst, Frames: mutexFrames("a"), Where: "a at m.c:10"},
		Thread{TID: 12, Regs: regs(202, dataBase+0x80, 128, 2), Code: syscallInst, Frames: mutexFrames("b"), Where: "b at m.c:20"},
	)
	res := Explain(p)
	d := res.Diagnosis
	if d == nil || d.Kind != KindDeadlock {
		t.Fatalf("diagnosis %+v, want deadlock", d)
	}
	want := []Edge{{TID: 11, WaitsFor: 12, Lock: dataBase + 0x40, HasLock: true, Kind: KindMutex},
		{TID: 12, WaitsFor: 11, Lock: dataBase + 0x80, HasLock: true, Kind: KindMutex}}
	if len(d.Cycle) != 2 || d.Cycle[0] != want[0] || d.Cycle[1] != want[1] {
		t.Errorf("cycle %+v, want %+v", d.Cycle, want)
	}
	for _, s := range []string{"a at m.c:10", "b at m.c:20", "mutex 0x10040 held by thread 12"} {
		if !strings.Contains(d.Summary, s) {
			t.Errorf("summary %q lacks %q", d.Summary, s)
		}
	}
	if w := res.Waits[10]; w == nil || w.Kind != KindSyscall || w.External != "a child process" {
		t.Errorf("thread 10 waits %+v, want wait4 for a child", w)
	}
}

func TestExplainOrphanedAndBlocked(t *testing.T) {
	data := make([]byte, 256)
	putMutex(data, 0x40, 2, 999, 0) // held by a tid that is no thread
	p := process(fakeMem{dataBase: data},
		Thread{TID: 11, Regs: regs(202, dataBase+0x40, 128, 2), Code: syscallInst, Frames: mutexFrames("a")})
	if d := Explain(p).Diagnosis; d == nil || d.Kind != KindOrphanedLock || !strings.Contains(d.Summary, "tid 999") {
		t.Errorf("diagnosis %+v, want orphaned_lock by 999", d)
	}

	putMutex(data, 0x40, 2, 12, 0)
	p = process(fakeMem{dataBase: data},
		Thread{TID: 11, Regs: regs(202, dataBase+0x40, 128, 2), Code: syscallInst, Frames: mutexFrames("a")},
		Thread{TID: 12, Regs: regs(0, 5, 0x1000, 1), Code: syscallInst, Where: "reader at r.c:5"}, // read(5, …)
	)
	d := Explain(p).Diagnosis
	if d == nil || d.Kind != KindBlocked || d.Root != 12 || !strings.Contains(d.Summary, "read(5, 0x1000, 1)") || !strings.Contains(d.Summary, "input on fd 5") {
		t.Errorf("diagnosis %+v, want blocked behind 12's read of fd 5", d)
	}

	// The same chain behind an event loop waiting for work is an idle server, as redis
	// 7 is: its main thread keeps the mutexes that park its I/O threads across
	// epoll_wait. A poll of many descriptors is one too; a poll of one is a read with a
	// timeout.
	for _, root := range []struct {
		regs []uint64
		want bool
	}{
		{regs(232, 5, 0x1000, 10128, 100), false}, // epoll_wait(5, …, 100)
		{regs(281, 5, 0x1000, 10128, 100), false}, // epoll_pwait
		{regs(7, 0x1000, 3, 100), false},          // poll of 3 descriptors
		{regs(23, 9, 0x1000, 0, 0, 0), false},     // select
		{regs(7, 0x1000, 1, 100), true},           // poll of 1 descriptor
		{regs(23, 0, 0, 0, 0, 0x2000), true},      // select of none: time.sleep before CPython 3.11
	} {
		p = process(fakeMem{dataBase: data},
			Thread{TID: 11, Regs: regs(202, dataBase+0x40, 128, 2), Code: syscallInst, Frames: mutexFrames("a")},
			Thread{TID: 12, Regs: root.regs, Code: syscallInst},
		)
		res := Explain(p)
		d := res.Diagnosis
		if got := d != nil && d.Kind == KindBlocked && d.Root == 12; got != root.want {
			t.Errorf("behind %s: diagnosis %+v, want blocked %v", res.Waits[12].Call, d, root.want)
		}
		if e, ok := res.Edges[11]; !ok || e.WaitsFor != 12 {
			t.Errorf("behind %s: thread 11's edge %+v, want the mutex held by 12", res.Waits[12].Call, e)
		}
	}

	// One thread in pause() with nothing behind it is no hang.
	p = process(fakeMem{}, Thread{TID: 1, Regs: regs(34), Code: syscallInst})
	if d := Explain(p).Diagnosis; d != nil {
		t.Errorf("diagnosis %+v for a lone pause(), want none", d)
	}
}

func TestExplainGIL(t *testing.T) {
	interp := func(m string) bool { return m == "/bin/python3" }
	gilFrames := []Frame{{Function: "__futex_abstimed_wait_common", Module: "/lib/libc.so.6"},
		{Function: "___pthread_cond_timedwait", Module: "/lib/libc.so.6"}, {Function: "take_gil", Module: "/bin/python3"}}
	holder := Thread{TID: 1, Regs: regs(230, 0, 0, 0), Code: syscallInst,
		Frames: []Frame{{Function: "clock_nanosleep", Module: "/lib/libc.so.6"}, {Function: "sleep", Module: "/lib/libc.so.6"},
			{Function: "ffi_call_unix64", Module: "/lib/libffi.so.8"}, {Function: "_PyEval_EvalFrameDefault", Module: "/bin/python3"}},
		Python: []PyFrame{{Function: "<module>", File: "g.py", Line: 9}}}
	p := process(fakeMem{}, holder,
		Thread{TID: 2, Regs: regs(202, dataBase, 128|9, 0), Code: syscallInst, Frames: gilFrames},
		Thread{TID: 3, Regs: regs(202, dataBase, 128|9, 0), Code: syscallInst, Frames: gilFrames})
	p.Python = &Python{GILHolder: 1, Interpreter: interp}
	d := Explain(p).Diagnosis
	if d == nil || d.Kind != KindGILHeld || d.Root != 1 || d.Running {
		t.Fatalf("diagnosis %+v, want gil_held by 1, blocked in its call", d)
	}
	for _, s := range []string{"clock_nanosleep", "sleep (libc.so.6)", "<module> (g.py:9)", "2, 3"} {
		if !strings.Contains(d.Summary, s) {
			t.Errorf("summary %q lacks %q", d.Summary, s)
		}
	}
	// A waiter on the CPU in take_gil's loop (between two timed waits, as a snapshot
	// under load finds it) still waits for the GIL; the holder just through take_gil does
	// not.
	p.Threads[2] = Thread{TID: 3, Regs: regs(0), Frames: []Frame{{Function: "take_gil", Module: "/bin/python3"},
		{Function: "PyEval_RestoreThread", Module: "/bin/python3"}}}
	d = Explain(p).Diagnosis
	if d == nil || d.Kind != KindGILHeld || d.Root != 1 || !strings.Contains(d.Summary, "2, 3") {
		t.Errorf("diagnosis %+v with thread 3 running in take_gil, want gil_held by 1 with waiters 2, 3", d)
	}
	if w := Explain(p).Waits[3]; w == nil || w.Kind != KindGIL || w.OwnerTID != 1 || w.Detail != "take_gil: waiting for the GIL (running its wait loop), held by thread 1" {
		t.Errorf("thread 3's wait %+v", w)
	}
	p.Python.GILHolder = 3
	if w := Explain(p).Waits[3]; w != nil {
		t.Errorf("the holder, in take_gil's tail, waits %+v", w)
	}
	p.Python.GILHolder = 1
	// A holder running the eval loop is a busy interpreter, not a hang; so is one in a
	// libc function the interpreter called itself.
	for _, frames := range [][]Frame{
		{{Function: "_PyEval_EvalFrameDefault", Module: "/bin/python3"}},
		{{Function: "__memmove_avx_unaligned_erms", Module: "/lib/libc.so.6"}, {Function: "bytes_concat", Module: "/bin/python3"}},
	} {
		p.Threads[0] = Thread{TID: 1, Regs: regs(0), Frames: frames}
		if d := Explain(p).Diagnosis; d != nil {
			t.Errorf("diagnosis %+v for a busy interpreter in %s, want none", d, frames[0].Function)
		}
	}
	// A holder spinning in an extension module keeps the GIL.
	p.Threads[0] = Thread{TID: 1, Regs: regs(0), Frames: []Frame{{Function: "spin", Module: "/site/_ext.so"}, {Function: "_PyEval_EvalFrameDefault", Module: "/bin/python3"}}}
	if d := Explain(p).Diagnosis; d == nil || d.Kind != KindGILHeld || !strings.Contains(d.Summary, "running native code in spin (_ext.so)") || !d.Running {
		t.Errorf("diagnosis %+v for a holder in an extension, want gil_held by a running holder", d)
	}
}

func TestRLockOwner(t *testing.T) {
	le := binary.LittleEndian
	data := make([]byte, 0x200)
	// The type object at +0x100 with tp_name at +0x180; the RLock at +0x40.
	le.PutUint64(data[0x100+pyTpName:], dataBase+0x180)
	copy(data[0x180:], "_thread.RLock\x00")
	le.PutUint64(data[0x40+pyObType:], dataBase+0x100)
	le.PutUint64(data[0x40+pyLockLock:], 0x55000) // the semaphore
	le.PutUint64(data[0x40+pyRLockOwn:], 0x7f0000002000)
	le.PutUint64(data[0x40+pyRLockCnt:], 1)
	stack := make([]byte, 0x100)
	le.PutUint64(stack[0x38:], dataBase+0x40)
	frames := []Frame{{Function: "do_futex_wait", Module: "libc"}, {Function: "PyThread_acquire_lock_timed", Module: "/bin/python3"}}
	p := process(fakeMem{dataBase: data, stackBase: stack},
		Thread{TID: 5, Regs: regs(202, 0x55000, 128|9, 0), Code: syscallInst, Frames: frames, Ident: 0x7f0000001000},
		Thread{TID: 6, Ident: 0x7f0000002000})
	res := Explain(p)
	w := res.Waits[5]
	if w == nil || w.Kind != KindPythonLock || w.Address != dataBase+0x40 || w.OwnerTID != 6 {
		t.Fatalf("wait %+v, want the RLock at %#x owned by thread 6", w, dataBase+0x40)
	}
	if !strings.HasPrefix(w.Text(), "waiting for threading.RLock 0x10040 held by thread 6") {
		t.Errorf("text %q", w.Text())
	}
}

func TestHeldPyLocks(t *testing.T) {
	le := binary.LittleEndian
	data := make([]byte, 0x400)
	// Types: "_thread.lock" at +0x100, "builtin_function_or_method" at +0x140.
	le.PutUint64(data[0x100+pyTpName:], dataBase+0x300)
	copy(data[0x300:], "_thread.lock\x00")
	le.PutUint64(data[0x140+pyTpName:], dataBase+0x320)
	copy(data[0x320:], "builtin_function_or_method\x00")
	// The Lock at +0x40 (semaphore 0x55000); its bound __exit__ at +0x80, whose
	// PyMethodDef at +0x1c0 names "__exit__" at +0x360.
	le.PutUint64(data[0x40+pyObType:], dataBase+0x100)
	le.PutUint64(data[0x40+pyLockLock:], 0x55000)
	le.PutUint64(data[0x80+pyObType:], dataBase+0x140)
	le.PutUint64(data[0x80+pyCFuncML:], dataBase+0x1c0)
	le.PutUint64(data[0x80+pyCFuncSelf:], dataBase+0x40)
	le.PutUint64(data[0x1c0:], dataBase+0x360)
	copy(data[0x360:], "__exit__\x00")
	frame := make([]byte, 0x100)
	le.PutUint64(frame[0x18:], dataBase+0x80) // the value stack holds the bound __exit__
	const frameBase = 0x90000
	mem := fakeMem{dataBase: data, frameBase: frame, stackBase: make([]byte, 0x100)}
	if h := HeldPyLocks(arch.AMD64, mem, []uint64{frameBase}); !h[dataBase+0x40] || len(h) != 1 {
		t.Fatalf("held %v, want the Lock at %#x", h, dataBase+0x40)
	}
	// Thread 6 is inside `with lock:`; thread 5 waits for the lock.
	le.PutUint64(mem[stackBase][0x20:], dataBase+0x40)
	frames := []Frame{{Function: "do_futex_wait"}, {Function: "PyThread_acquire_lock_timed"}}
	p := process(mem,
		Thread{TID: 5, Regs: regs(202, 0x55000, 128|9, 0), Code: syscallInst, Frames: frames},
		Thread{TID: 6, PyStacks: []uint64{frameBase}})
	w := Explain(p).Waits[5]
	if w == nil || w.Kind != KindPythonLock || w.Address != dataBase+0x40 || w.OwnerTID != 6 || !strings.Contains(w.Detail, "inferred") {
		t.Fatalf("wait %+v, want the Lock held by thread 6, inferred", w)
	}
}

func TestPyWaitFrame(t *testing.T) {
	for _, tc := range []struct {
		frames []PyFrame
		chain  string
		notify bool
	}{
		{[]PyFrame{{QualName: "Condition.wait", File: "/py/lib/threading.py", Line: 355}, {QualName: "Queue.get", File: "/py/lib/queue.py", Line: 171}, {Function: "queuer", File: "t.py", Line: 9}},
			"Condition.wait (threading.py:355) <- Queue.get (queue.py:171)", true},
		{[]PyFrame{{Function: "wait", File: "/py/lib/threading.py", Line: 300}}, "wait (threading.py:300)", true},
		{[]PyFrame{{Function: "locker", File: "t.py", Line: 5}, {QualName: "Thread.run", File: "/py/lib/threading.py", Line: 1010}}, "", false},
		{[]PyFrame{{QualName: "Thread.join", File: "/py/lib/threading.py", Line: 1119}}, "Thread.join (threading.py:1119)", false},
	} {
		chain, notify := pyWaitFrame(tc.frames)
		if chain != tc.chain || notify != tc.notify {
			t.Errorf("pyWaitFrame(%v) = %q %v, want %q %v", tc.frames, chain, notify, tc.chain, tc.notify)
		}
	}
}

// A call that slept with a timeout and was stopped shows restart_syscall once resumed;
// the C library function the thread is in names the call, and the descriptors of a
// snapshot's note name what a poll waits on.
func TestExplainRestarted(t *testing.T) {
	mem := fakeMem{dataBase: make([]byte, 0x100)}
	binary.LittleEndian.PutUint32(mem[dataBase][0x20:], 7) // struct pollfd {fd 7, POLLIN}
	binary.LittleEndian.PutUint16(mem[dataBase][0x24:], 1)
	threads := []Thread{
		{TID: 11, Regs: regs(219, dataBase+0x20, 1, ^uint64(0)), Code: syscallInst, Frames: []Frame{{Function: "__GI___poll"}}},
		{TID: 12, Regs: regs(219, 0, 0, dataBase), Code: syscallInst, Frames: []Frame{{Function: "__GI___clock_nanosleep"}}},
		{TID: 13, Regs: regs(219, 1, 2, 3), Code: syscallInst, Frames: []Frame{{Function: "mystery"}}},
	}
	res := Explain(&Process{Arch: arch.AMD64, Mem: mem, Threads: threads, Descriptors: map[int]string{7: "pipe:[42] (read end)"}})
	for tid, want := range map[int]string{11: "poll", 12: "clock_nanosleep", 13: "restart_syscall"} {
		w := res.Waits[tid]
		if w == nil || w.Syscall.Name != want || !strings.HasPrefix(w.Call, want+"(") {
			t.Errorf("thread %d waits %+v, want %s", tid, w, want)
		}
	}
	if d := res.Waits[11].Detail; !strings.HasSuffix(d, "resumed as restart_syscall after a stop; the call named by __GI___poll); fd 7 is pipe:[42] (read end)") {
		t.Errorf("poll detail %q", d)
	}
}
