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

// TestTriageKnown runs `coredig triage` on two cores: exit status 1 while a group is not
// in --known, 0 once both are, 2 for bad usage; the known group carries its note.
func TestTriageKnown(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("DEBUGINFOD_URLS", "")
	dir := t.TempDir()
	for _, s := range []testcore.Spec{testcore.DerefPIE, testcore.Abort} {
		tc := testcore.Make(t, s)
		data, err := os.ReadFile(tc.Path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.Name+".core"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const deref = "null_pointer_dereference @ deref < main"
	const abort = "abort @ do_abort < main"
	known := func(lines ...string) string {
		p := filepath.Join(t.TempDir(), "known.txt")
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	triage := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(append([]string{"triage"}, args...), nil, &out, &errOut)
		return code, out.String(), errOut.String()
	}

	code, out, _ := triage("--format", "json", dir)
	if code != 0 {
		t.Errorf("without --known: exit %d, want 0", code)
	}
	var res struct {
		Schema string `json:"schema"`
		Groups []struct {
			Signature string `json:"signature"`
			Count     int    `json:"count"`
			Known     bool   `json:"known"`
			Note      string `json:"note"`
		} `json:"groups"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Schema != "coredig-triage/1" || len(res.Groups) != 2 || len(res.Errors) != 0 ||
		res.Groups[0].Signature != abort || res.Groups[1].Signature != deref || res.Groups[0].Count != 1 || res.Groups[1].Count != 1 {
		t.Errorf("triage JSON: %s", out)
	}

	if code, out, _ := triage("--known", known(deref+"\thttps://tracker/issues/12"), dir); code != 1 {
		t.Errorf("one group new: exit %d, want 1\n%s", code, out)
	} else if !strings.Contains(out, "https://tracker/issues/12") || !strings.Contains(out, "new") {
		t.Errorf("text output lacks the note or the new mark:\n%s", out)
	}
	if code, out, _ := triage("--known", known("# ours", deref+"\thttps://tracker/issues/12", abort), "--format", "markdown", dir); code != 0 {
		t.Errorf("all known: exit %d, want 0\n%s", code, out)
	} else if !strings.Contains(out, "| 1 | `"+abort+"` |") {
		t.Errorf("markdown lacks the abort row:\n%s", out)
	}
	if code, _, stderr := triage("--known", filepath.Join(dir, "missing.txt"), dir); code != 2 || !strings.HasPrefix(stderr, "coredig: --known: open ") {
		t.Errorf("missing --known file: exit %d, stderr %q; want 2", code, stderr)
	}
	if code, _, _ := triage(); code != 2 {
		t.Errorf("no paths: exit %d, want 2", code)
	}
	if code, _, _ := triage("--format", "yaml", dir); code != 2 {
		t.Errorf("bad format: exit %d, want 2", code)
	}
}
