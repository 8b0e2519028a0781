package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/testcore"
)

func TestMain(m *testing.M) {
	// The test binary doubles as coredig for tests that need a separate process (as
	// another user, as a tracer of its own children).
	if os.Getenv("COREDIG_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(testcore.Main(m))
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// Bad input gets one line on stderr and exit status 2, never a panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tc := testcore.Make(t, testcore.DerefPIE)
	full, err := os.ReadFile(tc.Path)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte(nil), full[:4096]...)
	copy(corrupt[0x20:], []byte{0, 0, 0, 0, 0, 0, 0, 0x10}) // e_phoff far beyond the file
	garbage := append([]byte(nil), full[:4096]...)
	garbage[0x20] = 0xff // e_phoff points into the middle of the headers: nonsense program headers
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{filepath.Join(dir, "nope")}, "no such file or directory"},
		{"empty file", []string{write("empty", nil)}, "ELF identification at offset 0x0: unexpected EOF"},
		{"text file", []string{write("text", []byte("hello, this is not a core\n"))}, "not an ELF file"},
		{"ELF but not a core", []string{exe}, "not a core dump: ELF type is ET_EXEC"},
		{"header only", []string{write("hdr", full[:64])}, "program header table at offset 0x40: unexpected EOF"},
		{"corrupt phoff", []string{write("corrupt", corrupt)}, "program header table at offset"},
		{"garbage program headers", []string{write("garbage", garbage)}, "no notes"},
		{"directory", []string{dir}, "is not a regular file"},
		{"bad format", []string{"--format", "xml", tc.Path}, `--format must be text, json or markdown, not "xml"`},
		{"bad thread", []string{"regs", "--thread", "1", tc.Path}, "no thread 1 in the core"},
		{"missing exe", []string{tc.Path, filepath.Join(dir, "nope")}, "executable " + filepath.Join(dir, "nope")},
		{"unknown flag", []string{"--frobnicate", tc.Path}, "unknown flag: --frobnicate"},
		{"no args", nil, "accepts between 1 and 2 arg(s), received 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(tc.args...)
			if code != exitBad {
				t.Errorf("exit %d, want %d; stderr %q", code, exitBad, errs)
			}
			if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "coredig: ") || !strings.Contains(errs, tc.want) {
				t.Errorf("stderr %q, want one line containing %q", errs, tc.want)
			}
			if out != "" {
				t.Errorf("stdout should be empty on bad input, got %q", out)
			}
		})
	}
}

// A cache bound that does not parse is bad usage, said in one line before any work.
func TestBadCacheMax(t *testing.T) {
	tc := testcore.Make(t, testcore.DerefPIE)
	t.Setenv("COREDIG_CACHE_MAX", "lots")
	code, out, errs := runCmd("summary", tc.Path)
	want := `coredig: COREDIG_CACHE_MAX: "lots" is not a size (bytes, or a number with K, M, G or T, or off)` + "\n"
	if code != exitBad || errs != want || out != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, out, errs, exitBad, want)
	}
}

func TestExitStatusAndJSON(t *testing.T) {
	tc := testcore.Make(t, testcore.DerefPIE)
	code, out, errs := runCmd("summary", "--format", "json", tc.Path)
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
	var doc struct {
		Schema  string `json:"schema"`
		Process struct {
			PID  int    `json:"pid"`
			Arch string `json:"arch"`
		} `json:"process"`
		Signal struct {
			Name     string `json:"name"`
			CodeName string `json:"code_name"`
			Address  string `json:"address"`
		} `json:"signal"`
		CrashedTID int `json:"crashed_tid"`
		Threads    []struct {
			TID       int               `json:"tid"`
			Crashed   bool              `json:"crashed"`
			Registers map[string]string `json:"registers"`
			Frames    []struct {
				PC       string `json:"pc"`
				Function string `json:"function"`
				FoundBy  string `json:"found_by"`
			} `json:"frames"`
		} `json:"threads"`
		Modules []struct {
			Path    string `json:"path"`
			BuildID string `json:"build_id"`
			Status  string `json:"status"`
		} `json:"modules"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if doc.Schema != "coredig/1" || doc.Process.Arch != "x86_64" || doc.Signal.Name != "SIGSEGV" ||
		doc.Signal.CodeName != "SEGV_MAPERR" || doc.Signal.Address != "0x60" || doc.CrashedTID != doc.Process.PID {
		t.Errorf("JSON header: %+v", doc)
	}
	if len(doc.Threads) != 4 || !doc.Threads[0].Crashed || doc.Threads[0].Frames[0].Function != "deref" ||
		doc.Threads[0].Frames[0].FoundBy != "context" || doc.Threads[0].Registers["rip"] != doc.Threads[0].Frames[0].PC {
		t.Errorf("JSON threads: %+v", doc.Threads)
	}
	if !strings.HasPrefix(doc.Threads[0].Registers["rip"], "0x") || doc.Warnings == nil {
		t.Errorf("registers must be hex strings and warnings an array")
	}

	// A truncated core still gets its summary, and exit status 1.
	full, _ := os.ReadFile(tc.Path)
	half := filepath.Join(t.TempDir(), "core")
	os.WriteFile(half, full[:len(full)/2], 0o600)
	code, out, errs = runCmd("summary", half)
	if code != exitWarnings || errs != "" || !strings.Contains(out, "SEGV_MAPERR") || !strings.Contains(out, "TRUNCATED") {
		t.Errorf("truncated core: exit %d, stderr %q, stdout:\n%s", code, errs, out)
	}
	for _, sub := range []string{"regs", "maps", "modules"} {
		code, out, _ := runCmd(sub, "--format", "markdown", tc.Path)
		if code != exitOK || !strings.Contains(out, "## ") {
			t.Errorf("%s --format markdown: exit %d:\n%s", sub, code, out)
		}
	}
}

func TestDisasmCommand(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "fixtures")
	core, exe := filepath.Join(root, "sample.core.zst"), filepath.Join(root, "sample")
	code, out, errs := runCmd("disasm", "--color", "never", "--exe", exe, core)
	if code != exitOK || errs != "" || !strings.Contains(out, "=> 0x5575b5e1a280  48 8b 40 60              mov 0x60(%rax),%rax") {
		t.Errorf("disasm at the crash: exit %d stderr %q\n%s", code, errs, out)
	}
	code, out, _ = runCmd("disasm", "--color", "never", "--syntax", "intel", "--exe", exe, core, "0x5575b5e1a280")
	if code != exitOK || !strings.Contains(out, "mov rax, qword ptr [rax+0x60]") || !strings.Contains(out, "deref+0xc") {
		t.Errorf("disasm at an address in Intel syntax: exit %d\n%s", code, out)
	}
	// The whole function by name: from push %rbp to its ret.
	code, out, _ = runCmd("disasm", "--color", "never", "--exe", exe, core, "deref")
	if code != exitOK || !strings.Contains(out, "0x5575b5e1a274  55                       push %rbp") || !strings.Contains(out, "0x5575b5e1a285  c3                       ret") || strings.Contains(out, "0x5575b5e1a286") {
		t.Errorf("disasm deref: exit %d\n%s", code, out)
	}
	if code, _, errs := runCmd("disasm", core, "no_such_symbol"); code != exitBad || !strings.Contains(errs, `"no_such_symbol" is neither a 0x-prefixed address nor a symbol`) {
		t.Errorf("unknown symbol: exit %d, %q", code, errs)
	}
}

// A user rule (doc/rules.md) matched on the sample's crash is reported with its source;
// a rule file with an unknown field is bad usage.
func TestUserRules(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "rules.json")
	os.WriteFile(good, []byte(`{"rules":[{"id":"sample-deref","title":"deref reads through NULL",
		"match":{"signals":["SIGSEGV"],"kinds":["null_pointer_dereference"],"functions":["der*"],"evidence":{"field_offset":"0x60"}},
		"explanation":"deref is called with target == NULL.","references":["testdata/src/deref.c"]}]}`), 0o600)
	root := filepath.Join("..", "..", "testdata", "fixtures")
	core, exe := filepath.Join(root, "sample.core.zst"), filepath.Join(root, "sample")
	code, out, errs := runCmd("--format", "json", "--rules", good, core, exe)
	var doc struct {
		Diagnosis struct {
			Kind  string `json:"kind"`
			Rules []struct {
				ID, Source string
			} `json:"rules"`
		} `json:"diagnosis"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitOK {
		t.Fatalf("exit %d, stderr %q, %v", code, errs, err)
	}
	if doc.Diagnosis.Kind != "null_pointer_dereference" || len(doc.Diagnosis.Rules) != 1 || doc.Diagnosis.Rules[0].ID != "sample-deref" || doc.Diagnosis.Rules[0].Source != good {
		t.Errorf("diagnosis %+v", doc.Diagnosis)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"rules":[{"id":"x","title":"x","match":{"signal":["SIGSEGV"]},"explanation":"x"}]}`), 0o600)
	if code, _, errs := runCmd("--rules", bad, core, exe); code != exitBad || !strings.Contains(errs, "--rules") || !strings.Contains(errs, "signal") {
		t.Errorf("bad rules file: exit %d, %q", code, errs)
	}
}
