package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/testcore"
)

// hangKinds are the diagnoses of a hang (internal/hangs).
var hangKinds = map[string]bool{"deadlock": true, "orphaned_lock": true, "gil_held": true, "blocked": true}

// TestNoFalseAlarms: healthy, busy servers are no hang. Each of redis-server (four I/O
// threads, under redis-benchmark, then idle), postgres (the postmaster and a backend,
// under pgbench) and a CPython 3.12 thread pool (testdata/busy_pool.py) is analysed
// three times live (`coredig PID`) and snapshotted three times (`coredig gcore PID`,
// then `coredig CORE`) while the load runs: every report must be the snapshot
// diagnosis, with no cycle and no thread whose chain of waits for owners loops. The idle
// redis must first show its three I/O threads waiting for mutexes its main thread holds
// (in epoll_wait): the chain of waits an idle event loop makes, which is no hang. The
// catalogue's crash cores are checked through their committed JSON goldens (which
// TestCatalogueReports compares byte for byte): no hang diagnosis and no waits that
// loop. A missing server, benchmark or CPython fails the test.
func TestNoFalseAlarms(t *testing.T) {
	t.Run("catalogue", func(t *testing.T) {
		goldens, err := filepath.Glob(filepath.Join(catalogueGoldens, "*.json.golden"))
		if err != nil || len(goldens) == 0 {
			t.Fatalf("no catalogue goldens in %s: %v", catalogueGoldens, err)
		}
		for _, g := range goldens {
			b, err := os.ReadFile(g)
			if err != nil {
				t.Fatal(err)
			}
			var r alarmReport
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("%s: %v", g, err)
			}
			if hangKinds[r.Diagnosis.Kind] || len(r.Diagnosis.Cycle) > 0 {
				t.Errorf("%s: a crash core diagnosed as %s: %s", g, r.Diagnosis.Kind, r.Diagnosis.Summary)
			}
			if c := r.waitLoop(); c != "" {
				t.Errorf("%s: waits loop: %s", g, c)
			}
		}
	})
	t.Run("redis", func(t *testing.T) {
		server, bench := needTool(t, "redis-server"), needTool(t, "redis-benchmark")
		dir := t.TempDir()
		port := freePort(t)
		cmd := exec.Command(server, "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
			"--io-threads", "4", "--dir", dir)
		cmd.Dir = dir
		startGroup(t, cmd)
		waitFor(t, "redis-server to listen", func() bool {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		// The main thread, 3 I/O threads besides it, 3 bio threads.
		waitFor(t, "redis-server's threads", func() bool { return threadCount(cmd.Process.Pid) >= 7 })
		// -l: the benchmark loops until the test kills it.
		load := exec.Command(bench, "-p", strconv.Itoa(port), "-n", "200000", "-c", "20", "-q", "-l")
		startGroup(t, load)
		time.Sleep(time.Second)
		pid := cmd.Process.Pid
		checkNoAlarm(t, "redis-server", pid, load)
		// Idle again, redis parks its I/O threads: they wait for mutexes its main thread
		// keeps while it waits in epoll_wait for work. That chain of waits is no hang.
		syscall.Kill(-load.Process.Pid, syscall.SIGKILL)
		var parked int
		waitFor(t, "redis-server to park its I/O threads", func() bool {
			code, out, errs := runCmd("--format", "json", strconv.Itoa(pid))
			r := checkSnapshotReport(t, "idle redis-server", code, out, errs)
			parked = 0
			for _, th := range r.Threads {
				if w := th.Waiting; w != nil && w.Kind == "mutex" && w.OwnerTID != nil && *w.OwnerTID == pid {
					parked++
				}
			}
			return parked == 3
		})
		checkNoAlarm(t, "idle redis-server", pid, nil)
	})
	t.Run("postgres", func(t *testing.T) {
		testPostgres(t)
	})
	t.Run("python3.12", func(t *testing.T) {
		py := testcore.PyenvPython("3.12.1")
		if _, err := os.Stat(py); err != nil {
			t.Fatalf("pyenv CPython 3.12.1 is not installed at %s: %v", py, err)
		}
		script, err := filepath.Abs("testdata/busy_pool.py")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(py, script)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		startGroup(t, cmd)
		ready := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(out)
			ok := false
			for sc.Scan() {
				if sc.Text() == "ready" {
					ok = true
					break
				}
			}
			ready <- ok
			for sc.Scan() {
			}
		}()
		select {
		case ok := <-ready:
			if !ok {
				t.Fatal("busy_pool.py ended before it was ready")
			}
		case <-time.After(60 * time.Second):
			t.Fatal("busy_pool.py not ready after 60s")
		}
		if n := threadCount(cmd.Process.Pid); n != 9 {
			t.Fatalf("busy_pool.py has %d threads, want the main thread and 8 workers", n)
		}
		checkNoAlarm(t, "the thread pool", cmd.Process.Pid, nil)
	})
}

// testPostgres runs a postgres cluster in a temporary directory as nobody (postgres
// refuses to run as root), under pgbench's load, and checks the postmaster and one
// backend serving pgbench.
func testPostgres(t *testing.T) {
	bin := "/usr/lib/postgresql/15/bin"
	for _, tool := range []string{"initdb", "postgres", "pgbench"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			t.Fatalf("postgres's %s is not installed at %s (scripts/deps.sh installs postgresql-15): %v", tool, bin, err)
		}
	}
	setpriv := needTool(t, "setpriv")
	const nobody = 65534
	dir, err := os.MkdirTemp("", "coredig-postgres-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatalf("giving %s to nobody: %v", dir, err)
	}
	asNobody := func(name string, args ...string) *exec.Cmd {
		a := append([]string{"--reuid", "65534", "--regid", "65534", "--clear-groups", filepath.Join(bin, name)}, args...)
		c := exec.Command(setpriv, a...)
		c.Dir = dir
		c.Env = append(os.Environ(), "HOME="+dir, "PGHOST="+dir, "PGUSER=postgres", "PGDATABASE=postgres")
		return c
	}
	data := filepath.Join(dir, "data")
	if b, err := runTimeout(asNobody("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"), 120*time.Second); err != nil {
		t.Fatalf("initdb: %v\n%s", err, b)
	}
	port := freePort(t)
	pg := asNobody("postgres", "-D", data, "-k", dir, "-p", strconv.Itoa(port), "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "max_connections=20")
	pg.Stdout, pg.Stderr = nil, nil
	startGroup(t, pg)
	// Before startGroup's SIGKILL (cleanups run last first): an immediate shutdown, so
	// that the postmaster ends its backends and removes its shared memory (SysV and
	// /dev/shm); backends left after 10s are killed by pid (they run in sessions of
	// their own, out of the group).
	t.Cleanup(func() { stopPostgres(t, pg.Process.Pid) })
	sock := filepath.Join(dir, fmt.Sprintf(".s.PGSQL.%d", port))
	waitFor(t, "postgres to listen on "+sock, func() bool { _, err := os.Stat(sock); return err == nil })
	var b []byte
	for i := 0; ; i++ {
		if b, err = runTimeout(asNobody("pgbench", "-p", strconv.Itoa(port), "-i", "-s", "1", "-q"), 120*time.Second); err == nil {
			break
		}
		if i == 10 {
			t.Fatalf("pgbench -i: %v\n%s", err, b)
		}
		time.Sleep(500 * time.Millisecond) // the postmaster may still be starting
	}
	load := asNobody("pgbench", "-p", strconv.Itoa(port), "-c", "8", "-T", "600")
	startGroup(t, load)
	var backend int
	// A backend that serves pgbench's run stays; one of pgbench -i's may still be ending.
	waitFor(t, "a backend serving pgbench", func() bool {
		backend = childWith(pg.Process.Pid, "[local]")
		time.Sleep(500 * time.Millisecond)
		return backend != 0 && !exited(backend)
	})
	checkNoAlarm(t, "the postmaster", pg.Process.Pid, load)
	checkNoAlarm(t, "a postgres backend", backend, load)
}

// stopPostgres asks the postmaster pid for an immediate shutdown (SIGQUIT) and waits
// up to 10s for it to exit; then kills what is left of its children by pid.
func stopPostgres(t *testing.T, pid int) {
	children := func() []int {
		var out []int
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
		return out
	}
	left := children()
	syscall.Kill(pid, syscall.SIGQUIT)
	for deadline := time.Now().Add(10 * time.Second); !exited(pid) && time.Now().Before(deadline); {
		left = children()
		time.Sleep(50 * time.Millisecond)
	}
	if !exited(pid) {
		t.Errorf("postmaster %d still running 10s after SIGQUIT", pid)
	}
	for _, c := range left {
		if !exited(c) {
			syscall.Kill(c, syscall.SIGKILL)
		}
	}
}

// checkNoAlarm analyses pid three times live and snapshots it three times while load
// (when not nil) keeps running, and fails unless every report is the snapshot
// diagnosis with no loop of waits.
func checkNoAlarm(t *testing.T, what string, pid int, load *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		if load != nil && exited(load.Process.Pid) {
			t.Fatalf("the load on %s ended before analysis %d", what, i+1)
		}
		code, out, errs := runCmd("--format", "json", strconv.Itoa(pid))
		checkSnapshotReport(t, fmt.Sprintf("%s, live analysis %d", what, i+1), code, out, errs)
		path := filepath.Join(dir, fmt.Sprintf("snap%d.core", i))
		if code, _, errs := runCmd("gcore", strconv.Itoa(pid), "-o", path); code != exitOK {
			t.Fatalf("coredig gcore %d (%s): exit %d: %s", pid, what, code, errs)
		}
		code, out, errs = runCmd("--format", "json", path)
		checkSnapshotReport(t, fmt.Sprintf("%s, snapshot %d", what, i+1), code, out, errs)
		os.Remove(path)
	}
}

func checkSnapshotReport(t *testing.T, what string, code int, out, errs string) *alarmReport {
	t.Helper()
	if code != exitOK {
		t.Fatalf("%s: exit %d: %s", what, code, errs)
	}
	var r alarmReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if r.Diagnosis.Kind != "snapshot" || len(r.Diagnosis.Cycle) > 0 {
		t.Errorf("%s: diagnosis %q, want snapshot: %s", what, r.Diagnosis.Kind, r.Diagnosis.Summary)
	}
	if c := r.waitLoop(); c != "" {
		t.Errorf("%s: waits loop: %s", what, c)
	}
	waits := map[string]int{}
	for _, th := range r.Threads {
		if th.Waiting != nil {
			waits[th.Waiting.Kind]++
		}
	}
	t.Logf("%s: %s, %d threads, waits %v", what, r.Diagnosis.Kind, len(r.Threads), waits)
	return &r
}

// alarmReport is the part of the JSON report TestNoFalseAlarms reads.
type alarmReport struct {
	Diagnosis struct {
		Kind, Summary string
		Cycle         []json.RawMessage
	}
	Threads []struct {
		TID     int
		Waiting *struct {
			Kind     string
			OwnerTID *int `json:"owner_tid"`
			Text     string
		}
	}
}

// waitLoop follows each thread's wait to its owner and describes the first loop of
// waits it finds ("" when none): a deadlock the diagnosis did not name.
func (r *alarmReport) waitLoop() string {
	next := map[int]int{}
	text := map[int]string{}
	for _, th := range r.Threads {
		if w := th.Waiting; w != nil && w.OwnerTID != nil {
			next[th.TID] = *w.OwnerTID
			text[th.TID] = w.Kind + ": " + w.Text
		}
	}
	for start := range next {
		at := map[int]int{} // a thread's index on the walk
		var walk []int
		for x := start; ; {
			if i, ok := at[x]; ok {
				var parts []string
				for _, y := range walk[i:] {
					parts = append(parts, fmt.Sprintf("thread %d %s", y, text[y]))
				}
				return strings.Join(parts, "; ")
			}
			o, ok := next[x]
			if !ok {
				break
			}
			at[x] = len(walk)
			walk = append(walk, x)
			x = o
		}
	}
	return ""
}

// startGroup starts cmd in a process group of its own, and kills that group and reaps
// cmd when the test ends. No Pdeathsig: it fires when the OS thread that started the
// child exits, and the live analyses lock and end threads for ptrace.
func startGroup(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGKILL)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("process %d not reaped 10s after SIGKILL", pgid)
		}
	})
}

// runTimeout runs cmd in a process group of its own, killing the group after d.
func runTimeout(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	timer := time.AfterFunc(d, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	if !timer.Stop() {
		err = errors.Join(err, fmt.Errorf("killed after %v", d))
	}
	return []byte(out.String()), err
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (scripts/deps.sh installs it): %v", name, err)
	}
	return p
}

// freePort returns a TCP port on the loopback that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 60s for %s", what)
		}
	}
}

func threadCount(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	return len(ents)
}

// exited reports whether pid is gone or a zombie.
func exited(pid int) bool {
	s := procState(pid)
	return s == 0 || s == 'Z'
}

// childWith returns a child of pid whose command line contains s, 0 when none.
func childWith(pid int, s string) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, f := range strings.Fields(string(b)) {
		c, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		if cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c)); strings.Contains(string(cl), s) {
			return c
		}
	}
	return 0
}
