package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// selfAsCoredig copies the test binary where any user may run it; with
// COREDIG_TEST_AS_MAIN=1 it is coredig.
func selfAsCoredig(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "coredig-test-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "coredig")
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
	return exe
}

// asNobody runs coredig as uid and gid 65534 (setpriv), returning its exit status and
// stderr.
func asNobody(t *testing.T, exe string, args ...string) (int, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("running as another user needs root; the test runs as uid %d", os.Geteuid())
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatalf("setpriv is needed: %v", err)
	}
	cmd := exec.Command("setpriv", append([]string{"--reuid", "65534", "--regid", "65534", "--clear-groups", exe}, args...)...)
	cmd.Env = append(os.Environ(), "COREDIG_TEST_AS_MAIN=1")
	cmd.Dir = os.TempDir()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, errb.String()
}

// Another user's process is refused with one line naming the cause and the remedies,
// exit status 2, and the process is left alone.
func TestLiveAnotherUser(t *testing.T) {
	exe := selfAsCoredig(t)
	sleeper := exec.Command("sleep", "600")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	reapCmd(t, sleeper)
	pid := fmt.Sprint(sleeper.Process.Pid)
	for _, args := range [][]string{{"bt", pid}, {"gcore", pid, "-o", filepath.Join(os.TempDir(), "never")}} {
		code, errs := asNobody(t, exe, args...)
		want := "coredig: cannot trace process " + pid + ": it belongs to uid 0 and coredig runs as uid 65534; run the program under `coredig run -- CMD`, add CAP_SYS_PTRACE (docker run --cap-add SYS_PTRACE), or set sysctl kernel.yama.ptrace_scope=1\n"
		if code != exitPermission || errs != want {
			t.Errorf("coredig %s as nobody: exit %d, stderr\n%q\nwant exit %d and\n%q", strings.Join(args, " "), code, errs, exitPermission, want)
		}
	}
	if s := procState(sleeper.Process.Pid); s != 'S' {
		t.Errorf("the process is in state %q after the refusals", s)
	}
}
