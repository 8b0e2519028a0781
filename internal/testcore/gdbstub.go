//go:build linux

package testcore

import (
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/corewriter"
)

// Cores through qemu's gdbstub, for guests whose qemu-user writes no core.
//
// Debian 12's qemu-user 7.2 dumps no core of a riscv64 guest: linux-user/elfload.c
// defines ELF_CORE_COPY_REGS and USE_ELF_CORE_DUMP for the other targets but not for
// TARGET_RISCV (upstream qemu added HAVE_ELF_CORE_DUMP and elf_core_copy_regs
// for riscv in linux-user/riscv/ long after 7.2). And
// gdb-multiarch 13's gcore of a riscv64 inferior on an x86_64 host is unreadable, even
// by gdb: BFD has no riscv elf_backend_write_core_note, so NT_PRSTATUS is written with
// the host's prstatus_t (336 bytes, pr_reg cut to 27 of the 32 registers), and without
// /proc/PID/maps over the remote protocol (qemu 7.2 answers no vFile packets) gcore
// writes neither NT_FILE nor the mappings, only the loaded files' sections.
//
// So the program runs under qemu-user with -g (the gdbstub on a unix socket), and
// gdb-multiarch, driven by gdbCoreScript, lets it run to its first core-dumping signal
// and reads, at that stop, each thread's registers (general and floating point), the
// auxiliary vector and the guest's own /proc/self/maps (read by calling open and read
// in the stopped guest; qemu answers it with the guest's mappings), and copies out the
// memory the kernel would dump (coredump_filter 0x33: anonymous and written private
// mappings whole, the first page of a file mapped from offset 0). corewriter then lays
// the core out as the kernel's fs/binfmt_elf.c does. Everything in it is the guest's
// state at the fault; its layout is coredig's writer, which gdb-multiarch then reads
// independently in the tests. Missing against a kernel core: NT_SIGINFO (qemu 7.2's
// gdbstub gives no siginfo) and exact pr_sigpend/pr_sighold and times.
//
// Other threads keep running in qemu-user while gdb holds the faulting one (its
// gdbstub stops only the thread that stopped), so their registers are a moment's
// snapshot; threads blocked in a system call, as in the crashers, do not move.

// gdbCoreScript runs in gdb-multiarch after "target remote"; OUT (set before it) is the
// JSON file to write and MEMDIR the directory for memory contents.
const gdbCoreScript = `
import gdb, json, os, re, signal

DUMPING = {"SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGSEGV",
           "SIGSYS", "SIGXCPU", "SIGXFSZ"}
gdb.execute("set pagination off")
for s in ("SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGPIPE", "SIGTERM", "SIGHUP",
          "SIGINT", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGCONT", "SIGURG"):
    gdb.execute("handle %s nostop noprint pass" % s, to_string=True)
stops = []
def on_stop(ev):
    if isinstance(ev, gdb.SignalEvent):
        stops.append(ev.stop_signal)
gdb.events.stop.connect(on_stop)
# Signals gdb stops for by default but that dump no core (glibc's real-time signals)
# are passed on; the first core-dumping one is the crash.
for _ in range(1000):
    if not gdb.selected_inferior().pid:
        raise gdb.GdbError("the program exited without a core-dumping signal: %r" % stops)
    gdb.execute("continue")
    if stops and stops[-1] in DUMPING:
        break
else:
    raise gdb.GdbError("no core-dumping signal after 1000 stops: %r" % stops[-5:])
signame = stops[-1]  # the host's numbering (below) is Linux's generic one, as riscv64's
gdb.events.stop.disconnect(on_stop)
inf = gdb.selected_inferior()
crashed = gdb.selected_thread()

GREGS = ["pc", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2", "a3",
         "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
         "t3", "t4", "t5", "t6"]
FREGS = ["ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1",
         "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
         "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"]
def raw(name):
    text = gdb.execute("info registers " + name, to_string=True)
    m = re.search(r"\(raw (0x[0-9a-f]+)\)", text) or re.search(r"^\S+\s+(0x[0-9a-f]+)", text)
    return int(m.group(1), 16)

threads = []
for t in [crashed] + sorted((t for t in inf.threads() if t.num != crashed.num), key=lambda t: t.num):
    t.switch()
    f = gdb.newest_frame()
    threads.append({"tid": t.ptid[1],
                    "regs": [int(f.read_register(r)) & (1 << 64) - 1 for r in GREGS],
                    "fregs": [raw(r) for r in FREGS], "fcsr": raw("fcsr")})
crashed.switch()

auxv = []
for line in gdb.execute("info auxv", to_string=True).splitlines():
    m = re.match(r"^(\d+)\s+\S+\s+.*?\s(0x[0-9a-f]+|\d+)(\s+\".*\")?$", line)
    if m:
        auxv.append([int(m.group(1)), int(m.group(2), 0)])

# The guest's /proc/self/maps, read by the guest: qemu-user answers the open with the
# guest's mappings. The calls run on the crashing thread's stack, in a window below sp,
# or above it when the stack is exhausted (an overflow: $sp is moved there); the
# window's bytes are put back afterwards, so the core holds the memory of the fault.
WIN = 0x40000
sp = int(gdb.parse_and_eval("$sp"))
lo, moved = (sp - WIN) & ~0xfff, False
try:
    saved = bytes(inf.read_memory(lo, WIN))
except gdb.MemoryError:
    lo, moved = (sp + 0x1000) & ~0xfff, True
    saved = bytes(inf.read_memory(lo, WIN))
    gdb.execute("set $sp = %d" % (lo + WIN - 0x100))
buf = lo + 0x100
inf.write_memory(buf + 0x10000, b"/proc/self/maps\0")
fd = int(gdb.parse_and_eval("((int(*)(char*,int,...))open)(%d, 0)" % (buf + 0x10000)))
if fd < 0:
    raise gdb.GdbError("open(/proc/self/maps) in the guest returned %d" % fd)
text = b""
for _ in range(1024):
    n = int(gdb.parse_and_eval("((long(*)(int,char*,unsigned long))read)(%d, %d, 4096)" % (fd, buf)))
    if n <= 0:
        break
    text += bytes(inf.read_memory(buf, n))
gdb.parse_and_eval("((int(*)(int))close)(%d)" % fd)
inf.write_memory(lo, saved)
if moved:
    gdb.execute("set $sp = %d" % sp)

maps = []
for line in text.decode().splitlines():
    f = line.split(None, 5)
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    perms, off = f[1], int(f[2], 16)
    path = f[5].strip() if len(f) > 5 else ""
    anon = path == "" or path.startswith("[")
    if perms[0] != "r":
        dump = 0
    elif anon or "w" in perms or (perms[2] != "x" and off != 0):
        dump = hi - lo  # anonymous, or a private mapping the loader wrote (data, relro)
    elif off == 0:
        dump = 4096     # the ELF header page
    else:
        dump = 0
    mem = ""
    if dump:
        mem = os.path.join(MEMDIR, "%x" % lo)
        with open(mem, "wb") as out:
            out.write(bytes(inf.read_memory(lo, dump)))
    maps.append({"start": lo, "end": hi, "perms": perms, "offset": off,
                 "path": "" if anon else path, "dump": dump, "mem": mem})

with open(OUT, "w") as out:
    json.dump({"signal": getattr(signal, signame).value, "threads": threads, "auxv": auxv,
               "maps": maps}, out)
`

// gdbCore is what gdbCoreScript writes.
type gdbCore struct {
	Signal  int `json:"signal"`
	Threads []struct {
		TID   int      `json:"tid"`
		Regs  []uint64 `json:"regs"`
		FRegs []uint64 `json:"fregs"`
		FCSR  uint64   `json:"fcsr"`
	} `json:"threads"`
	Auxv [][2]uint64 `json:"auxv"`
	Maps []struct {
		Start, End, Offset, Dump uint64
		Perms, Path, Mem         string
	} `json:"maps"`
}

// crashUnderGDB runs c.Exe under qemu's gdbstub and writes its core from what
// gdb-multiarch reads at the first core-dumping signal (see the comment above).
func crashUnderGDB(c *Core, em Emulated) error {
	s := c.Spec
	if s.KillWith != 0 {
		return fmt.Errorf("arch %s: KillWith is not supported under the gdbstub", s.Arch)
	}
	a := arch.ByName(s.Arch)
	if a == nil {
		return fmt.Errorf("arch %s has no arch value", s.Arch)
	}
	qemu, err := exec.LookPath(em.Qemu)
	if err != nil {
		return fmt.Errorf("%s not found (apt-get install qemu-user): %w", em.Qemu, err)
	}
	gdbPath, err := exec.LookPath("gdb-multiarch")
	if err != nil {
		return fmt.Errorf("gdb-multiarch not found (apt-get install gdb-multiarch): %w", err)
	}
	runDir := filepath.Join(c.Dir, "run")
	memDir := filepath.Join(c.Dir, "gdbmem")
	for _, d := range []string{runDir, memDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("making %s: %w", d, err)
		}
	}
	sock := filepath.Join(c.Dir, "gdb.sock")
	script := filepath.Join(c.Dir, "gdbcore.py")
	out := filepath.Join(c.Dir, "gdbcore.json")
	if err := os.WriteFile(script, []byte(gdbCoreScript), 0o644); err != nil {
		return err
	}

	argv := append([]string{qemu, "-L", em.Sysroot, "-g", sock, c.Exe}, s.Args...)
	q := exec.Command(argv[0], argv[1:]...)
	q.Dir = runDir
	q.Env = crashEnv(s.Env)
	q.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	qout, qerr := &capped{}, &capped{}
	q.Stdout, q.Stderr = qout, qerr
	if err := q.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", qemu, err)
	}
	c.PID = q.Process.Pid
	qdone := make(chan error, 1)
	go func() { qdone <- q.Wait() }()
	stopQemu := func() {
		select {
		case <-qdone:
		case <-time.After(10 * time.Second):
			_ = q.Process.Kill()
			<-qdone
		}
		c.Stdout, c.Stderr = qout.String(), qerr.String()
	}
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i == 200 {
			_ = q.Process.Kill()
			stopQemu()
			return fmt.Errorf("%s made no gdbstub socket %s in 10s. stderr:\n%s", em.Qemu, sock, limitString(c.Stderr, 8192))
		}
		time.Sleep(50 * time.Millisecond)
	}

	g := exec.Command(gdbPath, "-nx", "-batch",
		"-ex", "set sysroot "+em.Sysroot,
		"-ex", "target remote "+sock,
		"-ex", fmt.Sprintf("python OUT = %q; MEMDIR = %q", out, memDir),
		"-x", script, c.Exe)
	g.Dir = c.Dir
	g.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	gout := &capped{}
	g.Stdout, g.Stderr = gout, gout
	if err := g.Start(); err != nil {
		_ = q.Process.Kill()
		stopQemu()
		return fmt.Errorf("starting gdb-multiarch: %w", err)
	}
	gdone := make(chan error, 1)
	go func() { gdone <- g.Wait() }()
	var gerr error
	select {
	case gerr = <-gdone:
	case <-time.After(s.Timeout):
		_ = g.Process.Kill()
		<-gdone
		gerr = fmt.Errorf("gdb-multiarch did not finish within %v; killed it", s.Timeout)
	}
	// gdb kills the inferior when it exits; make sure of it, by pid.
	stopQemu()
	data, err := os.ReadFile(out)
	if err != nil {
		return fmt.Errorf("gdb-multiarch wrote no description of the stopped guest (%v, %v). gdb output:\n%s\nqemu stderr:\n%s",
			gerr, err, limitString(gout.String(), 8192), limitString(c.Stderr, 8192))
	}
	var d gdbCore
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	path := filepath.Join(runDir, "core."+strconv.Itoa(c.PID))
	if err := writeGDBCore(path, a, c, &d); err != nil {
		return err
	}
	c.Signal = syscall.Signal(d.Signal)
	if err := os.RemoveAll(memDir); err != nil {
		return err
	}
	return setCore(c, path)
}

// writeGDBCore lays out the core of d with corewriter.
func writeGDBCore(path string, a *arch.Arch, c *Core, d *gdbCore) error {
	if len(d.Threads) == 0 {
		return errors.New("gdb saw no threads")
	}
	bo := a.ByteOrder
	p := &corewriter.Process{Arch: a,
		PsInfo: corewriter.PsInfo{SName: 'R', PID: c.PID, PPID: os.Getpid(), PGRP: c.PID, SID: c.PID,
			FName: filepath.Base(c.Exe), Args: []byte(strings.Join(append([]string{c.Exe}, c.Spec.Args...), "\x00"))}}
	for _, t := range d.Threads {
		if len(t.Regs) != len(a.RegNames) || len(t.FRegs) != 32 {
			return fmt.Errorf("thread %d: %d registers and %d FP registers from gdb", t.TID, len(t.Regs), len(t.FRegs))
		}
		regs := make([]byte, a.PrStatus.RegsSize)
		for i, v := range t.Regs {
			bo.PutUint64(regs[8*i:], v)
		}
		// struct __riscv_d_ext_state: f[32], fcsr, padding.
		fp := make([]byte, 33*8)
		for i, v := range t.FRegs {
			bo.PutUint64(fp[8*i:], v)
		}
		bo.PutUint32(fp[32*8:], uint32(t.FCSR))
		p.Threads = append(p.Threads, corewriter.Thread{TID: t.TID, Signal: d.Signal,
			PPID: os.Getpid(), PGRP: c.PID, SID: c.PID, Regs: regs,
			RegSets: []corewriter.RegSet{{Type: corewriter.NT_PRFPREG, Data: fp}}})
	}
	for _, kv := range d.Auxv {
		var e [16]byte
		bo.PutUint64(e[:], kv[0])
		bo.PutUint64(e[8:], kv[1])
		p.Auxv = append(p.Auxv, e[:]...)
	}
	mem := mappedFiles{}
	for _, m := range d.Maps {
		var fl elf.ProgFlag
		for i, f := range []elf.ProgFlag{elf.PF_R, elf.PF_W, elf.PF_X} {
			if len(m.Perms) > i && m.Perms[i] != '-' {
				fl |= f
			}
		}
		p.Mappings = append(p.Mappings, corewriter.Mapping{Start: m.Start, End: m.End, Flags: fl,
			Dump: m.Dump, File: m.Path, Offset: m.Offset})
		if m.Mem != "" {
			b, err := os.ReadFile(m.Mem)
			if err != nil {
				return err
			}
			mem[m.Start] = b
		}
	}
	im, err := corewriter.NewImage(p, mem)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := im.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// mappedFiles is guest memory copied out by gdb, by mapping start.
type mappedFiles map[uint64][]byte

func (m mappedFiles) ReadAt(p []byte, addr uint64) (int, error) {
	for start, b := range m {
		if addr >= start && addr-start < uint64(len(b)) {
			n := copy(p, b[addr-start:])
			if n < len(p) {
				return n, errors.New("past the copied part of the mapping")
			}
			return n, nil
		}
	}
	return 0, errors.New("not copied")
}
