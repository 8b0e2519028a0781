package analysis

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// TestShutdownStages: a crash in an atexit callback and one in a __del__ run by module
// teardown, under pyenv's CPython 3.12.1 and Debian's python3.11 (only .dynsym). The
// stage comes from the native stack with the flag: atexit callbacks run before the
// runtime's finalizing flag is set, so it reads false there and the stage is still atexit.
func TestShutdownStages(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3.11"); err != nil {
		t.Fatalf("Debian's python3.11 is needed (scripts/deps.sh installs it): %v", err)
	}
	debian := func(script string) testcore.Spec {
		return testcore.Spec{Name: strings.TrimSuffix(script, ".py") + "-debian-python3.11", Source: script, Python: "/usr/bin/python3.11"}
	}
	for _, tc := range []struct {
		spec       testcore.Spec
		finalizing bool
		stage      string
		evidence   string // %d is the thread
		ran        string
		text       string
	}{
		{testcore.AtexitPy, false, "atexit", "_PyAtExit_Call in Py_FinalizeEx on thread %d", "on_exit", "running atexit callbacks, before the runtime's finalizing flag is set"},
		{debian("atexit_crash.py"), false, "atexit", "Py_FinalizeEx on thread %d running Python code before the finalizing flag is set; no symbol names the stage", "on_exit", "running atexit callbacks, before the runtime's finalizing flag is set"},
		{testcore.FinalizePy, true, "module_teardown", "finalize_modules in Py_FinalizeEx on thread %d", "Boom.__del__", "tearing down modules, where module globals' __del__ methods run"},
		// Debian's interpreter has no symbol for finalize_modules: the stage is known
		// only as finalizing.
		{debian("finalize_crash.py"), true, "finalizing", "Py_FinalizeEx on thread %d; no symbol names the stage", "Boom.__del__", ""},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, _ := open(t, c.Path, symbolize.Options{})
			r := a.Full(FullOptions{})
			py := r.Python
			if py == nil || py.Finalizing == nil || *py.Finalizing != tc.finalizing {
				t.Fatalf("python %+v: want finalizing %v", py, tc.finalizing)
			}
			evidence := fmt.Sprintf(tc.evidence, c.PID)
			ran := fmt.Sprintf("%s (%s:%d)", tc.ran, c.Source, c.Line(t, "py_crash"))
			if py.ShutdownStage != tc.stage || py.ShutdownEvidence != evidence || py.ShutdownRan != ran {
				t.Errorf("shutdown %q %q %q, want %q %q %q", py.ShutdownStage, py.ShutdownEvidence, py.ShutdownRan, tc.stage, evidence, ran)
			}
			text := ""
			if tc.text != "" {
				text = ", " + tc.text
			}
			want := fmt.Sprintf(" The Python interpreter was shutting down%s (%s); it ran %s.", text, evidence, ran)
			if r.Diagnosis == nil || !strings.HasSuffix(r.Diagnosis.Summary, want) {
				t.Errorf("summary %q\nwant it to end with %q", r.Diagnosis.Summary, want)
			}
			if got := r.Diagnosis.Evidence["python_shutdown"]; got != tc.stage+" ("+evidence+")" {
				t.Errorf("python_shutdown evidence %q", got)
			}
			if c := r.Diagnosis.Culprit; c == nil || c.Source != "program" || !strings.HasPrefix(c.Frame, tc.ran+" (") {
				t.Errorf("culprit %+v, want the script's %s", c, tc.ran)
			}
		})
	}
}

// A crash that is not during shutdown has no stage.
func TestNoShutdownStage(t *testing.T) {
	c := testcore.Make(t, testcore.Threads6Py)
	a, _ := open(t, c.Path, symbolize.Options{})
	r := a.Full(FullOptions{})
	if r.Python == nil || r.Python.ShutdownStage != "" || strings.Contains(r.Diagnosis.Summary, "shutting down") {
		t.Errorf("stage %q, summary %q: want none", r.Python.ShutdownStage, r.Diagnosis.Summary)
	}
}
