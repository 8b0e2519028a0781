package capture

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coredig/coredig/internal/corewriter"
	"github.com/coredig/coredig/internal/ptrace"
)

// traceOptions follow every process and thread the command starts, and nothing more:
// each ptrace stop costs the tracee two context switches, and a fork-heavy command makes
// many. Exits are not stopped at (no PTRACE_O_TRACEEXIT): a death that needs a core is
// seen at the fatal signal's delivery. Execs are not stopped at (no PTRACE_O_TRACEEXEC;
// a seized tracee gets no SIGTRAP after exec either): what a core needs of the program
// (its name, its threads) is read from /proc when the core is written, and a caught
// fault remembered before an exec is told from the new program's by execID.
const traceOptions = ptrace.O_TRACEFORK | ptrace.O_TRACEVFORK | ptrace.O_TRACECLONE

// RunOptions configure Run.
type RunOptions struct {
	// CoreDir receives the cores (created when needed).
	CoreDir string
	// Timeout, when positive, snapshots every process of the tree once it has run that
	// long, then sends SIGTERM to the tree and SIGKILL KillAfter later.
	Timeout, KillAfter time.Duration
	// Dir and Env of the command; "" and nil mean coredig's own.
	Dir string
	Env []string
	// Files are the command's stdin, stdout and stderr.
	Files [3]*os.File
	// Signals are delivered to the command (coredig forwards what it receives), each
	// once: SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGTSTP are sent forwardDelay late and
	// not at all when the command has the signal pending or took it from another sender
	// within directWindow (it was sent to the whole process group). SIGCONT is sent only
	// while the command is stopped. A stop signal (SIGTSTP, SIGTTIN, SIGTTOU) stops the
	// command, and once it has stopped Stopped is called, so that the caller stops with
	// it as the job it stands for.
	Signals <-chan os.Signal
	// Stopped is called after a stop signal from Signals has stopped the command (see
	// Signals); nil: nothing is done.
	Stopped func()
	// OnCore is called for each core written, once its process has died (for a
	// snapshot, at once). It runs on the tracer's goroutine: the processes of the tree
	// wait at their next ptrace stop until it returns.
	OnCore func(Core)
}

// Core is a core Run wrote.
type Core struct {
	Path     string
	PID      int
	Comm     string
	Signal   int  // the fatal signal; SIGSTOP for a timeout snapshot
	Snapshot bool // written at the timeout, the process was alive
	// Reraised is set when a handler caught the first delivery of a core-dumping
	// signal before the process died; the core holds that first siginfo and registers in
	// COREDIG notes.
	Reraised bool
}

// RunResult is how the command ended.
type RunResult struct {
	// Status is the command's exit status, 128+N when it died of signal N.
	Status   int
	TimedOut bool
	Cores    []Core
	Warnings []string
}

// StartError is returned when the command could not be started.
type StartError struct{ Err error }

func (e *StartError) Error() string { return "cannot start the command: " + e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// coreSignals are the signals whose default action dumps core (signal(7)).
var coreSignals = map[int]bool{3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 11: true, 24: true, 25: true, 31: true}

type waitEvent struct {
	tid int
	ws  syscall.WaitStatus
	err error
}

// firstFault is a core-dumping signal a handler caught.
type firstFault struct {
	tid     int
	siginfo [ptrace.SigInfoSize]byte
	regs    []byte
	exec    string // execID of the process when it was caught
}

type runner struct {
	opts RunOptions
	root int
	tids map[int]bool // traced threads seen stopped (a thread that exec'd may linger)
	// events is fed by the waiter goroutine when there is a timeout to serve; without
	// one (nil) the tracer thread waits itself, which spares every ptrace stop two
	// thread switches in coredig.
	events chan waitEvent
	queue  []waitEvent
	first  map[int]*firstFault // by process
	dying  map[int]*Core       // cores written for processes about to die, by process
	res    *RunResult
	// rootStop is the signal of the command's group-stop, 0 while it runs; stopAsked is
	// set when a stop signal came on Signals and Stopped is still to be called; rootGone
	// once the command has been reaped (its pid may name another process then). The
	// tracer and the goroutine forwarding Signals share them under mu.
	mu        sync.Mutex
	rootStop  int
	stopAsked bool
	rootGone  bool
	// direct holds when the command last took delivery of a signal coredig forwards that
	// someone else sent it, by signal: the same signal reaching coredig then is a
	// duplicate sent to the whole process group.
	direct map[int]time.Time
}

// Forwarding a signal waits forwardDelay, so that the command's own delivery of the
// same signal, sent to the whole process group, is seen first; a delivery less than
// directWindow old then stands for the forwarded signal.
const (
	forwardDelay = 100 * time.Millisecond
	directWindow = 500 * time.Millisecond
)

// deduplicated reports whether a forwarded sig is dropped when the command got it
// directly: the signals a process group gets all at once from kill(-PGID) or timeout(1).
// (SIGCONT is sent only to a stopped command, which cannot have taken it yet.)
func deduplicated(sig int) bool {
	switch syscall.Signal(sig) {
	case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTSTP:
		return true
	}
	return false
}

// Run runs argv under ptrace as described in the package doc and returns how it ended.
// A *StartError means the command never ran.
func Run(argv []string, opts RunOptions) (*RunResult, error) {
	if Host == nil {
		return nil, &StartError{Err: fmt.Errorf("no architecture description for this machine")}
	}
	if len(argv) == 0 {
		return nil, &StartError{Err: fmt.Errorf("no command")}
	}
	if opts.KillAfter <= 0 {
		opts.KillAfter = 10 * time.Second
	}
	var res *RunResult
	var err error
	done := make(chan struct{})
	go func() {
		// All ptrace requests come from this thread, which also forks the command: a
		// PTRACE_TRACEME child is traced by the thread that forked it.
		runtime.LockOSThread()
		defer close(done)
		res, err = runLocked(argv, opts)
	}()
	<-done
	return res, err
}

func runLocked(argv []string, opts RunOptions) (*RunResult, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, &StartError{Err: err}
	}
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	var fds []uintptr
	for i, f := range opts.Files {
		if f == nil {
			f = []*os.File{os.Stdin, os.Stdout, os.Stderr}[i]
		}
		fds = append(fds, f.Fd())
	}
	// The child stops at its exec (PTRACE_TRACEME); it is then detached into a
	// SIGSTOP and seized, so that it and all it starts are seized tracees, which can
	// be interrupted and whose group-stops PTRACE_LISTEN handles.
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Dir: opts.Dir, Env: env, Files: fds,
		Sys: &syscall.SysProcAttr{Ptrace: true}})
	if err != nil {
		return nil, &StartError{Err: err}
	}
	r := &runner{opts: opts, root: pid, tids: map[int]bool{pid: true}, first: map[int]*firstFault{},
		dying: map[int]*Core{}, res: &RunResult{}, direct: map[int]time.Time{}}
	if err := r.seizeRoot(); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		syscall.Wait4(pid, nil, 0, nil)
		return nil, &StartError{Err: err}
	}
	done := make(chan struct{})
	defer close(done)
	go r.forwarder(done)
	if opts.Timeout > 0 {
		r.events = make(chan waitEvent, 64)
		go r.waiter()
	}
	r.loop()
	return r.res, nil
}

// seizeRoot turns the PTRACE_TRACEME child stopped at its exec into a seized tracee.
func (r *runner) seizeRoot() error {
	if _, ws, err := ptrace.Wait(r.root, 0); err != nil || !ws.Stopped() {
		return fmt.Errorf("the command did not stop at its exec (status %#x): %v", uint32(ws), err)
	}
	if err := ptrace.Detach(r.root, int(syscall.SIGSTOP)); err != nil {
		return err
	}
	if _, ws, err := ptrace.Wait(r.root, syscall.WUNTRACED); err != nil || !ws.Stopped() {
		return fmt.Errorf("the command did not stop for SIGSTOP (status %#x): %v", uint32(ws), err)
	}
	if err := ptrace.Seize(r.root, traceOptions); err != nil {
		return err
	}
	// Seized in group-stop, it reports PTRACE_EVENT_STOP; SIGCONT ends the group-stop
	// the way a shell's job control would, and the tracee runs on.
	if _, _, err := ptrace.Wait(r.root, 0); err != nil {
		return err
	}
	syscall.Kill(r.root, syscall.SIGCONT)
	return ptrace.Cont(r.root, 0)
}

// forwarder forwards the signals of RunOptions.Signals until done is closed. Sending a
// signal needs no ptrace request, so it is done here, whatever the tracer waits for.
func (r *runner) forwarder(done <-chan struct{}) {
	for {
		select {
		case s := <-r.opts.Signals:
			if sig, ok := s.(syscall.Signal); ok {
				if deduplicated(int(sig)) {
					time.Sleep(forwardDelay)
				}
				r.mu.Lock()
				r.forward(sig)
				r.mu.Unlock()
			}
		case <-done:
			return
		}
	}
}

// waiter reports every wait status when a timeout must interrupt the waiting. Any
// thread of the tracer's process may wait for its tracees; only requests must come
// from the tracer thread.
func (r *runner) waiter() {
	for {
		tid, ws, err := ptrace.Wait(-1, 0)
		r.events <- waitEvent{tid: tid, ws: ws, err: err}
		if err != nil {
			return
		}
	}
}

// next returns the next wait event; false when the timeout came first.
func (r *runner) next(timeout <-chan time.Time) (waitEvent, bool) {
	if len(r.queue) > 0 {
		e := r.queue[0]
		r.queue = r.queue[1:]
		return e, true
	}
	if r.events == nil {
		return r.wait(), true
	}
	select {
	case e := <-r.events:
		return e, true
	case <-timeout:
		return waitEvent{}, false
	}
}

// wait returns the next wait status of any tracee.
func (r *runner) wait() waitEvent {
	if r.events != nil {
		return <-r.events
	}
	tid, ws, err := ptrace.Wait(-1, 0)
	return waitEvent{tid: tid, ws: ws, err: err}
}

// forward sends the command a signal coredig received, as described at
// RunOptions.Signals. r.mu is held.
func (r *runner) forward(sig syscall.Signal) {
	if r.rootGone {
		return
	}
	switch sig {
	case syscall.SIGCONT:
		r.stopAsked = false
		if r.rootStop == 0 {
			return // running: there is nothing to continue
		}
	case syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
		if r.rootStop != 0 {
			r.stopped() // stopped already: only coredig has to follow
			return
		}
		r.stopAsked = true
	}
	// The command got it too when it was sent to the whole process group: it is
	// pending still, or it was delivered just now.
	if pending(r.root, int(sig)) {
		return
	}
	if t, ok := r.direct[int(sig)]; ok && time.Since(t) < directWindow+forwardDelay {
		delete(r.direct, int(sig))
		return
	}
	syscall.Kill(r.root, sig)
}

// noteDirect records that the command's thread tid is about to take delivery of sig
// from another sender than coredig (see runner.direct).
func (r *runner) noteDirect(tid, sig int) {
	st, err := readStatus(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil || st.first("Tgid") != r.root {
		return
	}
	si, err := ptrace.SigInfo(tid)
	if err != nil {
		return
	}
	// siginfo_t: si_signo, si_errno, si_code, then (kill, tkill) si_pid at the union,
	// pointer-aligned (linux/include/uapi/asm-generic/siginfo.h).
	const siUser, siTkill = 0, -6
	code := int32(Host.ByteOrder.Uint32(si[8:]))
	off := 12
	if Host.PtrSize == 8 {
		off = 16
	}
	if (code == siUser || code == siTkill) && int(Host.ByteOrder.Uint32(si[off:])) == os.Getpid() {
		return // forwarded by coredig
	}
	r.mu.Lock()
	r.direct[sig] = time.Now()
	r.mu.Unlock()
}

// stopped calls Stopped.
func (r *runner) stopped() {
	r.stopAsked = false
	if r.opts.Stopped != nil {
		r.opts.Stopped()
	}
}

// pending reports whether sig is pending for process pid, sent to the process
// (ShdPnd) or to its main thread (SigPnd).
func pending(pid, sig int) bool {
	st, err := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	bit := uint64(1) << uint(sig-1)
	return (st.hex("ShdPnd")|st.hex("SigPnd"))&bit != 0
}

// isStopSignal reports whether sig's default action stops the process.
func isStopSignal(sig int) bool {
	switch syscall.Signal(sig) {
	case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
		return true
	}
	return false
}

// waitFor returns the next event of tid, keeping others for later.
func (r *runner) waitFor(tid int) waitEvent {
	for i, e := range r.queue {
		if e.tid == tid {
			r.queue = append(r.queue[:i], r.queue[i+1:]...)
			return e
		}
	}
	for {
		e := r.wait()
		if e.tid == tid || e.err != nil {
			return e
		}
		r.queue = append(r.queue, e)
	}
}

func (r *runner) loop() {
	var timeout <-chan time.Time
	if r.opts.Timeout > 0 {
		timeout = time.After(r.opts.Timeout)
	}
	for {
		e, ok := r.next(timeout)
		if !ok {
			timeout = nil
			r.onTimeout()
			continue
		}
		if e.err != nil {
			return // ECHILD: nothing left to wait for
		}
		if r.handle(e) {
			return
		}
	}
}

// handle acts on one wait status; it returns true when the command has ended.
func (r *runner) handle(e waitEvent) bool {
	tid, ws := e.tid, e.ws
	switch {
	case ws.Exited() || ws.Signaled():
		// With __WALL a process's leader is reported after its other threads, so the
		// exit of an id that names a process is that process's end.
		delete(r.tids, tid)
		delete(r.first, tid)
		if c := r.dying[tid]; c != nil {
			delete(r.dying, tid)
			r.report(*c)
		}
		if tid == r.root {
			r.mu.Lock()
			r.rootGone = true
			r.mu.Unlock()
			if ws.Exited() {
				r.res.Status = ws.ExitStatus()
			} else {
				r.res.Status = 128 + int(ws.Signal())
			}
			return true
		}
		return false
	case !ws.Stopped():
		return false
	}
	r.tids[tid] = true
	sig := int(ws.StopSignal())
	switch ptrace.Event(ws) {
	case ptrace.EventStop:
		// A group-stop reports its stop signal; the stop that ends it (SIGCONT) or a
		// PTRACE_INTERRUPT of a running thread reports SIGTRAP.
		if !isStopSignal(sig) {
			if tid == r.root {
				r.mu.Lock()
				r.rootStop = 0
				r.mu.Unlock()
			}
			ptrace.Cont(tid, 0)
			break
		}
		// Group-stop: stay stopped as without a tracer, but keep listening.
		ptrace.Listen(tid)
		if tid == r.root {
			r.mu.Lock()
			r.rootStop = sig
			if r.stopAsked {
				r.stopped()
			}
			r.mu.Unlock()
		}
	case 0:
		r.signalStop(tid, sig)
	default:
		ptrace.Cont(tid, 0)
	}
	return false
}

// tgidOf reads the process a thread belongs to, 0 when it is gone.
func tgidOf(tid int) int {
	st, err := readStatus(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil || st.first("Tgid") <= 0 {
		return 0
	}
	return st.first("Tgid")
}

// execID identifies the program a process runs since its last exec: the 16 random bytes
// the kernel puts on the new stack at each exec and names in the auxiliary vector
// (AT_RANDOM; linux/fs/binfmt_elf.c create_elf_tables). "" when they cannot be read.
func execID(pid int) string {
	auxv, err := readSmall(fmt.Sprintf("/proc/%d/auxv", pid))
	if err != nil {
		return ""
	}
	const atRandom = 25 // linux/include/uapi/linux/auxvec.h
	w := Host.PtrSize
	for i := 0; i+2*w <= len(auxv); i += 2 * w {
		if Host.Word(auxv[i:]) != atRandom {
			continue
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
		if err != nil {
			return ""
		}
		defer f.Close()
		var b [16]byte
		if n, _ := f.ReadAt(b[:], int64(Host.Word(auxv[i+w:]))); n != len(b) {
			return ""
		}
		return string(b[:])
	}
	return ""
}

// signalStop handles a signal about to be delivered to tid.
func (r *runner) signalStop(tid, sig int) {
	if deduplicated(sig) {
		r.noteDirect(tid, sig)
	}
	if !coreSignals[sig] {
		ptrace.Cont(tid, sig)
		return
	}
	st, err := readStatus(fmt.Sprintf("/proc/%d/status", tid))
	pid := tid
	if err == nil && st.first("Tgid") > 0 {
		pid = st.first("Tgid")
	}
	mask := uint64(1) << uint(sig-1)
	if err == nil && (st.hex("SigCgt")&mask != 0 || st.hex("SigIgn")&mask != 0) {
		// A handler will run (or the signal is ignored): the process may survive.
		// Remember the first caught fault of the process for its core (which keeps
		// it only if the process still runs the same program then: a fault caught
		// before an exec is not the new program's; one the new program catches after
		// that is not remembered, which spares a JVM's many SIGSEGVs two /proc reads).
		if st.hex("SigCgt")&mask != 0 && r.first[pid] == nil {
			if f := captureFirst(tid); f != nil {
				f.exec = execID(pid)
				r.first[pid] = f
			}
		}
		ptrace.Cont(tid, sig)
		return
	}
	// Default action: the process dies of it and the kernel would dump its core now.
	si, serr := ptrace.SigInfo(tid)
	c, err := r.writeDying(pid, tid, sig, si[:], serr == nil)
	if err != nil {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("process %d dies of signal %d but its core could not be written: %v", pid, sig, err))
	} else {
		r.dying[pid] = c
	}
	ptrace.Cont(tid, sig)
}

func captureFirst(tid int) *firstFault {
	si, err := ptrace.SigInfo(tid)
	if err != nil {
		return nil
	}
	regs := make([]byte, Host.PrStatus.RegsSize)
	if n, err := ptrace.RegSet(tid, ntPrStatus, regs); err != nil || n != len(regs) {
		return nil
	}
	return &firstFault{tid: tid, siginfo: si, regs: regs}
}

// stopThreads interrupts every other traced thread of pid and waits until each is
// stopped; it returns the threads stopped and a function that resumes them.
func (r *runner) stopThreads(pid, except int) ([]int, func()) {
	var tids []int
	resume := map[int]int{}    // tid -> signal to deliver on resuming
	all, _ := listThreads(pid) // every thread of a traced process is traced (TRACECLONE)
	for _, tid := range all {
		if tid == except {
			continue
		}
		if ptrace.Interrupt(tid) != nil {
			continue
		}
		e := r.waitFor(tid)
		if e.err != nil || !e.ws.Stopped() {
			if e.err == nil {
				r.queue = append(r.queue, e) // its exit, for the main loop
			}
			continue
		}
		tids = append(tids, tid)
		switch sig := int(e.ws.StopSignal()); {
		case ptrace.Event(e.ws) == 0:
			resume[tid] = sig // a signal-delivery-stop: deliver it
		case ptrace.Event(e.ws) == ptrace.EventStop && isStopSignal(sig):
			resume[tid] = -1 // in group-stop: it stays stopped
		}
	}
	return tids, func() {
		for _, tid := range tids {
			if resume[tid] < 0 {
				ptrace.Listen(tid)
			} else {
				ptrace.Cont(tid, resume[tid])
			}
		}
	}
}

// writeDying writes the core of process pid, whose thread tid is stopped before the
// delivery of a fatal signal sig.
func (r *runner) writeDying(pid, tid, sig int, siginfo []byte, haveSiginfo bool) (*Core, error) {
	// The other threads stay stopped: the signal kills them where they are, as the
	// kernel's core of the same crash records them (zap_threads wakes a ptrace-stopped
	// thread with SIGKILL, and it no longer stops at PTRACE_EVENT_EXIT).
	others, _ := r.stopThreads(pid, tid)
	if !haveSiginfo {
		siginfo = make([]byte, ptrace.SigInfoSize)
		Host.ByteOrder.PutUint32(siginfo, uint32(sig))
	}
	c := &Core{PID: pid, Signal: sig}
	p, mem, warns, err := describe(Host, pid, append([]int{tid}, others...), tid, sig, siginfo)
	if err != nil {
		return nil, err
	}
	defer mem.f.Close()
	r.res.Warnings = append(r.res.Warnings, warns...)
	if f := r.first[pid]; f != nil && f.exec == execID(pid) {
		c.Reraised = true
		desc := append(append([]byte{}, f.siginfo[:]...), 0, 0, 0, 0)
		Host.ByteOrder.PutUint32(desc[ptrace.SigInfoSize:], uint32(f.tid))
		p.Extra = append(p.Extra,
			corewriter.Note{Name: corewriter.NoteOwner, Type: corewriter.NT_COREDIG_FIRST_SIGINFO, Desc: desc},
			corewriter.Note{Name: corewriter.NoteOwner, Type: corewriter.NT_COREDIG_FIRST_REGS, Desc: f.regs})
	}
	c.Comm = p.PsInfo.FName
	if err := r.write(c, p, mem); err != nil {
		return nil, err
	}
	return c, nil
}

func (r *runner) write(c *Core, p *corewriter.Process, mem corewriter.Memory) error {
	im, err := corewriter.NewImage(p, mem)
	if err != nil {
		return err
	}
	dir := r.opts.CoreDir
	if dir == "" {
		dir = "coredig-cores"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	comm := strings.Map(func(c rune) rune {
		if c == '/' || c < ' ' {
			return '_'
		}
		return c
	}, c.Comm)
	c.Path = filepath.Join(dir, fmt.Sprintf("core.%s.%d", comm, c.PID))
	return writeCore(im, c.Path)
}

// report hands a core to OnCore and records it.
func (r *runner) report(c Core) {
	r.res.Cores = append(r.res.Cores, c)
	if r.opts.OnCore != nil {
		r.opts.OnCore(c)
	}
}

// onTimeout snapshots every live process of the tree, then stops the tree.
func (r *runner) onTimeout() {
	r.res.TimedOut = true
	procs := map[int]bool{}
	for tid := range r.tids {
		if pid := tgidOf(tid); pid > 0 {
			procs[pid] = true
		}
	}
	for pid := range procs {
		tids, resume := r.stopThreads(pid, -1)
		if len(tids) == 0 {
			resume()
			continue
		}
		leader := tids[0]
		for _, tid := range tids {
			if tid == pid {
				leader = pid
			}
		}
		c := &Core{PID: pid, Signal: SIGSTOP, Snapshot: true}
		p, mem, warns, err := describe(Host, pid, tids, leader, SIGSTOP, snapshotSigInfo(Host))
		if err == nil {
			c.Comm = p.PsInfo.FName
			err = r.write(c, p, mem)
			mem.f.Close()
		}
		r.res.Warnings = append(r.res.Warnings, warns...)
		resume()
		if err != nil {
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("snapshot of process %d at the timeout: %v", pid, err))
			continue
		}
		r.report(*c)
	}
	for pid := range procs {
		syscall.Kill(pid, syscall.SIGTERM)
		syscall.Kill(pid, syscall.SIGCONT) // a stopped process must run to die of it
	}
	killAfter := r.opts.KillAfter
	go func() {
		time.Sleep(killAfter)
		for pid := range procs {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}()
}
