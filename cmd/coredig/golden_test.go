package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// cachePath hides where the decompressed copy of a compressed core lives.
var cachePath = regexp.MustCompile(`decompressed (stdin )?to (cache|temporary) [^\s)",]+( \(removed on close\))?|reused cache [^\s)",]+`)

// TestGolden renders the committed sample core (testdata/fixtures) and compares the
// whole output with testdata/*.golden. `go test ./cmd/coredig -update` rewrites them.
// libc frames need Debian's libc6 2.36-9+deb12u14 with libc6-dbg, as on the project's
// machines (see testdata/fixtures/README.md).
func TestGolden(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "fixtures")
	core, exe := filepath.Join(root, "sample.core.zst"), filepath.Join(root, "sample")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"sample-summary.golden", []string{"summary", "--color", "never", core, exe}},
		{"sample-bt.golden", []string{"bt", "--color", "never", core, exe}},
		// --full: every thread, and the variables of every crashing-thread frame.
		{"sample-bt-full.golden", []string{"bt", "--full", "--color", "never", core, exe}},
		{"sample-report.golden", []string{"--color", "never", core, exe}},
		{"static-deref-report.golden", []string{"--color", "never", filepath.Join(root, "static-deref", "core.zst"), filepath.Join(root, "static-deref", "static-deref")}},
		// The JSON contract: a renamed or removed field shows up here.
		{"sample-report.json.golden", []string{"--format", "json", core, exe}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(tc.args...)
			if code != exitOK || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			got := cachePath.ReplaceAllString(out, "decompressed to cache CACHE")
			path := filepath.Join("testdata", tc.name)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/coredig -update)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (go test ./cmd/coredig -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}
