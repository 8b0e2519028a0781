package analysis

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// Cores of ppc64le, s390x and 32-bit ARM programs, made by qemu-user from Debian's cross
// compilers' output: the notes give the signal, every thread and its registers in the
// architecture's own layout (s390x big-endian, with 4-byte access registers; ARM with
// 32-bit words), modules come from the dynamic linker's list under the sysroot, and the
// program's frames unwind through CFI with file:line. gdb-multiarch cannot read these
// qemu cores (no NT_FILE, no ELF header pages), so the expected values are the source's.
func TestForeignArchitectures(t *testing.T) {
	line := func(marker string) int { return testcore.Line(t, "deref.c", marker) }
	for _, tc := range []struct {
		spec    testcore.Spec
		arch    string
		pcReg   string
		spReg   string
		threads int
	}{
		{testcore.DerefPPC64LE, "ppc64le", "nip", "r1", 4},
		{testcore.DerefS390X, "s390x", "pswa", "r15", 4},
		{testcore.DerefARM, "arm", "r15", "r13", 4},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, r := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
			if r.Process.Arch != tc.arch || r.Signal == nil || r.Signal.Name != "SIGSEGV" || r.Signal.Source != "NT_PRSTATUS" {
				t.Fatalf("arch %s, signal %+v", r.Process.Arch, r.Signal)
			}
			if len(r.Threads) != tc.threads || r.CrashedTID == nil || *r.CrashedTID != c.PID {
				t.Fatalf("%d threads, crashed %v, want %d threads and %d", len(r.Threads), r.CrashedTID, tc.threads, c.PID)
			}
			crashed := r.Threads[0]
			pc, ok := crashed.Registers[tc.pcReg]
			if !ok || uint64(pc) != uint64(crashed.Frames[0].PC) || crashed.Frames[0].Function != "deref" {
				t.Errorf("pc register %s = %v, frame 0 %+v", tc.pcReg, pc, crashed.Frames[0])
			}
			if sp, ok := crashed.Registers[tc.spReg]; !ok || sp == 0 {
				t.Errorf("no stack pointer %s in %v", tc.spReg, crashed.Registers)
			}
			frames, errText := a.Backtrace(a.Core.Threads[0], 0)
			if len(frames) < 2 {
				t.Fatalf("frames %+v (%s)", frames, errText)
			}
			for i, want := range []struct {
				fn, by string
				line   int
			}{{"deref", "context", line("deref")}, {"main", "cfi", line("main_calls_deref")}} {
				f := frames[i]
				if f.Function != want.fn || f.FoundBy != want.by || f.Line != want.line {
					t.Errorf("frame %d: %s %s line %d, want %s %s line %d", i, f.Function, f.FoundBy, f.Line, want.fn, want.by, want.line)
				}
			}
		})
	}
}

// The NULL dereference of deref.c on ppc64le and s390x, explained from the decoded load:
// the access (base register, displacement, size), the register's value, the field
// offset, and p->field_at_0x60 from DWARF (at -O0 through p's stack slot, which GCC
// addresses from r31 and r11, at -O2 from p's location, r3 or r2). qemu writes no
// NT_SIGINFO, so the fault address is the operand's, said so, and no match with it is
// claimed.
func TestNullDerefPPC64LES390X(t *testing.T) {
	for _, tc := range []struct {
		spec              testcore.Spec
		insn, reg, source string
	}{
		{testcore.DerefPPC64LE, "ld r9,96(r9)", "r9", "loaded from p's stack slot at 0x?"},
		{testcore.DerefPPC64LEO2, "ld r3,96(r3)", "r3", "DWARF location at the pc"},
		{testcore.DerefS390X, "lg %r1,96(%r1)", "r1", "loaded from p's stack slot at 0x?"},
		{testcore.DerefS390XO2, "lg %r2,96(%r2)", "r2", "DWARF location at the pc"},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
			d := a.Full(FullOptions{}).Diagnosis
			if d == nil || d.Kind != "null_pointer_dereference" {
				t.Fatalf("diagnosis %+v", d)
			}
			checkDerefExplanation(t, d, 8, tc.reg, tc.insn, tc.source)
			if v, ok := d.Evidence["matches_fault_address"]; ok {
				t.Errorf("matches_fault_address = %q, but the fault address was computed from the same operand", v)
			}
		})
	}
}

// The other fault explanations on ppc64le and s390x from the decoded access: a NULL
// argument followed into the caller (argnull.c: read_at_0x60 is assembly without DWARF),
// a wild pointer (wild.c), a stack overflow whose faulting instruction is the frame's
// stack allocation (recurse.c: ppc64's stdu, s390x's stg below the guard), a write to
// .rodata (constwrite.c) and a NULL global (gotnull.c), all -O0 under qemu-user.
//
// Which of recurse's prologue stores meets the guard page depends on where the stack
// starts, and so on the length of the program's path. On ppc64le it is stdu (the frame's
// bottom) unless the boundary lies within the 8 bytes below r1, where the earlier std r31
// meets it first: with TMPDIR 86 to 90 bytes long here, and on CI's machine. On s390x it
// is the stg of the argument into the new frame, unless the boundary lies in the caller's
// register save area, which the caller never wrote and stmg fills first (TMPDIR 88 bytes
// long). Both pairs are exact alternatives. (32-bit ARM's are made
// both ways on purpose: recurseARMBothWays.)
func TestFaultExplanationsPPC64LES390X(t *testing.T) {
	for _, tc := range []struct {
		src, arch, kind string
		evidence        map[string]string
		oneOf           []map[string]string // the evidence also equals one of these
	}{
		{"argnull.c", testcore.ArchPPC64LE, "null_pointer_dereference", map[string]string{"function": "read_at_0x60",
			"instruction": "ld r3,96(r3)", "access": "reads 8 bytes at r3+0x60", "registers": "r3 = 0x0", "field_offset": "0x60",
			"source_access": "s->name", "pointer": "s (struct S *)",
			"pointer_source": "passed in r3 by lookup, which called read_at_0x60 at 0x?; there: loaded from s's stack slot at 0x?"}, nil},
		{"argnull.c", testcore.ArchS390X, "null_pointer_dereference", map[string]string{"function": "read_at_0x60",
			"instruction": "lg %r2,96(%r2)", "access": "reads 8 bytes at r2+0x60", "registers": "r2 = 0x0", "field_offset": "0x60",
			"source_access": "s->name", "pointer": "s (struct S *)",
			"pointer_source": "passed in r2 by lookup, which called read_at_0x60 at 0x?; there: loaded from s's stack slot at 0x?"}, nil},
		{"wild.c", testcore.ArchPPC64LE, "wild_pointer", map[string]string{"function": "chase", "access": "reads 8 bytes at r9+0x8",
			"registers": "r9 = 0x123456789000", "fault_address": "0x123456789008", "source_access": "n->next"}, nil},
		{"wild.c", testcore.ArchS390X, "wild_pointer", map[string]string{"function": "chase", "access": "reads 8 bytes at r1+0x8",
			"registers": "r1 = 0x123456789000", "fault_address": "0x123456789008", "source_access": "n->next"}, nil},
		{"recurse.c", testcore.ArchPPC64LE, "stack_overflow", map[string]string{"function": "recurse", "recursion": "recurse"},
			[]map[string]string{
				{"instruction": "stdu r1,-320(r1)", "access": "writes 8 bytes at r1-0x140"},
				{"instruction": "std r31,-8(r1)", "access": "writes 8 bytes at r1-0x8"},
			}},
		{"recurse.c", testcore.ArchS390X, "stack_overflow", map[string]string{"function": "recurse", "recursion": "recurse"},
			[]map[string]string{
				{"instruction": "stg %r2,160(%r11)", "access": "writes 8 bytes at r11+0xa0"},
				{"instruction": "stmg %r11,%r15,88(%r15)", "access": "writes 40 bytes at r15+0x58"},
			}},
		{"constwrite.c", testcore.ArchPPC64LE, "write_to_readonly", map[string]string{"function": "poke", "section": ".rodata",
			"access": "writes 4 bytes at r9+0x4", "source_access": "limits[2].hi", "pointer": "&limits (const struct limit [4] *)",
			"pointer_source": "the global limits, at r9 = address 0x? (at 0x?)"}, nil},
		{"constwrite.c", testcore.ArchS390X, "write_to_readonly", map[string]string{"function": "poke", "section": ".rodata",
			"access": "writes 4 bytes at r1+0x4", "source_access": "limits[2].hi",
			"pointer_source": "the global limits, at r1 = address 0x? (larl at 0x?)"}, nil},
		// Globals through ppc64's TOC pointer r2 (addi r9,r2,...) and s390x's lgrl.
		{"gotnull.c", testcore.ArchPPC64LE, "null_pointer_dereference", map[string]string{"function": "PyOS_setsig",
			"access": "reads 8 bytes at r9+0x60", "source_access": "runtime_signals->handlers[6].tripped",
			"pointer_source": "address of runtime_signals (at 0x?), then read"}, nil},
		{"gotnull.c", testcore.ArchS390X, "null_pointer_dereference", map[string]string{"function": "PyOS_setsig",
			"access": "reads 8 bytes at r1+0x60", "source_access": "runtime_signals->handlers[6].tripped",
			"pointer_source": "loaded from runtime_signals at 0x?"}, nil},
	} {
		spec := testcore.Spec{Name: strings.TrimSuffix(tc.src, ".c") + "-" + tc.arch, Source: tc.src, Arch: tc.arch}
		t.Run(spec.Name, func(t *testing.T) {
			c := testcore.Make(t, spec)
			a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
			d := a.Full(FullOptions{}).Diagnosis
			if d == nil || d.Kind != tc.kind {
				t.Fatalf("diagnosis %+v, want kind %s", d, tc.kind)
			}
			for k, v := range tc.evidence {
				if got := hexes.ReplaceAllString(d.Evidence[k], "0x?"); got != v && d.Evidence[k] != v {
					t.Errorf("evidence %s = %q, want %q (summary: %s)", k, d.Evidence[k], v, d.Summary)
				}
			}
			evidenceOneOf(t, d.Evidence, tc.oneOf, d.Summary)
			if d.Evidence["fault_address_source"] != "computed from the instruction (no NT_SIGINFO)" {
				t.Errorf("fault_address_source %q", d.Evidence["fault_address_source"])
			}
		})
	}
}

// checkDerefExplanation checks the diagnosis of deref.c's NULL dereference on a core
// without NT_SIGINFO: the summary, and the evidence of a load of size bytes at reg+0x60
// by insn, with p's value found as source says ("0x?" stands for any address).
func checkDerefExplanation(t *testing.T, d *report.Diagnosis, size int, reg, insn, source string) {
	t.Helper()
	r := reg
	want := fmt.Sprintf("NULL pointer dereference in deref: the instruction reads %d bytes at %s+0x60; %s = 0x0, ", size, r, r) +
		"so it touched the field at offset 0x60 of a struct whose pointer " + r + " is NULL. " +
		"In the source: p->field_at_0x60, through p (struct S *)."
	if d.Summary != want {
		t.Errorf("summary\n %s\nwant\n %s", d.Summary, want)
	}
	for k, v := range map[string]string{
		"function": "deref", "instruction": insn, "access": fmt.Sprintf("reads %d bytes at %s+0x60", size, r),
		"registers": r + " = 0x0", "computed_address": "0x60", "null_register": r, "field_offset": "0x60",
		"fault_address": "0x60", "fault_address_source": "computed from the instruction (no NT_SIGINFO)",
		"source_access": "p->field_at_0x60", "pointer": "p (struct S *)", "pointer_source": source,
	} {
		if got := hexes.ReplaceAllString(d.Evidence[k], "0x?"); got != v && d.Evidence[k] != v {
			t.Errorf("evidence %s = %q, want %q", k, d.Evidence[k], v)
		}
	}
}

// evidenceOneOf fails t unless the evidence equals every value of one of the
// alternatives (none: nothing to check).
func evidenceOneOf(t *testing.T, evidence map[string]string, alternatives []map[string]string, summary string) {
	t.Helper()
	if len(alternatives) == 0 {
		return
	}
	for _, alt := range alternatives {
		all := true
		for k, v := range alt {
			all = all && evidence[k] == v
		}
		if all {
			t.Logf("evidence equals %v (summary: %s)", alt, summary)
			return
		}
	}
	t.Errorf("evidence %v equals none of %v (summary: %s)", evidence, alternatives, summary)
}

// The kernel's signal frame on 32-bit ARM, as qemu-user lays it out: the handler's return
// address leads to glibc's Thumb-2 restorer (its Thumb bit cleared to read it), and the
// frame gives the interrupted registers.
func TestSignalFrameARM(t *testing.T) {
	c := testcore.Make(t, testcore.SigHandlerARM)
	a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
	frames, errText := a.Backtrace(a.Core.Threads[0], 0)
	if len(frames) < 3 {
		t.Fatalf("frames %+v (%s)", frames, errText)
	}
	for i, want := range []struct{ fn, by string }{{"on_usr1", "context"}, {SignalHandlerCalled, "cfi"}, {"", "signal_frame"}} {
		if f := frames[i]; want.fn != "" && f.Function != want.fn || f.FoundBy != want.by {
			t.Errorf("frame %d: %s [%s], want %s [%s]", i, f.Function, f.FoundBy, want.fn, want.by)
		}
	}
	if frames[0].Line != testcore.Line(t, "sighandler.c", "null_write") {
		t.Errorf("frame 0 at line %d", frames[0].Line)
	}
}

// gdbMultiarch runs gdb-multiarch in batch mode on a foreign core, with the sysroot its
// shared libraries come from.
func gdbMultiarch(t *testing.T, exe, corePath, sysroot string, cmds ...string) string {
	t.Helper()
	if _, err := exec.LookPath("gdb-multiarch"); err != nil {
		t.Fatalf("gdb-multiarch is the oracle for this test and is not installed (apt-get install gdb-multiarch): %v", err)
	}
	args := []string{"-nx", "-batch", "-ex", "set sysroot " + sysroot}
	for _, c := range cmds {
		args = append(args, "-ex", c)
	}
	out, _ := exec.Command("gdb-multiarch", append(args, exe, corePath)...).CombinedOutput()
	return string(out) // gdb's exit status is 1 when its unwinder gives up (s390x below)
}

// gdbBTLine is one frame of gdb's bt: its pc when gdb prints one, its function and, from
// DWARF, its line.
var gdbBTLine = regexp.MustCompile(`^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+) \(.*?\)(?: at \S+:(\d+)| from \S+)?$`)

// The kernels' signal frames on ppc64le and s390x, as qemu-user lays them out: a NULL
// write inside a SIGUSR1 handler unwinds through the sigreturn trampoline
// (<signal handler called>, found by the handler's CFI) into the interrupted code in libc
// (found from the saved machine context: ppc64's sigcontext gp_regs, s390x's _sigregs),
// and on through raise, send_usr1 and main, at -O0 and -O2. gdb-multiarch reads the same
// core: every frame it names must be in coredig's backtrace, in its order, at its pc and
// line. gdb names fewer frames than coredig on all but s390x -O2: its ppc64 sniffer does
// not recognise qemu's trampoline (it wants the kernel's "addi r1,r1,128" first) and
// falls back to the back chain, and at -O0 on s390x the handler, a leaf, keeps r11 and
// r15 in f2 and f0, which gdb needs and qemu does not write (no NT_PRFPREG), so gdb stops
// after frame 0 (and so it does at the rt_sigframe's trampoline). The rest is checked
// against the source.
func TestSignalFramePPC64LES390X(t *testing.T) {
	line := func(marker string) int { return testcore.Line(t, "sighandler.c", marker) }
	for _, tc := range []struct {
		spec     testcore.Spec
		sendBy   string   // how send_usr1's frame is found (s390x -O2: a tail call to raise)
		gdbNames []string // the frames gdb-multiarch names, in order
		sigInfo  bool     // the frame keeps a siginfo (ppc64's rt_sigframe; s390x's sigframe without SA_SIGINFO does not)
	}{
		{testcore.SigHandlerPPC64LE, "cfi", []string{"on_usr1", "raise", "send_usr1", "main"}, true},
		{testcore.SigHandlerPPC64LEO2, "cfi", []string{"on_usr1", "raise", "send_usr1", "main"}, true},
		{testcore.SigHandlerS390X, "cfi", []string{"on_usr1"}, false},
		{testcore.SigHandlerS390XO2, "tail_call", []string{"on_usr1", SignalHandlerCalled, "raise", "send_usr1", "main"}, false},
		{testcore.SigHandlerS390XSigInfo, "tail_call", []string{"on_usr1"}, true},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
			frames, errText := a.Backtrace(a.Core.Threads[0], 0)
			want := []struct {
				fn, by string
				line   int
			}{
				{"on_usr1", "context", line("null_write")},
				{SignalHandlerCalled, "cfi", 0},
				{"", "signal_frame", 0}, // __pthread_kill_implementation: a local symbol of the stripped libc
				{"raise", "cfi", 0},
				{"send_usr1", tc.sendBy, line("raise")},
				{"main", "cfi", line("main_calls_send")},
			}
			if len(frames) < len(want) {
				t.Fatalf("frames %s(%s)", dump(frames), errText)
			}
			for i, w := range want {
				f := frames[i]
				if f.Function != w.fn || f.FoundBy != w.by || f.Line != w.line {
					t.Errorf("frame %d: %q [%s] line %d, want %q [%s] line %d\n%s", i, f.Function, f.FoundBy, f.Line, w.fn, w.by, w.line, dump(frames))
				}
			}
			if m := frames[2].Module; filepath.Base(m) != "libc.so.6" {
				t.Errorf("interrupted frame in module %q, want libc.so.6", m)
			}
			// The crash is the handler's own NULL store, not the SIGUSR1 the frame saved
			// (qemu's cores have no NT_SIGINFO to tell them apart).
			if d := a.Full(FullOptions{}).Diagnosis; d == nil || d.Kind != "null_pointer_dereference" ||
				!strings.HasPrefix(d.Summary, "NULL pointer dereference in on_usr1: the instruction writes 4 bytes at ") {
				t.Errorf("diagnosis %+v, want the NULL store in on_usr1", d)
			}

			// The saved siginfo, where the frame keeps one, is SIGUSR1's.
			walk, _ := a.Unwind(a.Core.Threads[0], 0)
			if len(walk) < 2 || walk[1].Signal == nil {
				t.Fatalf("frame 1 carries no signal frame")
			}
			sf := walk[1].Signal
			if !tc.sigInfo {
				if sf.SigInfo != 0 {
					t.Errorf("siginfo at %#x in a frame that keeps none", sf.SigInfo)
				}
			} else {
				buf := make([]byte, core.SigInfoSize)
				if sf.SigInfo == 0 || a.Core.ReadFull(buf, sf.SigInfo) != nil {
					t.Fatalf("no readable siginfo (at %#x)", sf.SigInfo)
				}
				if si, err := core.DecodeSigInfo(a.Core.Arch, buf); err != nil || si.Signo != 10 {
					t.Errorf("saved siginfo %+v (%v), want SIGUSR1", si, err)
				}
			}

			out := gdbMultiarch(t, c.Exe, c.Path, c.Sysroot, "bt")
			var named []string
			i := 0
			for _, l := range strings.Split(out, "\n") {
				var num, pc, fn, ln string
				if m := gdbBTLine.FindStringSubmatch(l); m != nil {
					num, pc, fn, ln = m[1], m[2], m[3], m[4]
				} else if n, ok := strings.CutSuffix(l, "  <signal handler called>"); ok && strings.HasPrefix(n, "#") {
					num, fn = n[1:], SignalHandlerCalled
				}
				if fn == "" || fn == "??" || num == "0" && len(named) > 0 {
					continue // gdb prints frame 0 twice: when it loads the core, then in bt
				}
				named = append(named, fn)
				for i < len(frames) && frames[i].Function != fn {
					i++
				}
				if i == len(frames) {
					t.Errorf("gdb's #%s %s is not in coredig's backtrace after the previous match\n%s\n%s", num, fn, out, dump(frames))
					break
				}
				if ln != "" && strconv.Itoa(frames[i].Line) != ln {
					t.Errorf("%s: coredig line %d, gdb line %s", fn, frames[i].Line, ln)
				}
				if pc != "" && fmt.Sprintf("%#016x", uint64(frames[i].PC)) != pc {
					t.Errorf("%s: coredig pc %#x, gdb %s", fn, uint64(frames[i].PC), pc)
				}
				i++
			}
			if strings.Join(named, ", ") != strings.Join(tc.gdbNames, ", ") {
				t.Errorf("gdb-multiarch names %v, want %v\n%s", named, tc.gdbNames, out)
			}
		})
	}
}

// A faulthandler-shaped handler (plain sa_handler, SA_NODEFER) re-raises a NULL+0x60 read
// under qemu-user. On ppc64le the kernel (and qemu) writes the siginfo into every
// rt_sigframe, so the original fault is read from it. s390x's frame for a handler without
// SA_SIGINFO keeps neither a siginfo nor the fault (the kernel passes its code and address
// in r4 and r5 only), so there is no original fault to report; the stack still goes
// through the signal frame to deref.
func TestReraisePPC64LES390X(t *testing.T) {
	for _, tc := range []struct {
		spec     testcore.Spec
		original bool
	}{
		{testcore.Spec{Name: "reraise-nodefer-ppc64le", Source: "reraise_plain.c", Arch: testcore.ArchPPC64LE, CFlags: []string{"-O0", "-g", "-DNODEFER"}}, true},
		{testcore.Spec{Name: "reraise-nodefer-s390x", Source: "reraise_plain.c", Arch: testcore.ArchS390X, CFlags: []string{"-O0", "-g", "-DNODEFER"}}, false},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
			r := a.Full(FullOptions{})
			frames := r.Threads[0].Frames
			deref := -1
			for i, f := range frames {
				if f.Function == "deref" {
					deref = i
					break
				}
			}
			if deref < 1 || frames[deref].FoundBy != "signal_frame" || frames[deref-1].Function != SignalHandlerCalled ||
				frames[deref].Line != testcore.Line(t, "reraise_plain.c", "deref") || frames[deref+1].Function != "main" {
				t.Fatalf("no deref (at its line, found by the signal frame) after the trampoline, before main\n%s", dump(frames))
			}
			d := r.Diagnosis
			if d == nil {
				t.Fatal("no diagnosis")
			}
			o := d.Original
			if !tc.original {
				if o != nil {
					t.Errorf("original fault %+v from a frame that keeps none", o)
				}
				return
			}
			// No field_offset: the ppc64le decoder does not evaluate memory operands.
			if d.Kind != "null_pointer_dereference" || d.Evidence["function"] != "deref" || d.Evidence["fault_address"] != "0x60" ||
				o == nil || o.Name != "SIGSEGV" || o.CodeName != "SEGV_MAPERR" || o.Address == nil || *o.Address != 0x60 || o.Source != "signal frame siginfo" {
				t.Errorf("diagnosis %+v, original %+v", d, o)
			}
		})
	}
}
