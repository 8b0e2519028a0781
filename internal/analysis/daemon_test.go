package analysis

import (
	"github.com/coredig/coredig/internal/disasm"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// daemonCore runs a real Debian daemon until it dumps core and returns the core's path.
// The kernel must write cores to files (kernel.core_pattern "core"); the test fails loudly
// otherwise.
func daemonCore(t *testing.T, crash func(), name string, args ...string) string {
	t.Helper()
	pattern, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil || strings.HasPrefix(string(pattern), "|") || strings.TrimSpace(string(pattern)) == "" {
		t.Fatalf("kernel.core_pattern is %q: cores go to a program or nowhere; set it to 'core' (sysctl -w kernel.core_pattern=core)", pattern)
	}
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed (scripts/deps.sh installs it): %v", name, err)
	}
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_CORE, &old)
	lim := syscall.Rlimit{Cur: old.Max, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &lim); err != nil || lim.Cur < 1<<30 {
		t.Fatalf("cannot raise RLIMIT_CORE (hard limit %d): %v", old.Max, err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_CORE, &old)
	dir := t.TempDir()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	crash()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%s did not die within 60 s", name)
	}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.CoreDump() {
		t.Fatalf("%s ended with %v and no core dump", name, cmd.ProcessState)
	}
	for _, n := range []string{"core", "core." + strconv.Itoa(cmd.Process.Pid)} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return filepath.Join(dir, n)
		}
	}
	t.Fatalf("%s dumped core but no core file is in %s (core_pattern %q)", name, dir, pattern)
	return ""
}

// Debian's redis-server installs its own SIGSEGV handler (SA_SIGINFO): it logs a bug
// report and re-raises with kill(). `DEBUG SEGFAULT` writes to a read-only page it mapped.
// The original fault comes back from the signal frame's siginfo. The handler's memory
// test is turned off: it overwrites every writable mapping in turn, the crashing thread's
// control block too, and when the kernel preempts the thread meanwhile its rseq check
// kills it with SIGSEGV SI_KERNEL inside the handler (one run in about 14 under load;
// TestRseqCorrupted has that case).
func TestDebianRedisCrash(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	crash := func() {
		var conn net.Conn
		for i := 0; i < 100; i++ {
			if conn, err = net.Dial("tcp", "127.0.0.1:"+port); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if conn == nil {
			t.Errorf("redis did not listen on %s: %v", port, err)
			return
		}
		defer conn.Close()
		conn.Write([]byte("*2\r\n$5\r\nDEBUG\r\n$8\r\nSEGFAULT\r\n"))
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		conn.Read(make([]byte, 64))
	}
	path := daemonCore(t, crash, "redis-server", "--port", port, "--bind", "127.0.0.1", "--enable-debug-command", "yes", "--save", "", "--appendonly", "no", "--crash-memcheck-enabled", "no")
	a, _ := open(t, path, symbolize.Options{})
	r := a.Full(FullOptions{})
	if s := r.Signal; s.Name != "SIGSEGV" || s.CodeName != "SI_USER" || !*s.SenderIsSelf {
		t.Fatalf("signal %+v: want SIGSEGV SI_USER from redis itself", s)
	}
	d := r.Diagnosis
	if d.Kind != "write_to_readonly" || d.Original == nil || d.Original.CodeName != "SEGV_ACCERR" || d.Original.Source != "signal frame siginfo" {
		t.Fatalf("diagnosis %s, original %+v", d.Kind, d.Original)
	}
	if d.Evidence["function"] != "debugCommand" || d.Evidence["matches_fault_address"] != "true" || !strings.HasPrefix(d.Evidence["instruction"], "movb ") {
		t.Errorf("evidence %v", d.Evidence)
	}
	var names []string
	for _, f := range r.Threads[0].Frames {
		names = append(names, f.Function)
	}
	stack := strings.Join(names, " ")
	for _, want := range []string{"bugReportEnd", SignalHandlerCalled, "debugCommand", "processCommand", "aeMain", "main"} {
		if !strings.Contains(stack, want) {
			t.Errorf("crashing stack lacks %s: %s", want, stack)
		}
	}
	if len(r.Threads) < 2 {
		t.Errorf("redis 7 runs background threads; got %d", len(r.Threads))
	}
	// redis sets its title over argv[0] and moves the other arguments to the heap;
	// the argv pointers on the stack still lead to them.
	want := []string{"redis-server 127.0.0.1:" + port, "--port", port, "--bind", "127.0.0.1", "--enable-debug-command", "yes", "--save", "", "--appendonly", "no", "--crash-memcheck-enabled", "no"}
	if p := r.Process; !slices.Equal(p.Args, want) || p.ArgsSource != "stack" {
		t.Errorf("args %q from %s, want %q from the stack", p.Args, p.ArgsSource, want)
	}
}

// gdb's gcore writes a core of a live process: its signal is the SIGSTOP gdb stopped it
// with, and it leaves read-only file mappings out of the program headers. coredig calls
// it a snapshot and still reads code from the verified files.
func TestGcoreSnapshot(t *testing.T) {
	if _, err := exec.LookPath("gcore"); err != nil {
		t.Fatalf("gcore (package gdb) is needed: %v", err)
	}
	sleeper := exec.Command("sleep", "300")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	time.Sleep(200 * time.Millisecond)
	prefix := filepath.Join(t.TempDir(), "core")
	if out, err := exec.Command("gcore", "-o", prefix, strconv.Itoa(sleeper.Process.Pid)).CombinedOutput(); err != nil {
		t.Fatalf("gcore: %v\n%s", err, out)
	}
	path := prefix + "." + strconv.Itoa(sleeper.Process.Pid)
	a, _ := open(t, path, symbolize.Options{})
	r := a.Full(FullOptions{})
	if r.Signal == nil || r.Signal.Name != "SIGSTOP" || r.Diagnosis == nil || r.Diagnosis.Kind != "snapshot" {
		t.Fatalf("signal %+v, diagnosis %+v", r.Signal, r.Diagnosis)
	}
	if r.CrashedTID != nil || r.Threads[0].Crashed {
		t.Errorf("a snapshot has no crashing thread")
	}
	f := r.Threads[0].Frames
	if len(f) < 3 || !strings.Contains(f[0].Function, "clock_nanosleep") || f[1].Function != "__GI___nanosleep" {
		t.Errorf("frames %s", dump(f))
	}
	// The text page is not in a gcore core; it comes from the verified libc.
	if _, err := a.decodeAt(uint64(f[0].PC), 0, disasm.ModeDefault); err != nil {
		t.Errorf("code at the pc: %v", err)
	}
}

// The incident's core came from an emulated x86_64 container. qemu-x86_64 writes such
// cores itself: no NT_FILE, no NT_SIGINFO. Modules come from link_map, and the report is
// whole.
func TestQemuEmulatedX86(t *testing.T) {
	for _, tool := range []string{"qemu-x86_64", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (scripts/deps.sh installs qemu-user): %v", tool, err)
		}
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "deref")
	src := testcore.SourcePath(t, "deref.c")
	if out, err := exec.Command("gcc", "-O0", "-g", "-pthread", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_CORE, &old)
	lim := syscall.Rlimit{Cur: old.Max, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &lim); err != nil || lim.Cur < 1<<30 {
		t.Fatalf("cannot raise RLIMIT_CORE (hard limit %d): %v", old.Max, err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_CORE, &old)
	cmd := exec.Command("qemu-x86_64", exe)
	cmd.Dir = dir
	if err := cmd.Run(); err == nil {
		t.Fatal("the crasher exited normally under qemu")
	}
	cores, _ := filepath.Glob(filepath.Join(dir, "qemu_deref_*.core"))
	if len(cores) != 1 {
		t.Fatalf("qemu wrote %d cores in %s (%v)", len(cores), dir, cores)
	}
	a, _ := open(t, cores[0], symbolize.Options{})
	r := a.Full(FullOptions{})
	if r.Process.Arch != "x86_64" || len(r.Threads) != 4 || r.Signal.Source != "NT_PRSTATUS" || r.Signal.Name != "SIGSEGV" {
		t.Fatalf("process %+v, %d threads, signal %+v", r.Process, len(r.Threads), r.Signal)
	}
	var names []string
	for _, f := range r.Threads[0].Frames {
		names = append(names, f.Function)
	}
	if len(names) < 2 || names[0] != "deref" || names[1] != "main" {
		t.Errorf("crashing stack %v", names)
	}
	d := r.Diagnosis
	if d.Kind != "null_pointer_dereference" || d.Evidence["fault_address"] != "0x60" || d.Evidence["null_register"] != "rax" {
		t.Errorf("diagnosis %s %v", d.Kind, d.Evidence)
	}
	for _, m := range r.Modules {
		if !m.VDSO && m.Status != "verified" {
			t.Errorf("module %s: %s", m.Path, m.Status)
		}
	}
}
