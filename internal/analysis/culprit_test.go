package analysis

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// TestCulpritDebianNumpy: a crash inside numpy's C code, run by Debian's python3.11 with
// Debian's python3-numpy: the culprit is numpy's extension module, owned by the package
// python3-numpy at the version dpkg-query reports, and the Python caller is total().
func TestCulpritDebianNumpy(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3.11"); err != nil {
		t.Fatalf("Debian's python3.11 is needed (scripts/deps.sh installs it): %v", err)
	}
	ver, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "python3-numpy").Output()
	if err != nil || len(ver) == 0 {
		t.Fatalf("Debian's python3-numpy is needed (scripts/deps.sh installs it): %v", err)
	}
	tc := testcore.Make(t, testcore.Spec{Name: "numpy-debian-python3.11", Source: "numpy_crash.py", Python: "/usr/bin/python3.11"})
	a, _ := open(t, tc.Path, symbolize.Options{})
	r := a.Full(FullOptions{})
	if r.Diagnosis == nil || r.Diagnosis.Culprit == nil {
		t.Fatalf("no culprit: %+v", r.Diagnosis)
	}
	c := r.Diagnosis.Culprit
	t.Logf("culprit %+v", *c)
	frames := r.Threads[0].Frames
	if !strings.Contains(c.Module, "/numpy/") || !strings.HasPrefix(frames[c.FrameIndex].Module, "/usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.cpython-311-") {
		t.Errorf("culprit module %q (frame %d), want numpy's _multiarray_umath\n%s", c.Module, c.FrameIndex, dump(frames))
	}
	for i := 0; i < c.FrameIndex; i++ {
		if !strings.Contains(frames[i].Module, "libc.so") {
			t.Errorf("frame %d before the culprit is in %s, want libc", i, frames[i].Module)
		}
	}
	want := report.Culprit{Module: c.Module, Package: "python3-numpy", Version: string(ver), Source: "dpkg",
		Frame: c.Frame, FrameIndex: c.FrameIndex, PythonCaller: "total (" + tc.Source + ":" + strconv.Itoa(tc.Line(t, "py_sum")) + ")",
		Evidence: "/var/lib/dpkg/info/python3-numpy.list"}
	if *c != want {
		t.Errorf("culprit\n %+v\nwant\n %+v", *c, want)
	}
}

// TestCulpritProgram: a C program's crash in its own code and one inside libc (abort)
// both name the program, through the first frame outside libc.
func TestCulpritProgram(t *testing.T) {
	for _, tc := range []struct {
		spec  testcore.Spec
		frame string
	}{
		{testcore.DerefPIE, "deref (" + testcore.SourcePath(t, "deref.c") + ":"},
		{testcore.Abort, "do_abort (" + testcore.SourcePath(t, "abort.c") + ":"},
		{testcore.Throw, "crasher::level3 (" + testcore.SourcePath(t, "throw.cc") + ":"},
	} {
		c := testcore.Make(t, tc.spec)
		a, _ := open(t, c.Path, symbolize.Options{})
		r := a.Full(FullOptions{})
		got := r.Diagnosis.Culprit
		if got == nil || got.Source != "program" || got.Module != c.Exe || !strings.HasPrefix(got.Frame, tc.frame) || got.Package != "" || got.PythonCaller != "" {
			t.Errorf("%s: culprit %+v, want the program %s at %s…", tc.spec.Name, got, c.Exe, tc.frame)
		}
	}
}
