package analysis

import (
	"testing"

	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// CrashedOnly unwinds the crashing thread alone, without its variables, and gives the
// signature the full report gives.
func TestFullCrashedOnly(t *testing.T) {
	tc := testcore.Make(t, testcore.Threads20)
	a, _ := open(t, tc.Path, symbolize.Options{})
	full := a.Full(FullOptions{})
	b, _ := open(t, tc.Path, symbolize.Options{})
	quick := b.Full(FullOptions{CrashedOnly: true})
	if full.Signature == nil || quick.Signature == nil || quick.Signature.Text != full.Signature.Text ||
		quick.Signature.Text != "null_pointer_dereference @ crash_main < main" {
		t.Fatalf("signatures %+v and %+v", full.Signature, quick.Signature)
	}
	if len(quick.Threads) != 21 || len(full.Threads) != 21 {
		t.Fatalf("%d and %d threads, want 21", len(quick.Threads), len(full.Threads))
	}
	for i, th := range quick.Threads {
		switch {
		case th.Crashed && len(th.Frames) != len(full.Threads[i].Frames):
			t.Errorf("crashing thread: %d frames, the full report has %d", len(th.Frames), len(full.Threads[i].Frames))
		case th.Crashed && len(th.Frames[0].Locals) != 0:
			t.Errorf("crashing thread's first frame has %d variables, want none", len(th.Frames[0].Locals))
		case !th.Crashed && len(th.Frames) != 1:
			t.Errorf("thread %d: %d frames, want its context frame alone", th.TID, len(th.Frames))
		}
	}
	if len(full.Threads[0].Frames[0].Locals) == 0 {
		t.Errorf("the full report's crashing frame has no variables: the comparison above proves nothing")
	}
}
