//go:build linux

package analysis

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// goTraceback is one goroutine of the Go runtime's own traceback on stderr.
type goTraceback struct {
	id     uint64
	reason string   // the bracketed state: "running", "chan receive", ...
	frames []string // "function:line"
}

var goroutineHeader = regexp.MustCompile(`^goroutine (\d+) .*\[([^\],]+)[^\]]*\]:$`)

// parseGoTraceback reads the goroutines GOTRACEBACK=crash prints: a header, then for
// each frame a "function(args)" line and a "\tfile:line ..." line, up to "created by".
func parseGoTraceback(t *testing.T, stderr string) map[uint64]goTraceback {
	t.Helper()
	out := map[uint64]goTraceback{}
	var cur *goTraceback
	var fn string
	for _, line := range strings.Split(stderr, "\n") {
		if m := goroutineHeader.FindStringSubmatch(line); m != nil {
			id, _ := strconv.ParseUint(m[1], 10, 64)
			cur = &goTraceback{id: id, reason: m[2]}
			out[id] = *cur
			fn = ""
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case line == "" || strings.HasPrefix(line, "created by "):
			out[cur.id] = *cur
			cur = nil
		case strings.HasPrefix(line, "\t") && fn != "":
			loc := strings.Fields(line)[0]
			ln := loc[strings.LastIndex(loc, ":")+1:]
			cur.frames = append(cur.frames, fn+":"+ln)
			out[cur.id] = *cur
			fn = ""
		case !strings.HasPrefix(line, "\t"):
			if i := strings.LastIndex(line, "("); i > 0 {
				fn = line[:i]
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no goroutine in the runtime's traceback:\n%s", stderr)
	}
	return out
}

// Every goroutine of a Go core against the runtime's own traceback of the same moment
// (GOTRACEBACK=crash prints it to stderr): the same ids, the same wait reasons, and for
// every goroutine that is not running, the same functions with the same lines, inlined
// calls included.
func TestGoroutinesMatchRuntime(t *testing.T) {
	for _, spec := range []testcore.Spec{testcore.GoGoroutines, testcore.GoGoroutinesAArch64, testcore.GoGoroutinesI386, testcore.GoGoroutinesARM} {
		t.Run(spec.Name, func(t *testing.T) {
			tc := testcore.Make(t, spec)
			want := parseGoTraceback(t, tc.Stderr)
			a, _ := open(t, tc.Path, symbolize.Options{})
			r := a.Full(FullOptions{})
			g := r.Go
			if g == nil || g.Error != "" || !strings.HasPrefix(g.Version, "go1.") {
				t.Fatalf("go view %+v", g)
			}
			var ids []uint64
			compared := 0
			for _, x := range g.Goroutines {
				ids = append(ids, x.ID)
				w, ok := want[x.ID]
				if !ok {
					continue // the runtime hides some of its own idle goroutines
				}
				if x.Status == "running" {
					if w.reason != "running" || x.TID == nil || len(x.Frames) != 0 {
						t.Errorf("goroutine %d: running on %v with %d frames; runtime says [%s]", x.ID, x.TID, len(x.Frames), w.reason)
					}
					continue
				}
				if x.WaitReason != w.reason {
					t.Errorf("goroutine %d: wait reason %q, runtime says %q", x.ID, x.WaitReason, w.reason)
				}
				var got []string
				for _, f := range x.Frames {
					got = append(got, fmt.Sprintf("%s:%d", f.Function, f.Line))
				}
				compared++
				if !slices.Equal(got, w.frames) || x.Error != "" {
					t.Errorf("goroutine %d [%s]:\n got %q (%s)\nwant %q", x.ID, w.reason, got, x.Error, w.frames)
				}
			}
			if compared < 8 {
				t.Errorf("only %d parked goroutines compared with the runtime's traceback", compared)
			}
			for id, w := range want {
				if !slices.Contains(ids, id) {
					t.Errorf("goroutine %d [%s] of the runtime's traceback is missing", id, w.reason)
				}
			}
			// The program's own goroutines, grouped: three on the channel, one asleep,
			// one on the mutex.
			groups := map[string]int{}
			for _, gr := range g.Groups {
				for _, f := range gr.Frames {
					if strings.HasPrefix(f.Function, "main.") && !strings.HasPrefix(f.Function, "main.main") {
						groups[fmt.Sprintf("%s:%d [%s]", f.Function, f.Line, gr.WaitReason)] += gr.Count
					}
				}
			}
			wantGroups := map[string]int{
				fmt.Sprintf("main.waitOn:%d [chan receive]", tc.Line(t, "chan_recv")): 3,
				fmt.Sprintf("main.sleeper:%d [sleep]", tc.Line(t, "sleep")):           1,
				fmt.Sprintf("main.lockOn:%d [sync.Mutex.Lock]", tc.Line(t, "lock")):   1,
			}
			for k, n := range wantGroups {
				if groups[k] != n {
					t.Errorf("group %s has %d goroutines, want %d (groups %v)", k, groups[k], n, groups)
				}
			}
			// The text report prints the groups under the threads.
			var b strings.Builder
			if err := report.Text(&b, r, report.Options{}); err != nil {
				t.Fatal(err)
			}
			text := b.String()
			for _, want := range []string{
				"Goroutines (" + strconv.Itoa(len(g.Goroutines)) + ", " + g.Version + ")",
				"3 goroutines [waiting: chan receive]: ",
				"[waiting: sync.Mutex.Lock]",
				fmt.Sprintf("goroutine 1 [running, on thread %d]\n      its stack is its thread's, above", *r.CrashedTID),
			} {
				if !strings.Contains(text, want) {
					t.Errorf("text report lacks %q", want)
				}
			}
		})
	}
}
