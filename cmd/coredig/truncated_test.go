package main

// Truncated cores: what survives, checked against gdb and the core's own program headers
// (issue 6).

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/testcore"
)

// TestElsewhereTruncated cuts a 21-thread core at ten evenly spaced points (and at the
// edges of its notes). The summary is the full core's every time; the coverage section
// says of each thread's stack exactly what the program headers say the cut left; threads
// whose stack is complete unwind as in the full core; gdb agrees on frame 0 and on the
// stacks it cannot read.
func TestElsewhereTruncated(t *testing.T) {
	need(t, "gdb")
	t.Setenv("DEBUGINFOD_URLS", "")
	tc := testcore.Make(t, testcore.Threads20)
	ef, err := elf.Open(tc.Path)
	if err != nil {
		t.Fatal(err)
	}
	progs := ef.Progs
	ef.Close()
	var note *elf.Prog
	for _, p := range progs {
		if p.Type == elf.PT_NOTE {
			note = p
			break
		}
	}
	if note == nil {
		t.Fatal("the core has no PT_NOTE")
	}

	fullSum, _ := runJSON(t, exitOK, "summary", tc.Path)
	full, _ := runJSON(t, exitOK, tc.Path)
	if len(fullSum.Threads) != 21 || fullSum.Signal == nil || fullSum.Signal.Name != "SIGSEGV" {
		t.Fatalf("full core: %d threads, signal %+v", len(fullSum.Threads), fullSum.Signal)
	}
	if full.Coverage != nil {
		t.Errorf("the complete core has a coverage section: %+v", full.Coverage)
	}
	fullFrames := map[int][]jFrame{}
	for _, th := range full.Threads {
		fullFrames[th.TID] = th.Frames
	}
	sps := map[int]uint64{}
	for _, th := range fullSum.Threads {
		sps[th.TID] = hexVal(t, th.Registers["rsp"])
	}

	// Cuts: ten evenly spaced points; the middle of the crashing thread's used stack
	// (none of the ten falls in a few KiB of stack: this one leaves it partial); the
	// end of the notes (all of them present, exit 1) and their start (none: exit 2).
	var cuts []int64
	for k := int64(10); k >= 1; k-- {
		cuts = append(cuts, tc.Size*k/11)
	}
	mainStack := expectStack(progs, fullSum.CrashedTID, sps[fullSum.CrashedTID], tc.Size)
	if mainStack.State != "complete" || mainStack.Bytes < 64 {
		t.Fatalf("crashing thread's stack in the full core: %+v", mainStack)
	}
	mid := stackOffset(progs, sps[fullSum.CrashedTID]) + int64(mainStack.Bytes/2)
	notesEnd := int64(note.Off + note.Filesz)
	cuts = append(cuts, notesEnd, int64(note.Off), mid)
	sort.Slice(cuts, func(i, j int) bool { return cuts[i] > cuts[j] })

	// One copy, cut shorter and shorter.
	cut := filepath.Join(t.TempDir(), "core")
	copyFile(t, tc.Path, cut)
	compared, stopped, partials := 0, 0, 0
	for _, n := range cuts {
		if err := os.Truncate(cut, n); err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("cut%d", n), func(t *testing.T) {
			if n <= int64(note.Off) {
				code, out, errs := runCmd("summary", "--format", "json", cut)
				if code != exitBad || out != "" || !strings.Contains(errs, "no notes") {
					t.Errorf("cut at the notes' start %#x: exit %d, stderr %q, stdout %.200q; want 2 and no notes", n, code, errs, out)
				}
				return
			}
			sum, _ := runJSON(t, exitWarnings, "summary", cut)
			if sum.Core.Size != n || !sum.Core.Truncated || sum.Core.ExpectedSize != tc.Size {
				t.Errorf("core size %d expected %d truncated %v; want %d of %d", sum.Core.Size, sum.Core.ExpectedSize, sum.Core.Truncated, n, tc.Size)
			}
			if !reflect.DeepEqual(sum.Signal, fullSum.Signal) || sum.CrashedTID != fullSum.CrashedTID {
				t.Errorf("signal %+v crashed %d, want %+v %d", sum.Signal, sum.CrashedTID, fullSum.Signal, fullSum.CrashedTID)
			}
			if got, want := frame0s(sum), frame0s(fullSum); !reflect.DeepEqual(got, want) {
				t.Errorf("threads and frame-0 pcs %v, want %v", got, want)
			}

			rep, _ := runJSON(t, exitWarnings, cut)
			if rep.Coverage == nil {
				t.Fatalf("no coverage section in the truncated core's report")
			}
			if rep.Coverage.FileEnds != n {
				t.Errorf("coverage file_ends %d, want %d", rep.Coverage.FileEnds, n)
			}
			states := map[int]string{}
			for _, st := range rep.Coverage.Stacks {
				want := expectStack(progs, st.TID, sps[st.TID], n)
				if st != want {
					t.Errorf("thread %d stack coverage %+v, want %+v", st.TID, st, want)
				}
				states[st.TID] = st.State
			}
			counts := map[string]int{}
			for _, s := range states {
				counts[s]++
			}
			t.Logf("cut at %#x of %#x: stacks %v", n, tc.Size, counts)
			partials += counts["partial"]
			if len(states) != len(sps) {
				t.Errorf("coverage lists %d stacks, want %d", len(states), len(sps))
			}
			for _, th := range rep.Threads {
				switch states[th.TID] {
				case "complete":
					if !reflect.DeepEqual(th.Frames, fullFrames[th.TID]) {
						t.Errorf("thread %d (stack complete): frames %q, full core %q", th.TID, names(th.Frames), names(fullFrames[th.TID]))
					}
				case "partial":
					// The frames the remaining stack gives, as in the full core; where
					// they stop, the error names the truncation.
					f := fullFrames[th.TID]
					if len(th.Frames) > len(f) || !reflect.DeepEqual(th.Frames, f[:len(th.Frames)]) ||
						len(th.Frames) < len(f) && !strings.Contains(th.Error, "truncation") {
						t.Errorf("thread %d (stack partial): frames %q error %q; full core %q", th.TID, names(th.Frames), th.Error, names(f))
					}
				case "lost":
					if len(th.Frames) == 0 || th.Frames[0].PC != fullFrames[th.TID][0].PC || !strings.Contains(th.Error, "truncation") {
						t.Errorf("thread %d (stack lost): frames %+v error %q; want frame 0 and an error naming the truncation", th.TID, th.Frames, th.Error)
					}
				}
			}

			// gdb on the same cut: its frame 0 is ours; a stack it cannot read is one
			// the coverage says the cut took.
			g := gdbThreads(t, tc.Exe, cut)
			if len(g) != len(sps) {
				t.Fatalf("gdb shows %d threads, want %d", len(g), len(sps))
			}
			for tid, gt := range g {
				ours := fullFrames[tid]
				if len(gt.frames) == 0 || len(ours) == 0 || gt.frames[0].pc != hexVal(t, ours[0].PC) {
					t.Errorf("thread %d: gdb frame 0 %+v, ours %+v", tid, gt.frames, ours)
					continue
				}
				compared++
				if fn := gt.frames[0].fn; fn != "??" && fn != rep.threadByTID(tid).Frames[0].Function {
					t.Errorf("thread %d: gdb names frame 0 %q, coredig %q", tid, fn, rep.threadByTID(tid).Frames[0].Function)
				}
				if gt.stoppedAt != 0 {
					sp := sps[tid]
					st := expectStack(progs, tid, sp, n)
					if end := hexVal(t, st.End); gt.stoppedAt >= sp && gt.stoppedAt < end {
						stopped++
						if states[tid] == "complete" {
							t.Errorf("thread %d: gdb cannot read %#x in its stack but coverage says complete", tid, gt.stoppedAt)
						}
					}
				}
			}
		})
	}
	t.Logf("gdb: %d frame-0 pcs agree, %d stacks gdb cannot read are the ones coverage says the cut took", compared, stopped)
	if partials == 0 {
		t.Errorf("no cut left a stack partial")
	}
	if compared == 0 || stopped == 0 {
		t.Errorf("gdb comparisons: %d frame-0 pcs, %d unreadable stacks; want some of each", compared, stopped)
	}
}

func (d jDoc) threadByTID(tid int) jThread {
	for _, th := range d.Threads {
		if th.TID == tid {
			return th
		}
	}
	return jThread{}
}

func hexVal(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return v
}

// frame0s maps each thread to its frame-0 pc.
func frame0s(d jDoc) map[int]string {
	out := map[int]string{}
	for _, th := range d.Threads {
		if len(th.Frames) > 0 {
			out[th.TID] = th.Frames[0].PC
		} else {
			out[th.TID] = ""
		}
	}
	return out
}

// expectStack computes, from the program headers alone, what a core cut at n bytes
// holds of the stack from sp to the end of the segment holding sp: lost when sp's file
// offset is at or past the cut, complete when the segment's end is within it.
func expectStack(progs []*elf.Prog, tid int, sp uint64, n int64) jStack {
	for _, p := range progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 || sp < p.Vaddr || sp >= p.Vaddr+p.Filesz {
			continue
		}
		end := p.Vaddr + p.Filesz
		off, endOff := int64(p.Off+(sp-p.Vaddr)), int64(p.Off+p.Filesz)
		st := jStack{TID: tid, SP: fmt.Sprintf("%#x", sp), End: fmt.Sprintf("%#x", end), Bytes: end - sp}
		switch {
		case off >= n:
			st.State = "lost"
		case endOff <= n:
			st.State, st.Present = "complete", st.Bytes
		default:
			st.State, st.Present = "partial", uint64(n-off)
		}
		return st
	}
	return jStack{TID: tid, SP: fmt.Sprintf("%#x", sp), State: "unmapped"}
}

// stackOffset is the file offset of address a in the core, from the program headers.
func stackOffset(progs []*elf.Prog, a uint64) int64 {
	for _, p := range progs {
		if p.Type == elf.PT_LOAD && p.Filesz > 0 && a >= p.Vaddr && a < p.Vaddr+p.Filesz {
			return int64(p.Off + (a - p.Vaddr))
		}
	}
	return -1
}

type gdbFrame struct {
	pc uint64
	fn string
}

type gdbThread struct {
	frames    []gdbFrame
	stoppedAt uint64 // "Backtrace stopped: Cannot access memory at address X"
}

var (
	gdbThreadRe  = regexp.MustCompile(`^Thread \d+ \((?:.*\()?LWP (\d+)\)`)
	gdbFrameRe   = regexp.MustCompile(`^#(\d+)\s+(?:0x([0-9a-f]+) in )?(\S+)`)
	gdbStoppedRe = regexp.MustCompile(`^Backtrace stopped: Cannot access memory at address 0x([0-9a-f]+)`)
	gdbPCRe      = regexp.MustCompile(`^(?:=> )?0x([0-9a-f]+)`)
)

// gdbThreads runs gdb's `thread apply all bt` on a core and parses it per LWP. A frame 0
// printed without its address (gdb omits it at the start of a line) gets its pc from
// `x/i $pc` in that thread.
func gdbThreads(t *testing.T, exe, corePath string) map[int]*gdbThread {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "gdb", "-nx", "-batch", "-ex", "set print frame-arguments none",
		"-ex", "set backtrace limit 100", "-ex", "thread apply all bt", "-ex", "thread apply all x/i $pc", exe, corePath).CombinedOutput()
	res := map[int]*gdbThread{}
	var cur *gdbThread
	inX := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := gdbThreadRe.FindStringSubmatch(line); m != nil {
			tid, _ := strconv.Atoi(m[1])
			if res[tid] != nil {
				inX = true // the second pass, x/i $pc
			} else {
				res[tid] = &gdbThread{}
			}
			cur = res[tid]
			continue
		}
		if cur == nil {
			continue
		}
		if inX {
			if m := gdbPCRe.FindStringSubmatch(line); m != nil && len(cur.frames) > 0 && cur.frames[0].pc == 0 {
				cur.frames[0].pc, _ = strconv.ParseUint(m[1], 16, 64)
			}
			continue
		}
		if m := gdbStoppedRe.FindStringSubmatch(line); m != nil {
			cur.stoppedAt, _ = strconv.ParseUint(m[1], 16, 64)
			continue
		}
		if m := gdbFrameRe.FindStringSubmatch(line); m != nil {
			pc, _ := strconv.ParseUint(m[2], 16, 64)
			cur.frames = append(cur.frames, gdbFrame{pc: pc, fn: m[3]})
		}
	}
	if len(res) == 0 {
		t.Fatalf("gdb printed no threads:\n%.3000s", out)
	}
	return res
}
