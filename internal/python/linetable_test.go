package python

import (
	"bufio"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
)

type lineVector struct {
	minor, first int
	table        []byte
	want         [][2]int // addr, line
}

// readLineVectors loads testdata/linetables.txt (made by
// testdata/linetables.py under each pyenv CPython, see its header).
func readLineVectors(t testing.TB) []lineVector {
	f, err := os.Open("testdata/linetables.txt")
	if err != nil {
		t.Fatalf("line table vectors: %v", err)
	}
	defer f.Close()
	var out []lineVector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			t.Fatalf("bad vector line %q", sc.Text())
		}
		v := lineVector{}
		v.minor, _ = strconv.Atoi(fs[0])
		v.first, _ = strconv.Atoi(fs[1])
		if v.table, err = hex.DecodeString(fs[2]); err != nil {
			t.Fatal(err)
		}
		for _, p := range strings.Split(fs[3], ",") {
			a, l, _ := strings.Cut(p, ":")
			ai, _ := strconv.Atoi(a)
			li, _ := strconv.Atoi(l)
			v.want = append(v.want, [2]int{ai, li})
		}
		out = append(out, v)
	}
	if len(out) != 18 {
		t.Fatalf("%d vectors, want 18 (3 code objects x 6 versions)", len(out))
	}
	return out
}

func decodeLine(minor int, tab []byte, first, addr int) int {
	switch {
	case minor <= 9:
		return LineFromLnotab(tab, first, addr)
	case minor == 10:
		return LineFromLinetable310(tab, first, addr)
	default:
		return LineFromLocationTable(tab, first, addr)
	}
}

func TestLineTablesAgainstCPython(t *testing.T) {
	for _, v := range readLineVectors(t) {
		for _, w := range v.want {
			if got := decodeLine(v.minor, v.table, v.first, w[0]); got != w[1] {
				t.Errorf("3.%d first %d addr %d: line %d, want %d", v.minor, v.first, w[0], got, w[1])
			}
		}
	}
}

func TestLineTableEdges(t *testing.T) {
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"lnotab empty gives first line", LineFromLnotab(nil, 7, 100), 7},
		{"lnotab odd trailing byte ignored", LineFromLnotab([]byte{2, 1, 9}, 7, 4), 8},
		{"lnotab negative delta", LineFromLnotab([]byte{0, 3, 4, 0xfe}, 10, 4), 11},
		{"3.10 negative addr gives first line", LineFromLinetable310([]byte{2, 1}, 5, -2), 5},
		{"3.10 no-line marker", LineFromLinetable310([]byte{2, 0x80}, 5, 0), -1},
		{"3.10 past end", LineFromLinetable310([]byte{2, 1}, 5, 2), -1},
		{"3.11 negative addr gives first line", LineFromLocationTable([]byte{0x80}, 5, -2), 5},
		{"3.11 one-line-2 form", LineFromLocationTable([]byte{0x80 | 12<<3, 1, 2}, 5, 0), 7},
		{"3.11 none form", LineFromLocationTable([]byte{0x80 | 15<<3}, 5, 0), -1},
		{"3.11 long form negative delta", LineFromLocationTable([]byte{0x80 | 14<<3 | 1, 5, 0, 1, 1}, 10, 2), 8},
		{"3.11 truncated varint", LineFromLocationTable([]byte{0x80 | 13<<3, 0x40 | 4}, 10, 0), 12},
		{"3.11 past end", LineFromLocationTable([]byte{0x80}, 5, 2), -1},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func FuzzLnotab(f *testing.F) {
	for _, v := range readLineVectors(f) {
		if v.minor <= 9 {
			f.Add(v.table, v.first, 20)
		}
	}
	f.Fuzz(func(t *testing.T, tab []byte, first, addr int) {
		LineFromLnotab(tab, first, addr)
	})
}

func FuzzLinetable310(f *testing.F) {
	for _, v := range readLineVectors(f) {
		if v.minor == 10 {
			f.Add(v.table, v.first, 20)
		}
	}
	f.Fuzz(func(t *testing.T, tab []byte, first, addr int) {
		if l := LineFromLinetable310(tab, first, addr); l != -1 && addr >= 0 && (l < first-128*len(tab) || l > first+127*len(tab)) {
			t.Fatalf("line %d impossible for first %d and %d-byte table", l, first, len(tab))
		}
	})
}

func FuzzLocationTable(f *testing.F) {
	for _, v := range readLineVectors(f) {
		if v.minor >= 11 {
			f.Add(v.table, v.first, 20)
		}
	}
	f.Fuzz(func(t *testing.T, tab []byte, first, addr int) {
		LineFromLocationTable(tab, first, addr)
	})
}

func TestMainScript(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"python3", "app.py", "x"}, "app.py"},
		{[]string{"/usr/bin/python3.11", "-X", "faulthandler", "-u", "/tmp/crash.py"}, "/tmp/crash.py"},
		{[]string{"python3", "-Xdev", "-W", "error", "-Bu", "s.py"}, "s.py"},
		{[]string{"python3", "-m", "pytest", "tests/"}, ""},
		{[]string{"python3", "-c", "import x"}, ""},
		{[]string{"python3"}, ""},
		{[]string{"python3", "--", "-odd.py"}, "-odd.py"},
	} {
		if got := MainScript(tc.args); got != tc.want {
			t.Errorf("MainScript(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestShutdownStage(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		fns                      []string
		stage, finalizer, marker string
	}{
		{"atexit 3.12", []string{"__strlen_evex", "string_at", "_PyEval_EvalFrameDefault", "atexit_callfuncs", "_PyAtExit_Call", "Py_FinalizeEx", "Py_FinalizeEx", "Py_RunMain"}, StageAtexit, "Py_FinalizeEx", "_PyAtExit_Call"},
		{"__del__ in module teardown", []string{"slot_tp_finalize", "finalize_garbage", "gc_collect_main", "_PyGC_CollectNoFail", "finalize_modules", "Py_FinalizeEx", "Py_RunMain"}, StageModuleTeardown, "Py_FinalizeEx", "finalize_modules"},
		{"final gc", []string{"subtype_dealloc", "gc_collect_main", "_PyGC_CollectNoFail", "finalize_interp_clear", "Py_FinalizeEx"}, StageFinalGC, "Py_FinalizeEx", "finalize_interp_clear"},
		{"threads", []string{"PyThread_acquire_lock_timed", "_PyEval_EvalFrameDefault", "wait_for_thread_shutdown", "Py_FinalizeEx"}, StageThreadShutdown, "Py_FinalizeEx", "wait_for_thread_shutdown"},
		{"3.8 module cleanup", []string{"x", "_PyImport_Cleanup", "Py_FinalizeEx"}, StageModuleTeardown, "Py_FinalizeEx", "_PyImport_Cleanup"},
		{"other", []string{"flush_std_files", "Py_FinalizeEx"}, StageFinalizing, "Py_FinalizeEx", ""},
		{"not shutting down", []string{"_PyGC_CollectNoFail", "main"}, "", "", ""},
	} {
		s, f, m := ShutdownStage(tc.fns)
		if s != tc.stage || f != tc.finalizer || m != tc.marker {
			t.Errorf("%s: ShutdownStage = %q %q %q, want %q %q %q", tc.name, s, f, m, tc.stage, tc.finalizer, tc.marker)
		}
	}
}

func TestStageBeforeFlag(t *testing.T) {
	if s := StageBeforeFlag("_shutdown", "/usr/lib/python3.11/threading.py"); s != StageThreadShutdown {
		t.Errorf("threading._shutdown: %q", s)
	}
	if s := StageBeforeFlag("on_exit", "/app/main.py"); s != StageAtexit {
		t.Errorf("a callback: %q", s)
	}
}
