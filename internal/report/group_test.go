package report

import (
	"reflect"
	"testing"
)

func TestGroupThreads(t *testing.T) {
	fr := func(fns ...string) []Frame {
		var out []Frame
		for i, f := range fns {
			out = append(out, Frame{Index: i, Function: f, Module: "m"})
		}
		return out
	}
	threads := []Thread{
		{TID: 1, Crashed: true, Frames: fr("deref", "main")},
		{TID: 2, Frames: fr("futex_wait", "worker")},
		{TID: 3, Frames: fr("deref", "main")}, // same as the crashing thread, never grouped with it
		{TID: 4, Frames: fr("futex_wait", "worker")},
		{TID: 5, Frames: []Frame{{PC: 0x10, Module: "libx"}, {PC: 0x20}}},
		{TID: 6, Frames: []Frame{{PC: 0x10, Module: "libx"}, {PC: 0x30}}}, // unnamed outer frames differ by pc
	}
	var got [][]int
	for _, g := range GroupThreads(threads) {
		got = append(got, g.TIDs)
	}
	if want := [][]int{{1}, {2, 4}, {3}, {5}, {6}}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
}

func TestGroupGoroutines(t *testing.T) {
	park := []Frame{{Function: "runtime.gopark", Line: 435}, {Function: "main.worker", Line: 20}}
	gs := []Goroutine{
		{ID: 1, Status: "running"},
		{ID: 2, Status: "waiting", WaitReason: "chan receive", Frames: park},
		{ID: 3, Status: "running"}, // each running goroutine is on its own thread
		{ID: 4, Status: "waiting", WaitReason: "chan receive", Frames: park},
		{ID: 5, Status: "waiting", WaitReason: "sleep", Frames: park},
	}
	var got [][]uint64
	for _, g := range GroupGoroutines(gs) {
		got = append(got, g.IDs)
	}
	if want := [][]uint64{{1}, {2, 4}, {3}, {5}}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
}
