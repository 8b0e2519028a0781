// Package capture takes cores of live processes: a snapshot of a running process, which
// keeps running (gcore, and a live process analysed as a core), and the cores of the
// processes of a command tree that die of a core-dumping signal (coredig run).
//
// How: every thread is seized and interrupted (PTRACE_SEIZE, PTRACE_INTERRUPT; the
// thread list of /proc/PID/task is read again until no new thread appeared, since a
// running thread may clone before it stops). Each thread's registers come from
// PTRACE_GETREGSET (NT_PRSTATUS and the architecture's core register sets), its
// signal masks and times from /proc/PID/task/TID/status and stat; the mappings and what
// the kernel would dump of each from /proc/PID/smaps and /proc/PID/coredump_filter (see
// dumpSize); the auxiliary vector from /proc/PID/auxv; what each file descriptor is
// (files.go) from /proc/PID/fd, fdinfo and net, kept in a COREDIG files note; memory
// from /proc/PID/mem with pread, lazily: the core is laid out by package corewriter and its PT_LOAD bytes are read
// only when written to a file or asked by an analysis. Only memory is read while the
// process is stopped; the threads are detached (PTRACE_DETACH, re-delivering any signal
// that arrived meanwhile) when the snapshot is released.
//
// Bounds: 65534 mappings; the kernel's filter is approximated where /proc does not show
// what it knows (dumpSize); a thread that exits during the snapshot is left out; pages
// that cannot be read (a hole in a file mapping past its end) are written as zeros, as
// the kernel does. No root is needed: the caller must be allowed to ptrace the process
// (same uid and Yama scope 0, or an ancestor under scope 1, or CAP_SYS_PTRACE); a
// refusal is a *PermissionError naming the cause.
//
// Sources: man ptrace(2) (seize, interrupt, group-stop, PTRACE_LISTEN), proc(5),
// linux/fs/proc/task_mmu.c (smaps, VmFlags), linux/fs/coredump.c (vma_dump_size,
// always_dump_vma), linux/include/linux/sched/coredump.h (MMF_DUMP_* bits),
// linux/fs/binfmt_elf.c (what each note holds).
package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/corewriter"
	"github.com/coredig/coredig/internal/ptrace"
)

// NT_PRSTATUS is the register set of the general registers.
const ntPrStatus = 1

// SIGSTOP is the signal a snapshot records, as gdb's gcore does.
const SIGSTOP = 19

// Host is the architecture coredig runs on, which is the architecture it can trace.
var Host = hostArch()

// Snapshot is a stopped process and the core that describes it.
type Snapshot struct {
	PID     int
	Process *corewriter.Process
	// Image is the core, laid out; its memory is read from the process when asked, so
	// it is valid only until Detach.
	Image    *corewriter.Image
	Warnings []string

	tr      *tracer
	mem     *procMemory
	threads []stopped
}

type stopped struct {
	tid int
	sig int // a signal that stopped the thread, to deliver at detach
}

// Attach stops every thread of pid and describes the process as a snapshot.
func Attach(pid int) (*Snapshot, error) {
	if Host == nil {
		return nil, fmt.Errorf("capture: no architecture description for this machine")
	}
	s := &Snapshot{PID: pid, tr: newTracer()}
	var err error
	s.tr.do(func() { err = s.stopAll() })
	if err != nil {
		s.Detach()
		return nil, err
	}
	tids := make([]int, len(s.threads))
	for i, t := range s.threads {
		tids[i] = t.tid
	}
	si := snapshotSigInfo(Host)
	s.tr.do(func() {
		s.Process, s.mem, s.Warnings, err = describe(Host, pid, tids, pid, SIGSTOP, si)
	})
	if err == nil {
		s.Image, err = corewriter.NewImage(s.Process, s.mem)
	}
	if err != nil {
		s.Detach()
		return nil, err
	}
	return s, nil
}

// stopAll seizes and interrupts every thread until no new thread appears.
func (s *Snapshot) stopAll() error {
	seen := map[int]bool{}
	for round := 0; round < 100; round++ {
		tids, err := listThreads(s.PID)
		if err != nil {
			if len(seen) == 0 {
				return explainSeize(s.PID, fmt.Errorf("no process %d: %w", s.PID, syscall.ESRCH))
			}
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if seen[tid] {
				continue
			}
			seen[tid] = true
			if err := ptrace.Seize(tid, 0); err != nil {
				if len(s.threads) == 0 && tid == s.PID {
					return explainSeize(s.PID, err)
				}
				continue // the thread exited meanwhile
			}
			if err := ptrace.Interrupt(tid); err != nil {
				ptrace.Detach(tid, 0)
				continue
			}
			_, ws, err := ptrace.Wait(tid, 0)
			if err != nil || ws.Exited() || ws.Signaled() {
				continue
			}
			st := stopped{tid: tid}
			if ws.Stopped() && ptrace.Event(ws) == 0 && ws.StopSignal() != syscall.SIGTRAP {
				// A signal-delivery-stop came first: deliver it when detaching.
				st.sig = int(ws.StopSignal())
			}
			s.threads = append(s.threads, st)
			fresh++
		}
		if fresh == 0 {
			if len(s.threads) == 0 {
				return fmt.Errorf("process %d has no thread that could be stopped", s.PID)
			}
			return nil
		}
	}
	return fmt.Errorf("process %d kept creating threads while being stopped", s.PID)
}

// Detach lets the process run again. It is safe to call more than once.
func (s *Snapshot) Detach() error {
	if s.tr == nil {
		return nil
	}
	var first error
	s.tr.do(func() {
		for _, t := range s.threads {
			if err := ptrace.Detach(t.tid, t.sig); err != nil && first == nil {
				first = err
			}
		}
	})
	s.tr.stop()
	s.tr = nil
	if s.mem != nil {
		s.mem.f.Close()
	}
	return first
}

// WriteFile writes the core to path (mode 0600, replacing a file there).
func (s *Snapshot) WriteFile(path string) error { return writeCore(s.Image, path) }

func writeCore(im *corewriter.Image, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".coredig-core-*")
	if err != nil {
		return err
	}
	if _, err := im.WriteTo(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func listThreads(pid int) ([]int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// snapshotSigInfo is the siginfo of a snapshot: SIGSTOP sent by coredig (SI_USER with
// coredig's pid and uid).
func snapshotSigInfo(a *arch.Arch) []byte {
	si := make([]byte, ptrace.SigInfoSize)
	a.ByteOrder.PutUint32(si[0:], SIGSTOP)
	a.ByteOrder.PutUint32(si[16:], uint32(os.Getpid()))
	a.ByteOrder.PutUint32(si[20:], uint32(os.Getuid()))
	return si
}

// describe reads the description of stopped threads tids of pid, first being the thread
// the signal is for, from ptrace and /proc. It runs on the tracer thread.
func describe(a *arch.Arch, pid int, tids []int, first int, signal int, siginfo []byte) (*corewriter.Process, *procMemory, []string, error) {
	var warns []string
	p := &corewriter.Process{Arch: a, SigInfo: siginfo}
	order := append([]int{}, tids...)
	sort.SliceStable(order, func(i, j int) bool { return order[i] == first && order[j] != first })
	for _, tid := range order {
		t, err := describeThread(a, pid, tid, signal)
		if err != nil {
			warns = append(warns, fmt.Sprintf("thread %d left out: %v", tid, err))
			continue
		}
		p.Threads = append(p.Threads, t)
	}
	if len(p.Threads) == 0 {
		return nil, nil, warns, fmt.Errorf("process %d: no thread's registers could be read: %s", pid, warns[0])
	}
	dir := fmt.Sprintf("/proc/%d", pid)
	st, err := readStat(dir + "/stat")
	if err != nil {
		return nil, nil, warns, err
	}
	status, err := readStatus(dir + "/status")
	if err != nil {
		return nil, nil, warns, err
	}
	args, _ := readSmall(dir + "/cmdline")
	p.PsInfo = corewriter.PsInfo{SName: st.state, Nice: st.nice, Flag: st.flags,
		UID: uint32(status.first("Uid")), GID: uint32(status.first("Gid")),
		PID: pid, PPID: st.ppid, PGRP: st.pgrp, SID: st.sid, FName: st.comm, Args: args}
	if p.Auxv, err = readSmall(dir + "/auxv"); err != nil {
		warns = append(warns, fmt.Sprintf("no auxiliary vector: %v", err))
		p.Auxv = nil
	}
	filter := uint64(DefaultFilter)
	if b, err := readSmall(dir + "/coredump_filter"); err == nil {
		if v, ok := parseFilter(b); ok {
			filter = v
		}
	}
	if fds := describeFiles(pid, a.ByteOrder); len(fds) > 0 {
		p.Extra = append(p.Extra, corewriter.Note{Name: corewriter.NoteOwner, Type: corewriter.NT_COREDIG_FILES, Desc: fds})
	}
	f, err := os.Open(dir + "/mem")
	if err != nil {
		return nil, nil, warns, fmt.Errorf("opening %s/mem: %w", dir, err)
	}
	mem := &procMemory{f: f}
	vmas, err := readSmaps(pid)
	if err != nil {
		f.Close()
		return nil, nil, warns, err
	}
	for i := range vmas {
		v := &vmas[i]
		d := dumpSize(v, filter, a.PageSize, func() bool { return isELF(mem, v) })
		p.Mappings = append(p.Mappings, v.mapping(d))
	}
	return p, mem, warns, nil
}

// isELF reports whether a file mapping's first page starts with the ELF magic, or its
// file is executable (vma_dump_size's two tests for the header page).
func isELF(mem *procMemory, v *vma) bool {
	if fi, err := os.Stat(v.name); err == nil && fi.Mode()&0o111 != 0 && fi.Mode().IsRegular() {
		return true
	}
	var b [4]byte
	n, _ := mem.ReadAt(b[:], v.start)
	return n == 4 && string(b[:]) == "\x7fELF"
}

func describeThread(a *arch.Arch, pid, tid, signal int) (corewriter.Thread, error) {
	t := corewriter.Thread{TID: tid, Signal: signal}
	regs := make([]byte, a.PrStatus.RegsSize)
	n, err := ptrace.RegSet(tid, ntPrStatus, regs)
	if err != nil {
		return t, err
	}
	if n != len(regs) {
		return t, fmt.Errorf("NT_PRSTATUS register set is %d bytes, want %d", n, len(regs))
	}
	t.Regs = regs
	for _, rs := range a.CoreRegSets {
		buf := make([]byte, rs.MaxSize)
		n, err := ptrace.RegSet(tid, rs.Type, buf)
		if err != nil || n == 0 {
			continue // the kernel has no such set for this task (as it writes none)
		}
		t.RegSets = append(t.RegSets, corewriter.RegSet{Type: rs.Type, Data: buf[:n]})
	}
	dir := fmt.Sprintf("/proc/%d/task/%d", pid, tid)
	if st, err := readStat(dir + "/stat"); err == nil {
		t.PPID, t.PGRP, t.SID = st.ppid, st.pgrp, st.sid
		t.UTime, t.STime, t.CUTime, t.CSTime = st.utime, st.stime, st.cutime, st.cstime
	}
	if status, err := readStatus(dir + "/status"); err == nil {
		t.SigPend, t.SigHold = status.hex("SigPnd"), status.hex("SigBlk")
	}
	return t, nil
}

// procMemory reads a process's memory from /proc/PID/mem. pread is used directly: the
// file takes offsets above 1<<63 (the kernel marks it FMODE_UNSIGNED_OFFSET), which
// os.File.ReadAt refuses.
type procMemory struct{ f *os.File }

func (m *procMemory) ReadAt(p []byte, addr uint64) (int, error) {
	n := 0
	for n < len(p) {
		k, err := syscall.Pread(int(m.f.Fd()), p[n:], int64(addr+uint64(n)))
		if k <= 0 {
			if err == nil {
				err = fmt.Errorf("nothing read")
			}
			return n, fmt.Errorf("reading memory at %#x: %w", addr+uint64(n), err)
		}
		n += k
	}
	return n, nil
}
