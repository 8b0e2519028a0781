package analysis

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// TestRseqCorrupted and TestAlignedSSEGeneralProtection: SIGSEGV with SI_KERNEL that no
// non-canonical pointer caused.
//
// TestRseqCorrupted: a program overwrites the rseq area glibc registered for its thread,
// and the kernel's check kills it with SIGSEGV SI_KERNEL on the way back from a sleep.
// The area and rseq_cs values come from the program's own output and the pattern it
// wrote (each word its own address, so the descriptor's version is the low half of
// rseq_cs). A real redis-server died the same way: its crash handler's memory test
// overwrote the TCB of the thread running it, one run in about 14 under load
// (TestDebianRedisCrash turns that test off to stay deterministic).
func TestRseqCorrupted(t *testing.T) {
	for _, tc := range []struct {
		spec    testcore.Spec
		handler bool
	}{{testcore.RseqClobber, false}, {testcore.RseqClobberHandler, true}, {testcore.RseqClobberI386, false}} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			var area uint64
			var off int64
			if _, err := fmt.Sscanf(c.Stdout, "area %v offset %d", &area, &off); err != nil {
				t.Fatalf("stdout %q: %v", c.Stdout, err)
			}
			a, _ := open(t, c.Path, symbolize.Options{})
			r := a.Full(FullOptions{})
			if s := r.Signal; s.Name != "SIGSEGV" || s.CodeName != "SI_KERNEL" || s.Address != nil {
				t.Fatalf("signal %+v, want SIGSEGV SI_KERNEL without an address", s)
			}
			d := r.Diagnosis
			cs := area + 8
			want := map[string]string{
				"rseq_area":    fmt.Sprintf("%#x (thread pointer %#x + %#x, glibc's __rseq_offset)", area, area-uint64(off), off),
				"rseq_cs":      fmt.Sprintf("%#x", cs),
				"rseq_problem": fmt.Sprintf("its rseq_cs %#x points to a struct rseq_cs of version %#x, not 0", cs, uint32(cs)),
			}
			if d.Kind != "corrupted_rseq_area" {
				t.Fatalf("kind %s: %s", d.Kind, d.Summary)
			}
			for k, v := range want {
				if d.Evidence[k] != v {
					t.Errorf("evidence %s = %q, want %q", k, d.Evidence[k], v)
				}
			}
			if !strings.Contains(d.Summary, fmt.Sprintf("the thread's restartable-sequence area at %#x (in its thread control block) fails the kernel's check: %s.", area, want["rseq_problem"])) {
				t.Errorf("summary %q", d.Summary)
			}
			if c := d.Culprit; c == nil || !strings.HasPrefix(c.Frame, "nap (") {
				t.Errorf("culprit %+v, want the frame of nap", c)
			}
			frames := r.Threads[0].Frames
			napLine := c.Line(t, "nap")
			if i := frameIndex(frames, "nap"); i < 0 || frames[i].Line != napLine {
				t.Errorf("no nap at line %d in %s", napLine, dumpArm(frames))
			}
			if sig := r.Signature.Text; sig != "corrupted_rseq_area @ nap < main" && !tc.handler {
				t.Errorf("signature %q: the C library's and the vDSO's frames are no place of the bug's", sig)
			}
			if !tc.handler {
				if d.Original != nil || strings.Contains(d.Summary, "signal handler") {
					t.Errorf("no handler ran, yet original %+v, summary %q", d.Original, d.Summary)
				}
				return
			}
			// The kernel's SIGSEGV came inside the handler of an earlier fault.
			if o := d.Original; o == nil || o.Name != "SIGSEGV" || o.CodeName != "SEGV_ACCERR" || o.Source != "signal frame siginfo" {
				t.Errorf("original %+v, want SIGSEGV SEGV_ACCERR from the signal frame", o)
			}
			if !strings.HasSuffix(d.Summary, " It happened inside the signal handler on_segv, which was handling an earlier SIGSEGV in main (see earlier fault).") {
				t.Errorf("summary %q does not name the handler and the earlier fault", d.Summary)
			}
			if e := d.Evidence["earlier_fault"]; !strings.HasPrefix(e, "Write to read-only memory in main: the instruction writes 1 byte at ") {
				t.Errorf("earlier_fault %q", e)
			}
			h, s, m := frameIndex(frames, "on_segv"), frameIndex(frames, SignalHandlerCalled), frameIndex(frames, "main")
			if h < 0 || s != h+1 || m != s+1 || frames[h].Line != c.Line(t, "handler_nap") || frames[m].Line != c.Line(t, "readonly_write") {
				t.Errorf("stack %s: want on_segv, the signal frame, main at the read-only write", dumpArm(frames))
			}
		})
	}
}

func frameIndex(frames []report.Frame, fn string) int {
	for i, f := range frames {
		if f.Function == fn {
			return i
		}
	}
	return -1
}

// TestAlignedSSEGeneralProtection: movaps at an address 8 bytes off 16-byte alignment
// raises #GP, which Linux reports as SIGSEGV SI_KERNEL without an address, as it does a
// non-canonical pointer. The explanation is the alignment, computed from the decoded
// operand; the program printed the address it stored to.
func TestAlignedSSEGeneralProtection(t *testing.T) {
	c := testcore.Make(t, testcore.SSEMisaligned)
	var target uint64
	if _, err := fmt.Sscanf(c.Stdout, "target %v", &target); err != nil {
		t.Fatalf("stdout %q: %v", c.Stdout, err)
	}
	a, _ := open(t, c.Path, symbolize.Options{})
	r := a.Full(FullOptions{})
	d := r.Diagnosis
	if s := r.Signal; s.CodeName != "SI_KERNEL" || d.Kind != "misaligned_access" {
		t.Fatalf("signal %s %s, kind %s: %s", s.Name, s.CodeName, d.Kind, d.Summary)
	}
	reg := strings.TrimPrefix(strings.TrimSuffix(d.Evidence["instruction"], ")"), "movaps %xmm0,(%")
	wantSum := fmt.Sprintf("General protection fault in _mm_store_ps: movaps needs a 16-byte aligned address, but the instruction writes 16 bytes at %s = %#x, 8 bytes past a 16-byte boundary.", reg, target)
	if !strings.HasPrefix(d.Summary, wantSum) || strings.Contains(d.Summary, "stack pointer") {
		t.Errorf("summary %q, want it to begin %q", d.Summary, wantSum)
	}
	for k, v := range map[string]string{"required_alignment": "16", "misaligned_by": "0x8", "computed_address": fmt.Sprintf("%#x", target)} {
		if d.Evidence[k] != v {
			t.Errorf("evidence %s = %q, want %q", k, d.Evidence[k], v)
		}
	}
	frames := r.Threads[0].Frames
	if len(frames) < 3 || frames[0].Function != "_mm_store_ps" || frames[1].Function != "store_vec" || frames[1].Line != c.Line(t, "movaps") || frames[2].Function != "main" {
		t.Errorf("stack %s, want _mm_store_ps inlined in store_vec at line %d, then main", dumpArm(frames), c.Line(t, "movaps"))
	}

	// glibc's printf entered with the stack 8 bytes off: its movaps to its own frame faults.
	c = testcore.Make(t, testcore.SSEMisalignedStack)
	a, _ = open(t, c.Path, symbolize.Options{})
	r = a.Full(FullOptions{})
	d = r.Diagnosis
	sp := a.CrashedThread().SP(a.Core.Arch)
	if d.Kind != "misaligned_access" || sp%16 != 8 {
		t.Fatalf("kind %s, sp %#x: %s", d.Kind, sp, d.Summary)
	}
	if want := fmt.Sprintf("The stack pointer %#x is misaligned: the ABI wants it 16-byte aligned at every call", sp); !strings.Contains(d.Summary, want) ||
		!strings.HasPrefix(d.Evidence["instruction"], "movaps %xmm") || !strings.HasSuffix(d.Evidence["instruction"], "(%rsp)") || d.Evidence["sp"] != fmt.Sprintf("%#x", sp) {
		t.Errorf("summary %q (want %q), instruction %q, sp %q", d.Summary, want, d.Evidence["instruction"], d.Evidence["sp"])
	}
	frames = r.Threads[0].Frames
	if i := frameIndex(frames, "call_misaligned"); i != 1 || frames[1].Line != c.Line(t, "stack_call") || !strings.Contains(frames[0].Function, "printf") {
		t.Errorf("stack %s, want printf, then call_misaligned at line %d", dumpArm(frames), c.Line(t, "stack_call"))
	}
}

// TestFailedSigreturn: sigreturn.c returns from a signal, as glibc's restorer does, with
// its sp 64 bytes into a page it freed (unmapped, or PROT_NONE with "protnone"): the
// kernel cannot read the signal frame and sends SIGSEGV SI_KERNEL, with the thread left
// after its syscall (int $0x80 on i386) and the call's number in orig_rax (orig_eax).
func TestFailedSigreturn(t *testing.T) {
	for _, tc := range []struct {
		spec              testcore.Spec
		nr, call          string
		below, insnLength uint64
	}{
		{testcore.Spec{Name: "sigreturn-x86_64", Source: "sigreturn.c"}, "orig_rax = 15", "syscall", 8, 2},
		{testcore.Spec{Name: "sigreturn-protnone-x86_64", Source: "sigreturn.c", Args: []string{"protnone"}}, "orig_rax = 15", "syscall", 8, 2},
		{testcore.Spec{Name: "sigreturn-i386", Source: "sigreturn.c", Arch: testcore.ArchI386}, "orig_eax = 173", "int $0x80", 4, 2},
		{testcore.Spec{Name: "sigreturn-protnone-i386", Source: "sigreturn.c", Arch: testcore.ArchI386, Args: []string{"protnone"}}, "orig_eax = 173", "int $0x80", 4, 2},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, _ := open(t, c.Path, symbolize.Options{})
			r := a.Full(FullOptions{})
			if s := r.Signal; s.Name != "SIGSEGV" || s.CodeName != "SI_KERNEL" || s.Address != nil {
				t.Fatalf("signal %+v, want SIGSEGV SI_KERNEL without an address", s)
			}
			th := a.CrashedThread()
			sp, pc := th.SP(a.Core.Arch), th.PC(a.Core.Arch)
			if sp%0x1000 != 64 {
				t.Fatalf("sp %#x is not 64 bytes into a page", sp)
			}
			frame := sp - tc.below
			where := "which is in no mapping: the stack pointer does not point at a signal frame"
			for _, m := range r.Mappings {
				if uint64(m.Start) <= frame && frame < uint64(m.End) {
					if len(tc.spec.Args) == 0 || uint64(m.Start) != sp-64 || m.Perms != "---" {
						t.Fatalf("the frame %#x is in %+v", frame, m)
					}
					where = fmt.Sprintf("which is in anonymous [%#x-%#x ---], not readable", uint64(m.Start), uint64(m.End))
				}
			}
			if len(tc.spec.Args) > 0 && !strings.Contains(where, "---") {
				t.Fatalf("no PROT_NONE mapping holds the frame %#x", frame)
			}
			spName := map[uint64]string{8: "rsp", 4: "esp"}[tc.below]
			d := r.Diagnosis
			want := fmt.Sprintf("The thread in return_on called rt_sigreturn, the return from a signal handler, and the kernel killed it with SIGSEGV (SI_KERNEL): "+
				"the signal frame it had to restore the thread from is at %#x, %s. The handler returned on a stack other than", frame, where)
			if d.Kind != "failed_sigreturn" || !strings.HasPrefix(d.Summary, want) {
				t.Errorf("kind %s, summary %q\nwant it to begin %q", d.Kind, d.Summary, want)
			}
			for k, v := range map[string]string{
				"sigreturn_call": fmt.Sprintf("rt_sigreturn (%s), the system call instruction at %#x", tc.nr, pc-tc.insnLength),
				"signal_frame":   fmt.Sprintf("%#x (%s %#x - %#x)", frame, spName, sp, tc.below),
			} {
				if d.Evidence[k] != v {
					t.Errorf("evidence %s = %q, want %q", k, d.Evidence[k], v)
				}
			}
			// gdb reads the same: the system call instruction just before the pc, and the
			// call's number.
			out := gdb(t, c.Exe, c.Path, fmt.Sprintf("x/i %#x", pc-tc.insnLength), "info registers "+strings.Fields(tc.nr)[0])
			if !regexp.MustCompile(fmt.Sprintf(`(?m)^\s*0x0*%x <return_on\+\d+>:\s+%s\s*$`, pc-tc.insnLength, strings.ReplaceAll(regexp.QuoteMeta(tc.call), " ", `\s+`))).MatchString(out) ||
				!regexp.MustCompile(fmt.Sprintf(`(?m)^%s\s+0x[0-9a-f]+\s+%s$`, strings.Fields(tc.nr)[0], strings.Fields(tc.nr)[2])).MatchString(out) {
				t.Errorf("gdb does not show %s at %#x and %s:\n%s", tc.call, pc-tc.insnLength, tc.nr, out)
			}
			if s := r.Signature; s == nil || s.Text != "failed_sigreturn @ return_on < main" {
				t.Errorf("signature %+v, want failed_sigreturn @ return_on < main", s)
			}
			frames := r.Threads[0].Frames
			if len(frames) < 2 || frames[0].Function != "return_on" || frames[1].Function != "main" || frames[1].Line != c.Line(t, "main_calls") {
				t.Errorf("stack %s, want return_on, then main at line %d", dumpArm(frames), c.Line(t, "main_calls"))
			}
		})
	}
}
