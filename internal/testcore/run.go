//go:build linux

package testcore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	corePatternFile = "/proc/sys/kernel/core_pattern"
	coreUsesPIDFile = "/proc/sys/kernel/core_uses_pid"
	maxOutput       = 1 << 20
	maxCandidates   = 1000
)

// coreSettings are the host's kernel core settings, read at run time.
type coreSettings struct {
	pattern string
	usesPID bool
}

// readCoreSettings reads core_pattern and core_uses_pid and refuses
// settings under which the kernel writes no core file.
func readCoreSettings() (coreSettings, error) {
	var cs coreSettings
	p, err := os.ReadFile(corePatternFile)
	if err != nil {
		return cs, fmt.Errorf("reading %s: %w (testcore needs Linux kernel core dumps)", corePatternFile, err)
	}
	cs.pattern = strings.TrimRight(string(p), "\n")
	u, err := os.ReadFile(coreUsesPIDFile)
	if err != nil {
		return cs, fmt.Errorf("reading %s: %w", coreUsesPIDFile, err)
	}
	cs.usesPID = strings.TrimSpace(string(u)) != "0"
	if _, err := coreGlob(cs.pattern, cs.usesPID, 1); err != nil {
		return cs, fmt.Errorf("%w; the kernel will write no core file for testcore to read. "+
			"As root on the host (a container shares the host's setting), run "+
			"`sysctl -w kernel.core_pattern=core` (or `echo core > %s`) to have cores written as "+
			"files in the crashing process's working directory", err, corePatternFile)
	}
	return cs, nil
}

var (
	rlimitOnce sync.Once
	rlimitErr  error
)

// raiseCoreLimit sets this process's soft RLIMIT_CORE to its hard limit,
// so that the crashers it starts inherit it. It fails when the hard limit
// is too small for a useful core.
func raiseCoreLimit() error {
	rlimitOnce.Do(func() {
		var rl syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &rl); err != nil {
			rlimitErr = fmt.Errorf("getrlimit(RLIMIT_CORE): %w", err)
			return
		}
		const minCore = 1 << 30
		if rl.Max < minCore {
			rlimitErr = fmt.Errorf("the hard RLIMIT_CORE is %d bytes: cores would be cut or not written; "+
				"raise it (`ulimit -Hc unlimited` as root, or LimitCORE=infinity in a systemd unit, "+
				"or `docker run --ulimit core=-1`)", rl.Max)
			return
		}
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &rl); err != nil {
			rlimitErr = fmt.Errorf("setrlimit(RLIMIT_CORE, %d): %w", rl.Max, err)
		}
	})
	return rlimitErr
}

// scrubbedEnv are variables of the test's environment that would change how
// the crashers die; they are dropped unless the spec sets them.
var scrubbedEnv = []string{"GOTRACEBACK", "GODEBUG", "PYTHONFAULTHANDLER", "PYTHONPATH",
	"PYTHONHOME", "PYTHONSTARTUP", "LD_PRELOAD", "QEMU_LD_PREFIX", "QEMU_STRACE",
	// With RUST_BACKTRACE set, a Rust panic symbolizes its own backtrace
	// before aborting: it maps its debug files and grows its heap, and
	// the core with it.
	"RUST_BACKTRACE", "RUST_LIB_BACKTRACE"}

func crashEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, s := range scrubbedEnv {
			if k == s {
				drop = true
			}
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// capped collects at most maxOutput bytes and notes a "ready" line.
type capped struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	cut   bool
	ready chan struct{}
	once  sync.Once
	// readyLine is the first line that starts with "ready".
	readyLine string
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := maxOutput - c.buf.Len(); room < len(p) {
		c.buf.Write(p[:max(room, 0)])
		c.cut = true
	} else {
		c.buf.Write(p)
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.buf.String()
	if c.cut {
		s += "\n[... output cut at 1 MiB]"
	}
	return s
}

// readLines copies r into c line by line, closing c.ready at the first
// line that starts with "ready".
func (c *capped) readLines(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			_, _ = c.Write([]byte(line))
			if strings.HasPrefix(line, "ready") && c.ready != nil {
				c.once.Do(func() {
					c.mu.Lock()
					c.readyLine = strings.TrimSpace(line)
					c.mu.Unlock()
					close(c.ready)
				})
			}
		}
		if err != nil {
			return
		}
	}
}

// crash runs c.Exe in c.Dir/run until it dies by a signal and fills in the
// core's path.
func crash(c *Core) error {
	s := c.Spec
	if em := emulated[s.Arch]; em.GDBStub {
		return crashUnderGDB(c, em)
	}
	if err := raiseCoreLimit(); err != nil {
		return err
	}
	cs, err := readCoreSettings()
	if err != nil {
		return err
	}
	runDir := filepath.Join(c.Dir, "run")
	if err := os.Mkdir(runDir, 0o755); err != nil {
		return fmt.Errorf("making the run directory: %w", err)
	}
	argv := append([]string{c.Exe}, s.Args...)
	if filepath.Ext(s.Source) == ".py" {
		argv = append(append(append([]string{c.Exe}, s.PyFlags...), c.Source), s.Args...)
	}
	if em := emulated[s.Arch]; em.Qemu != "" {
		qemu, err := exec.LookPath(em.Qemu)
		if err != nil {
			return fmt.Errorf("%s not found (apt-get install qemu-user): %w", em.Qemu, err)
		}
		// c.Sysroot is the cross compilers' sysroot, or the root of the libraries of an
		// interpreter built around Debian's libpython of the architecture
		// (buildForeignPython), whose loader and C library come from that root together.
		args := []string{qemu, "-L", c.Sysroot}
		if c.Sysroot == em.Sysroot {
			// The guest's loader comes from the cross sysroot; its C library must too.
			// Once Debian's multiarch C library of the same architecture is installed
			// (libc6:armhf, pulled in by libpython3.11:armhf), the loader's default
			// search finds it first through qemu's fallback to host paths, and a loader
			// and libc of two builds run threads wrongly or abort. LD_LIBRARY_PATH=/lib
			// (the sysroot's, through -L) keeps the pair together.
			args = append(args, "-E", "LD_LIBRARY_PATH=/lib")
		}
		argv = append(args, argv...)
	}
	// Pdeathsig fires when the thread that forked the program ends, not the process.
	// Go ends a thread whose goroutine exits locked to it (capture's tracer does, in a
	// BeforeKill); keep the forking thread to this goroutine until the program is
	// reaped, so no other goroutine can end it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = runDir
	cmd.Env = crashEnv(s.Env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout := &capped{}
	if s.KillWith != 0 {
		stdout.ready = make(chan struct{})
	}
	stderr := &capped{}
	cmd.Stderr = stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("stdout pipe: %w", err)
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", argv[0], err)
	}
	c.PID = cmd.Process.Pid
	readDone := make(chan struct{})
	go func() {
		stdout.readLines(pipe)
		close(readDone)
	}()
	timer := time.NewTimer(s.Timeout)
	defer timer.Stop()
	timedOut := false
	if s.KillWith != 0 {
		select {
		case <-stdout.ready:
			if s.KillAfter > 0 {
				time.Sleep(s.KillAfter)
			}
			target := c.PID
			if s.KillChild {
				stdout.mu.Lock()
				line := stdout.readyLine
				stdout.mu.Unlock()
				if _, err := fmt.Sscanf(line, "ready %d", &target); err != nil || target <= 0 {
					_ = cmd.Process.Kill()
					<-readDone
					_ = cmd.Wait()
					return fmt.Errorf("KillChild: the ready line %q names no child pid", line)
				}
			}
			if s.BeforeKill != nil {
				if err := s.BeforeKill(target, stdout.String()); err != nil {
					_ = cmd.Process.Kill()
					<-readDone
					_ = cmd.Wait()
					return fmt.Errorf("BeforeKill: %w", err)
				}
			}
			if err := syscall.Kill(target, s.KillWith); err != nil {
				_ = cmd.Process.Kill()
				<-readDone
				_ = cmd.Wait()
				return fmt.Errorf("kill(%d, %v): %w", target, s.KillWith, err)
			}
			if s.KillChild {
				c.PID, c.Signal = target, s.KillWith
			}
			c.SenderPID = os.Getpid()
		case <-readDone:
		case <-timer.C:
			timedOut = true
		}
	}
	if !timedOut {
		select {
		case <-readDone:
		case <-timer.C:
			timedOut = true
		}
	}
	if timedOut {
		_ = cmd.Process.Kill()
	}
	<-readDone
	werr := cmd.Wait()
	c.Stdout, c.Stderr = stdout.String(), stderr.String()
	if timedOut {
		return fmt.Errorf("%s did not die within %v; killed it. stdout:\n%s\nstderr:\n%s",
			strings.Join(argv, " "), s.Timeout, c.Stdout, limitString(c.Stderr, 8192))
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return fmt.Errorf("waiting for %s: %w", argv[0], werr)
	}
	if s.KillChild {
		if c.Signal == 0 {
			return fmt.Errorf("%s exited before it printed \"ready PID\". stderr:\n%s", strings.Join(argv, " "), limitString(c.Stderr, 8192))
		}
		path, err := findCore(cs, c.PID, runDir, started)
		if err != nil {
			return err
		}
		return setCore(c, path)
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return fmt.Errorf("%s exited with status %d instead of dying by a signal. stderr:\n%s",
			strings.Join(argv, " "), cmd.ProcessState.ExitCode(), limitString(c.Stderr, 8192))
	}
	c.Signal = ws.Signal()
	if emulated[s.Arch].Qemu != "" {
		return findQemuCore(c, cs, runDir, started)
	}
	if !ws.CoreDump() {
		return noCoreError(c, cs)
	}
	path, err := findCore(cs, c.PID, runDir, started)
	if err != nil {
		return err
	}
	return setCore(c, path)
}

// noCoreError explains why the kernel wrote no core.
func noCoreError(c *Core, cs coreSettings) error {
	var rl syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_CORE, &rl)
	return fmt.Errorf("pid %d died by %v but the kernel wrote no core (wait status has no core flag). "+
		"kernel.core_pattern=%q core_uses_pid=%v RLIMIT_CORE soft=%d hard=%d. Check that the run "+
		"directory %s is writable, that the signal's default action dumps core, and that core_pattern "+
		"names a file (`sysctl -w kernel.core_pattern=core`). stderr:\n%s",
		c.PID, c.Signal, cs.pattern, cs.usesPID, rl.Cur, rl.Max, filepath.Join(c.Dir, "run"), limitString(c.Stderr, 8192))
}

// findCore locates the core the kernel wrote for pid, per core_pattern.
func findCore(cs coreSettings, pid int, runDir string, since time.Time) (string, error) {
	glob, err := coreGlob(cs.pattern, cs.usesPID, pid)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(glob) {
		glob = filepath.Join(runDir, glob)
	}
	path, err := newestMatch(glob, since)
	if err != nil {
		return "", fmt.Errorf("the kernel reported a core for pid %d (core_pattern %q) but: %w", pid, cs.pattern, err)
	}
	return path, nil
}

// newestMatch returns the newest regular file matching glob modified at or
// after since (less one second of timestamp granularity).
func newestMatch(glob string, since time.Time) (string, error) {
	names, err := filepath.Glob(glob)
	if err != nil {
		return "", fmt.Errorf("glob %q: %w", glob, err)
	}
	if len(names) > maxCandidates {
		names = names[:maxCandidates]
	}
	type cand struct {
		name string
		mod  time.Time
	}
	var cands []cand
	for _, n := range names {
		fi, err := os.Lstat(n)
		if err != nil || !fi.Mode().IsRegular() || fi.ModTime().Before(since.Add(-time.Second)) {
			continue
		}
		cands = append(cands, cand{n, fi.ModTime()})
	}
	if len(cands) == 0 {
		return "", fmt.Errorf("no new file matches %q", glob)
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].mod.After(cands[j].mod) })
	return cands[0].name, nil
}

// findQemuCore locates qemu-user's core of the guest and deletes the
// core the kernel may also have written of qemu itself.
func findQemuCore(c *Core, cs coreSettings, runDir string, since time.Time) error {
	if host, err := findCore(cs, c.PID, runDir, since); err == nil {
		_ = os.Remove(host)
	}
	prog := filepath.Base(c.Exe)
	path, err := newestMatch(filepath.Join(runDir, "qemu_"+globQuote(prog)+"_*.core"), since)
	if err != nil {
		return fmt.Errorf("%s (pid %d) died by %v but left no guest core in %s: %w. "+
			"qemu writes qemu_<prog>_<date>-<time>_<pid>.core in the working directory when "+
			"RLIMIT_CORE allows. stderr:\n%s", emulated[c.Spec.Arch].Qemu, c.PID, c.Signal, runDir, err, limitString(c.Stderr, 8192))
	}
	return setCore(c, path)
}

func globQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`*?[\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// setCore moves a core found outside c.Dir into c.Dir/run and records it.
func setCore(c *Core, path string) error {
	runDir := filepath.Join(c.Dir, "run")
	if filepath.Dir(path) != runDir {
		dst := filepath.Join(runDir, filepath.Base(path))
		if err := moveFile(path, dst); err != nil {
			return fmt.Errorf("moving the core %s into %s: %w", path, runDir, err)
		}
		path = dst
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("core: %w", err)
	}
	c.Path, c.Size = path, fi.Size()
	return nil
}

func moveFile(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Remove(src)
}
