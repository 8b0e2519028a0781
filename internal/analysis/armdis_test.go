package analysis

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// armObjdump runs arm-linux-gnueabihf-objdump -d on a 32-bit ARM file and returns its
// lines by link-time address: the bytes as coredig shows them (memory order) and the
// text without objdump's "@" comments and <symbol> annotations.
func armObjdump(t *testing.T, path string) map[uint64][2]string {
	t.Helper()
	out, err := exec.Command("arm-linux-gnueabihf-objdump", "-d", "-w", path).Output()
	if err != nil {
		t.Fatalf("arm-linux-gnueabihf-objdump -d %s (binutils-arm-linux-gnueabihf, scripts/deps.sh): %v", path, err)
	}
	line := regexp.MustCompile(`^\s*([0-9a-f]+):\t([0-9a-f]{8}) \t(.*)$`)
	m := map[uint64][2]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		g := line.FindStringSubmatch(sc.Text())
		if g == nil {
			continue
		}
		addr, _ := strconv.ParseUint(g[1], 16, 64)
		w, _ := strconv.ParseUint(g[2], 16, 32)
		text := g[3]
		if i := strings.Index(text, "\t@"); i >= 0 {
			text = text[:i]
		}
		text = regexp.MustCompile(`\s*<[^>]*>`).ReplaceAllString(text, "")
		m[addr] = [2]string{fmt.Sprintf("%02x %02x %02x %02x", w&0xff, w>>8&0xff, w>>16&0xff, w>>24), strings.Join(strings.Fields(text), " ")}
	}
	return m
}

var hexAddr = regexp.MustCompile(`0x([0-9a-f]+)`)

// checkWindowObjdump compares every line of a disassembly window with objdump's line at
// the same link-time address (run-time minus bias): bytes and text, branch targets
// written as objdump writes them (link-time, bare hex). Data words past the code
// sections, which objdump does not show, are let be. It returns the current line's text.
// The window must have at least minLines lines.
func checkWindowObjdump(t *testing.T, lines []report.DisasmLine, want map[uint64][2]string, bias uint64, minLines int) string {
	t.Helper()
	cur := ""
	if len(lines) < minLines {
		t.Errorf("window of %d lines: %+v", len(lines), lines)
	}
	for _, l := range lines {
		at := uint64(l.PC) - bias
		w, ok := want[at]
		text := l.Text
		if strings.HasPrefix(text, "b") { // b, bl, beq, ...: objdump's link-time target
			text = hexAddr.ReplaceAllStringFunc(text, func(s string) string {
				v, _ := strconv.ParseUint(s[2:], 16, 64)
				return fmt.Sprintf("%x", v-bias)
			})
		}
		if !ok && strings.HasPrefix(text, ".word ") {
			continue // data after the last code section (.rodata): objdump disassembles no such thing
		}
		if !ok || l.Error != "" || l.Bytes != w[0] || text != w[1] {
			t.Errorf("%#x (%#x): %q %q (%s), objdump %q %q", uint64(l.PC), at, l.Bytes, text, l.Error, w[0], w[1])
		}
		if l.Current {
			cur = l.Text
		}
	}
	return cur
}

// The NULL dereference of deref.c built for A32 (-marm) at -O0 and -O2, under qemu-arm:
// the explanation from the decoded load (which qemu's core, without NT_SIGINFO, needs: the
// fault address is the operand's, said so), the field from DWARF (at -O0 p's stack slot
// through fp, at -O2 p's location r0), and the disassembly window line for line as
// arm-linux-gnueabihf-objdump -d shows the same addresses, the literal pool before deref
// as .word by its $d mapping symbol.
func TestNullDerefARM(t *testing.T) {
	for _, tc := range []struct {
		spec              testcore.Spec
		insn, reg, source string
	}{
		{testcore.DerefARMA32, "ldr r3, [r3, #96]", "r3", "loaded from p's stack slot at 0x?"},
		{testcore.DerefARMA32O2, "ldr r0, [r0, #96]", "r0", "DWARF location at the pc"},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
			d := a.Full(FullOptions{}).Diagnosis
			if d == nil || d.Kind != "null_pointer_dereference" {
				t.Fatalf("diagnosis %+v", d)
			}
			checkDerefExplanation(t, d, 4, tc.reg, tc.insn, tc.source)
			pc := uint64(a.Core.Threads[0].PC(a.Core.Arch))
			bias := pc - a.Modules.Lookup(pc).ModuleOffset
			if cur := checkWindowObjdump(t, d.Disassembly, armObjdump(t, c.Exe), bias, 8); cur != tc.insn {
				t.Errorf("current line %q, want %q", cur, tc.insn)
			}
			words := 0
			for _, l := range d.Disassembly {
				if strings.HasPrefix(l.Text, ".word ") {
					words++
				}
			}
			if words == 0 {
				t.Errorf("no literal pool word in the window: %+v", d.Disassembly)
			}
		})
	}
}

// The other A32 faults of the issue, under qemu-arm (no NT_SIGINFO): a stack overflow
// whose faulting instruction is recurse's store of a local below the stack (recurse.c;
// its address, r11-0x108, computed) or, the stack moved (recurseARMBothWays), its push
// of fp and lr 8 bytes below the stack's lowest address, a call through a NULL function pointer (wildcall.c:
// the bad pc, and the caller from lr), and a wild pointer (wild.c), each -O0 -marm
// -no-pie (so the addresses are the link-time ones).
func TestFaultExplanationsARM(t *testing.T) {
	for _, tc := range []struct {
		src, kind string
		evidence  map[string]string
	}{
		{"wildcall.c", "execute_non_executable", map[string]string{"pc": "0x0", "caller": "call_it+0x18", "link_register": "0x1040c"}},
		// wild.c's pointer 0x123456789000 is 0x56789000 in 32 bits.
		{"wild.c", "wild_pointer", map[string]string{"function": "chase", "access": "reads 4 bytes at r3+0x4",
			"registers": "r3 = 0x56789000", "fault_address": "0x56789004", "source_access": "n->next",
			"instruction": "ldr r3, [r3, #4]", "pointer_source": "loaded from n's stack slot at 0x103d0",
			"fault_address_source": "computed from the instruction (no NT_SIGINFO)"}},
	} {
		spec := testcore.Spec{Name: strings.TrimSuffix(tc.src, ".c") + "-arm-a32", Source: tc.src, Arch: testcore.ArchARM,
			CFlags: []string{"-O0", "-g", "-marm", "-no-pie"}}
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
		})
	}
	cores, sps := recurseARMBothWays(t, "recurse-arm-a32", []string{"-O0", "-g", "-marm", "-no-pie"})
	for i, want := range []map[string]string{
		{"instruction": "str r0, [fp, #-264]", "access": "writes 4 bytes at r11-0x108", "fault_address": fmt.Sprintf("%#x", sps[0]+4)},
		{"instruction": "push {fp, lr}", "access": "writes 8 bytes at r13-0x8", "fault_address": fmt.Sprintf("%#x", sps[1]-8),
			"registers": fmt.Sprintf("r13 = %#x", sps[1]), "below_stack": "0x8"},
	} {
		t.Run(cores[i].Spec.Name, func(t *testing.T) {
			a, _ := open(t, cores[i].Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: cores[i].Sysroot}})
			d := a.Full(FullOptions{}).Diagnosis
			if d == nil || d.Kind != "stack_overflow" {
				t.Fatalf("diagnosis %+v, want kind stack_overflow", d)
			}
			want["function"], want["recursion"], want["recursion_depth"] = "recurse", "recurse", "1024"
			want["fault_address_source"] = "computed from the instruction (no NT_SIGINFO)"
			for k, v := range want {
				if d.Evidence[k] != v {
					t.Errorf("evidence %s = %q, want %q (summary: %s)", k, d.Evidence[k], v, d.Summary)
				}
			}
		})
	}
}

// TestFaultExplanationsARM's faults in Debian's default Thumb-2 (-O0 -no-pie): the
// wild pointer's load decoded by the T32 decoder, its address computed (no NT_SIGINFO),
// the pointer from the 16-bit load before it (at 0x103c8), and the call through NULL,
// whose caller is named from lr without its Thumb bit (0x10401: call_it+0xc).
func TestFaultExplanationsThumb(t *testing.T) {
	for _, tc := range []struct {
		src, kind string
		evidence  map[string]string
	}{
		{"wildcall.c", "execute_non_executable", map[string]string{"pc": "0x0", "caller": "call_it+0xc", "link_register": "0x10401"}},
		{"wild.c", "wild_pointer", map[string]string{"function": "chase", "access": "reads 4 bytes at r3+0x4",
			"registers": "r3 = 0x56789000", "fault_address": "0x56789004", "source_access": "n->next",
			"instruction": "ldr r3, [r3, #4]", "pointer_source": "loaded from n's stack slot at 0x103c8",
			"computed_address": "0x56789004", "pc": "0x103ca",
			"fault_address_source": "computed from the instruction (no NT_SIGINFO)"}},
	} {
		spec := testcore.Spec{Name: strings.TrimSuffix(tc.src, ".c") + "-arm-thumb", Source: tc.src, Arch: testcore.ArchARM,
			CFlags: []string{"-O0", "-g", "-no-pie"}}
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
		})
	}
}

// itload.c at -O2 in Thumb-2: the faulting load is inside an IT block ("ite gt"), so the
// instruction reads with the block's condition, as objdump shows it ("ldrgt"), in the
// evidence (decoded alone, with the IT state from pick's start) and in the window.
func TestNullDerefThumbIT(t *testing.T) {
	spec := testcore.Spec{Name: "itload-arm-o2", Source: "itload.c", Arch: testcore.ArchARM, CFlags: []string{"-O2", "-g"}}
	c := testcore.Make(t, spec)
	a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
	d := a.Full(FullOptions{}).Diagnosis
	if d == nil || d.Kind != "null_pointer_dereference" {
		t.Fatalf("diagnosis %+v", d)
	}
	for k, v := range map[string]string{
		"function": "pick", "instruction": "ldrgt r0, [r0, #96]", "access": "reads 4 bytes at r0+0x60",
		"registers": "r0 = 0x0", "field_offset": "0x60", "fault_address": "0x60", "source_access": "p->field_at_0x60",
	} {
		if d.Evidence[k] != v {
			t.Errorf("evidence %s = %q, want %q", k, d.Evidence[k], v)
		}
	}
	pc := uint64(a.Core.Threads[0].PC(a.Core.Arch))
	bias := pc - a.Modules.Lookup(pc).ModuleOffset
	if cur := checkWindowObjdump(t, d.Disassembly, armThumbObjdump(t, c.Exe), bias, 4); cur != "ldrgt r0, [r0, #96]" {
		t.Errorf("current line %q", cur)
	}

	// With the program stripped, no symbol gives pick's start to decode the IT block
	// from; the thread's CPSR holds its IT state (ITSTATE 0xcc: GT now, LE next), and
	// the condition comes from there.
	exe := filepath.Join(t.TempDir(), "itload")
	if b, err := exec.Command("arm-linux-gnueabihf-strip", "-o", exe, c.Exe).CombinedOutput(); err != nil {
		t.Fatalf("arm-linux-gnueabihf-strip: %v\n%s", err, b)
	}
	a, _ = open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}, ExePath: exe})
	if psr := a.Core.Threads[0].Regs[a.Core.Arch.Reg("cpsr")]; psr>>10&0x3f<<2|psr>>25&3 != 0xcc {
		t.Errorf("cpsr %#x: ITSTATE is not ite gt's", psr)
	}
	d = a.Full(FullOptions{}).Diagnosis
	if d == nil || d.Evidence["instruction"] != "ldrgt r0, [r0, #96]" || d.Evidence["function"] != "" {
		t.Fatalf("stripped: diagnosis %+v, want instruction ldrgt r0, [r0, #96] in no named function", d)
	}
	// The window starts at the pc, and the rest of the block follows as objdump has it.
	var got []string
	for _, l := range d.Disassembly {
		got = append(got, l.Text)
	}
	if len(got) < 3 || !d.Disassembly[0].Current || got[0] != "ldrgt r0, [r0, #96]" || got[1] != "movle r0, #7" || got[2] != "bx lr" {
		t.Errorf("stripped: window %q, want ldrgt r0, [r0, #96] (current), movle r0, #7, bx lr", got)
	}
}

// deref.c in Debian's default Thumb-2 at -O0 and -O2, under qemu-arm: the same
// explanation as TestNullDerefARM's from the T32 decoder, and the window line for line as
// arm-linux-gnueabihf-objdump -d shows the same addresses (armThumbObjdump), decoded
// forward from deref's start, and with as many lines as it has.
func TestNullDerefThumb(t *testing.T) {
	for _, tc := range []struct {
		spec              testcore.Spec
		insn, reg, source string
		lines             int
	}{
		{testcore.DerefARM, "ldr r3, [r3, #96]", "r3", "loaded from p's stack slot at 0x?", 10},
		// At -O2 the load is deref's first instruction, and _fini's A32 code (crti.o, in
		// .fini) follows its bx lr: nothing before the pc, the A32 after it.
		{testcore.DerefARMO2, "ldr r0, [r0, #96]", "r0", "DWARF location at the pc", 5},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			c := testcore.Make(t, tc.spec)
			a, _ := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
			d := a.Full(FullOptions{}).Diagnosis
			if d == nil || d.Kind != "null_pointer_dereference" {
				t.Fatalf("diagnosis %+v", d)
			}
			checkDerefExplanation(t, d, 4, tc.reg, tc.insn, tc.source)
			pc := uint64(a.Core.Threads[0].PC(a.Core.Arch))
			bias := pc - a.Modules.Lookup(pc).ModuleOffset
			if cur := checkWindowObjdump(t, d.Disassembly, armThumbObjdump(t, c.Exe), bias, tc.lines); cur != tc.insn {
				t.Errorf("current line %q, want %q", cur, tc.insn)
			}
		})
	}
}

// armThumbObjdump is armObjdump for Thumb code: objdump prints a T32 instruction as one or
// two halfwords ("6e1b", "f8d3 3060"), given here in memory order ("1b 6e").
func armThumbObjdump(t *testing.T, path string) map[uint64][2]string {
	t.Helper()
	out, err := exec.Command("arm-linux-gnueabihf-objdump", "-d", "-w", path).Output()
	if err != nil {
		t.Fatalf("arm-linux-gnueabihf-objdump -d %s (binutils-arm-linux-gnueabihf, scripts/deps.sh): %v", path, err)
	}
	line := regexp.MustCompile(`^\s*([0-9a-f]+):\t([0-9a-f]{4}(?: [0-9a-f]{4})?|[0-9a-f]{8}) *\t(.*)$`)
	m := map[uint64][2]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		g := line.FindStringSubmatch(sc.Text())
		if g == nil {
			continue
		}
		addr, _ := strconv.ParseUint(g[1], 16, 64)
		var b []string
		if len(g[2]) == 8 { // a literal pool word
			w, _ := strconv.ParseUint(g[2], 16, 32)
			b = []string{fmt.Sprintf("%02x %02x %02x %02x", w&0xff, w>>8&0xff, w>>16&0xff, w>>24)}
		} else {
			for _, h := range strings.Fields(g[2]) {
				v, _ := strconv.ParseUint(h, 16, 16)
				b = append(b, fmt.Sprintf("%02x %02x", v&0xff, v>>8))
			}
		}
		text := g[3]
		if i := strings.Index(text, "\t@"); i >= 0 {
			text = text[:i]
		}
		text = regexp.MustCompile(`\s*<[^>]*>`).ReplaceAllString(text, "")
		m[addr] = [2]string{strings.Join(b, " "), strings.Join(strings.Fields(text), " ")}
	}
	return m
}

// crash.go for GOARCH=arm under qemu-arm: the runtime records the nil dereference's
// address as 0x0 there (qemu gives its handler none), so the address comes from the
// decoded A32 load, said so: its base register r0, which the thread's registers no longer
// hold, from the stack slot readField loaded it from, at the faulting frame's sp
// (runtime.sigpanic's CFA, unwound from g._panic's start, plus the 4 bytes the runtime
// pushed). The runtime's own traceback on stderr is the oracle: it prints readField's
// argument (0x0), the faulting pc, and addr=0x0. The window around main.readField equals
// objdump's.
func TestGoNilDerefARM(t *testing.T) {
	c := testcore.Make(t, testcore.GoCrashARM)
	a, _ := open(t, c.Path, symbolize.Options{})
	d := a.Full(FullOptions{}).Diagnosis
	if d == nil || d.Kind != "abort" {
		t.Fatalf("diagnosis %+v", d)
	}
	var pc uint64
	for _, l := range d.Disassembly {
		if l.Current {
			pc = uint64(l.PC)
		}
	}
	for _, want := range []string{"main.readField(0x0)", fmt.Sprintf("addr=0x0 pc=%#x]", pc)} {
		if !strings.Contains(c.Stderr, want) {
			t.Errorf("the runtime's stderr lacks %q:\n%s", want, c.Stderr)
		}
	}
	for k, v := range map[string]string{
		"go_fault":             "main.readField at " + c.Source + ":" + strconv.Itoa(c.Line(t, "read_field")),
		"go_fault_instruction": "ldr r1, [r0, #96]",
		"go_fault_access":      "reads 4 bytes at r0+0x60",
		"go_signal":            "SIGSEGV SEGV_MAPERR at 0x0 (goroutine 1)",
		"go_fault_address":     "0x60 (computed from the instruction; the runtime recorded 0x0)",
		"go_field_offset":      "0x60 (from the instruction)",
		"go_fault_registers": fmt.Sprintf("r0 = 0x0 (loaded from the stack slot at r13+0x4 by \"ldr r0, [sp, #4]\" at %#x, r13 = SP there ", pc-4) +
			"(runtime.sigpanic's CFA, unwound from g._panic's start, plus the 4 bytes the runtime pushed))",
	} {
		if got := regexp.MustCompile(`r13 = 0x[0-9a-f]+ there`).ReplaceAllString(d.Evidence[k], "r13 = SP there"); got != v {
			t.Errorf("evidence %s = %q, want %q", k, d.Evidence[k], v)
		}
	}
	want := "The panic came from a nil pointer dereference (SIGSEGV SEGV_MAPERR at 0x60, computed from the instruction: it reads " +
		"4 bytes at r0+0x60 and r0 = 0x0, so it touched the field at offset 0x60 of a nil pointer; the runtime recorded address " +
		"0x0: under qemu-user, whose core has no NT_SIGINFO, its handler gets no fault address), caught by the runtime in " +
		"main.readField at " + c.Source + ":" + strconv.Itoa(c.Line(t, "read_field")) + " (ldr r1, [r0, #96]), in goroutine 1."
	if !strings.Contains(d.Summary, want) {
		t.Errorf("summary\n %s\nlacks\n %s", d.Summary, want)
	}
	if cur := checkWindowObjdump(t, d.Disassembly, armObjdump(t, c.Exe), 0, 8); cur != "ldr r1, [r0, #96]" {
		t.Errorf("current line %q", cur)
	}
}
