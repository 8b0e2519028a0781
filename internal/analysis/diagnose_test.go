package analysis

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// incidentCode is the shape of the grpcio incident (shared/incident): CPython 3.12 with
// faulthandler enabled; a __del__ that runs while Py_FinalizeEx clears __main__ calls a
// native PyOS_setsig that reads NULL+0x60; faulthandler catches the SIGSEGV and re-raises
// it, so the core's siginfo says SI_TKILL from the process itself.
const incidentCode = `import ctypes, os
lib = ctypes.CDLL(os.environ["COREDIG_INCIDENT_LIB"])
class Boom:
    def __del__(self, f=lib.PyOS_setsig):
        f(6)
boom = Boom()
`

func TestIncidentEndToEnd(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "incident.so")
	src := filepath.Join(testcore.RepoRoot(t), "internal", "diagnose", "testdata", "incident.c")
	if out, err := exec.Command("gcc", "-O0", "-g", "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("building the incident library: %v\n%s", err, out)
	}
	tc := testcore.Make(t, testcore.Spec{Name: "incident-analysis-py3.12.1", Source: "finalize_crash.py",
		Python: testcore.PyenvPython("3.12.1"), PyFlags: []string{"-X", "faulthandler", "-c", incidentCode},
		Env: []string{"COREDIG_INCIDENT_LIB=" + lib}})
	a, _ := open(t, tc.Path, symbolize.Options{})
	r := a.Full(FullOptions{})
	if r.Signal.Name != "SIGSEGV" || r.Signal.CodeName != "SI_TKILL" || !*r.Signal.SenderIsSelf {
		t.Fatalf("core signal %+v: want SIGSEGV SI_TKILL from the process itself", r.Signal)
	}
	if r.Python == nil || !r.Python.Finalizing || r.Python.FinalizingTID == nil || int(*r.Python.FinalizingTID) != tc.PID {
		t.Fatalf("python %+v: want finalizing by %d", r.Python, tc.PID)
	}
	d := r.Diagnosis
	if d == nil {
		t.Fatal("no diagnosis")
	}
	o := d.Original
	if o == nil || o.Name != "SIGSEGV" || o.CodeName != "SEGV_MAPERR" || o.Address == nil || *o.Address != 0x60 {
		t.Fatalf("original signal %+v: want SIGSEGV SEGV_MAPERR at 0x60 from the signal frame", o)
	}
	if d.Kind != "null_pointer_dereference" {
		t.Errorf("kind %s", d.Kind)
	}
	for _, want := range []string{"PyOS_setsig", "rax = 0x0", "0x60", "faulthandler"} {
		if !strings.Contains(d.Summary, want) {
			t.Errorf("summary %q lacks %q", d.Summary, want)
		}
	}
	for k, v := range map[string]string{"function": "PyOS_setsig", "null_register": "rax", "field_offset": "0x60", "reraised_by": "faulthandler", "fault_address": "0x60"} {
		if d.Evidence[k] != v {
			t.Errorf("evidence %s = %q, want %q", k, d.Evidence[k], v)
		}
	}
	var ids []string
	for _, m := range d.Rules {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "python-signal-handler-during-finalization,python-faulthandler-reraise" {
		t.Errorf("rules %v", ids)
	}
	var cur string
	for _, l := range d.Disassembly {
		if l.Current {
			cur = l.Text
		}
	}
	if cur != "mov 0x60(%rax),%rax" {
		t.Errorf("faulting instruction in the window %q", cur)
	}
}
