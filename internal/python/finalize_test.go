package python

import (
	"fmt"
	"testing"

	"github.com/coredig/coredig/internal/testcore"
)

func analyzeCore(t *testing.T, c *testcore.Core) (*State, *testCore) {
	t.Helper()
	p, err := openTestCore(c.Path)
	if err != nil {
		t.Fatalf("opening core %s: %v", c.Path, err)
	}
	t.Cleanup(p.Close)
	st, err := Analyze(p)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	t.Logf("version %s from %s; layout %s; warnings %q", st.Version, st.VersionSource, st.LayoutSource, st.Warnings)
	return st, p
}

func onlyThread(t *testing.T, st *State) Thread {
	t.Helper()
	if len(st.Interpreters) != 1 || len(st.Interpreters[0].Threads) != 1 {
		t.Fatalf("want one interpreter with one thread, got %+v", st.Interpreters)
	}
	return st.Interpreters[0].Threads[0]
}

// TestFinalizingCrash: finalize_crash.py crashes in __del__ during
// Py_FinalizeEx, after _PyRuntime._finalizing is set.
func TestFinalizingCrash(t *testing.T) {
	c := testcore.Make(t, testcore.FinalizePy)
	st, _ := analyzeCore(t, c)
	pid := uint64(c.PID)
	if !st.Finalizing || st.FinalizingTID == nil || *st.FinalizingTID != pid {
		t.Errorf("finalizing %v tid %v, want true and %d", st.Finalizing, st.FinalizingTID, pid)
	}
	th := onlyThread(t, st)
	want := fmt.Sprint([]wantFrame{{"__del__", "Boom.__del__", c.Source, c.Line(t, "py_crash")}})
	var got []wantFrame
	for _, f := range th.Frames {
		got = append(got, wantFrame{f.Function, f.QualName, f.File, f.Line})
	}
	if fmt.Sprint(got) != want || th.Err != nil {
		t.Errorf("frames %v (err %v), want %s", got, th.Err, want)
	}
	if th.TID != pid || !th.IsGILHolder || st.GILHolderTID == nil || *st.GILHolderTID != pid {
		t.Errorf("tid %d gil holder %v %v, want %d holding the GIL", th.TID, th.IsGILHolder, st.GILHolderTID, pid)
	}
}

// TestAtexitCrash: atexit handlers run before _finalizing is set, so the
// runtime is not (yet) reported as finalizing.
func TestAtexitCrash(t *testing.T) {
	c := testcore.Make(t, testcore.AtexitPy)
	st, _ := analyzeCore(t, c)
	if st.Finalizing || st.FinalizingTID != nil {
		t.Errorf("finalizing %v tid %v, want false", st.Finalizing, st.FinalizingTID)
	}
	th := onlyThread(t, st)
	ctypes := "/root/.pyenv/versions/3.12.1/lib/python3.12/ctypes/__init__.py"
	want := fmt.Sprint([]wantFrame{
		{"string_at", "string_at", ctypes, srcLine(t, ctypes, "def string_at(", "return _string_at(")},
		{"on_exit", "on_exit", c.Source, c.Line(t, "py_crash")},
	})
	var got []wantFrame
	for _, f := range th.Frames {
		got = append(got, wantFrame{f.Function, f.QualName, f.File, f.Line})
	}
	if fmt.Sprint(got) != want || th.Err != nil {
		t.Errorf("frames %v (err %v), want %s", got, th.Err, want)
	}
	if st.GILHolderTID == nil || *st.GILHolderTID != uint64(c.PID) {
		t.Errorf("GIL holder %v, want %d", st.GILHolderTID, c.PID)
	}
}
