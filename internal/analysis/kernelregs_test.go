package analysis

import (
	"context"
	"fmt"
	"math/big"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// The registers of the per-thread notes other than NT_PRSTATUS, on cores real kernels
// wrote (elfutils' test suite): ppc64le's NT_PPC_VMX and NT_PPC_VSX (vr0-vr31, vscr,
// vrsave, vs0-vs63), s390x's NT_S390_LAST_BREAK and NT_S390_SYSTEM_CALL, 32-bit ARM's
// NT_ARM_VFP (d0-d15 and fpscr: the CPU lacks VFPD32), i386's NT_PRXFPREG (x87 control
// registers, st0-st7, xmm0-xmm7, mxcsr) and NT_386_TLS (the thread pointer), aarch64's
// NT_PRFPREG (v0-v31, fpsr, fpcr). Two oracles read the same core: gdb-multiarch's `info
// registers NAME`, for every register of the architecture's ExtraRegs and every thread
// (gdb has a value exactly where coredig has one, and it is the same number), and
// eu-readelf --notes, whose decoded note fields are compared by name. A few values are
// also asserted outright, so that both oracles agreeing on nothing cannot pass.
func TestKernelCoreNoteRegisters(t *testing.T) {
	for _, tc := range []struct {
		core, exe, gdbArch string
		// extras is how many extra registers each thread has, by tid.
		extras map[int]int
		// want are exact values, by tid and register name.
		want map[int]map[string]string
	}{
		{core: "backtrace.ppc64le.fp.core", exe: "backtrace.ppc64le.fp.exec",
			extras: map[int]int{23728: 98, 23727: 98},
			want: map[int]map[string]string{
				23728: {"vrsave": "0xffffffff", "vscr": "0x0", "vr31": "0x0", "vs63": "0x0"},
				23727: {"vrsave": "0xffffffff", "vs0": "0x0"}}},
		{core: "backtrace.s390x.core", exe: "backtrace.s390x.exec",
			extras: map[int]int{58546: 1, 58545: 1},
			want:   map[int]map[string]string{58546: {"last_break": "0x80030cea"}, 58545: {"last_break": "0x8000088e"}}},
		{core: "testfile67", gdbArch: "s390:64-bit",
			extras: map[int]int{805: 2},
			want:   map[int]map[string]string{805: {"last_break": "0x3fffd75ccbe", "system_call": "0x0"}}},
		{core: "testfile63", gdbArch: "arm",
			extras: map[int]int{11087: 17},
			want:   map[int]map[string]string{11087: {"fpscr": "0x0", "d15": "0x0"}}},
		{core: "backtrace.i386.core", exe: "backtrace.i386.exec",
			extras: map[int]int{23101: 0, 23100: 24},
			want: map[int]map[string]string{
				23101: {"gs_base": "0xf77f6b40"},
				23100: {"fctrl": "0x37f", "mxcsr": "0x1f80", "xmm1": "0x222e3f28667400000000000000000000",
					"xmm5": "0x72702f006563720037312e3200504d53", "st7": "0x0"}}},
		// An i686 kernel's cores (GDT TLS entries 6-8, where an x86_64 kernel's compat
		// cores have 12-14).
		{core: "backtrace.i386.fp.core", exe: "backtrace.i386.fp.exec",
			extras: map[int]int{12045: 24, 12044: 24},
			want:   map[int]map[string]string{12045: {"gs_base": "0xb7748b70"}, 12044: {"gs_base": "0x9188830"}}},
		{core: "testfile_i686_core", gdbArch: "i386",
			extras: map[int]int{27395: 0},
			want:   map[int]map[string]string{27395: {"gs_base": "0xb77da700"}}},
		{core: "backtrace.aarch64.fp.core", exe: "backtrace.aarch64.fp.exec",
			extras: map[int]int{350: 34, 349: 34},
			want:   map[int]map[string]string{350: {"tpidr_el0": "0x7fb637f790"}, 349: {"tpidr_el0": "0x1adf26f0"}}},
		{core: "testfile_aarch64_core", gdbArch: "aarch64",
			extras: map[int]int{16547: 34},
			want:   map[int]map[string]string{16547: {"tpidr_el0": "0x7fb73606f0"}}},
		{core: "backtrace.aarch64.core", exe: "backtrace.aarch64.exec",
			extras: map[int]int{24044: 34, 24043: 34},
			want:   map[int]map[string]string{24044: {"fpsr": "0x0", "v31": "0x0", "tpidr_el0": "0x7f818e0790"}}},
	} {
		t.Run(tc.core, func(t *testing.T) {
			path := testcore.ElfutilsCore(t, tc.core)
			exe := ""
			if tc.exe != "" {
				exe = testcore.ElfutilsCore(t, tc.exe)
			}
			a, r := open(t, path, symbolize.Options{})
			ar := a.Core.Arch
			if len(r.Threads) != len(tc.extras) {
				t.Fatalf("%d threads, want %d", len(r.Threads), len(tc.extras))
			}
			for i := range r.Threads {
				th := &r.Threads[i]
				regs := extraRegs(ar, th)
				n, ok := tc.extras[th.TID]
				if !ok || len(regs) != n {
					t.Errorf("thread %d: %d extra registers, want %d: %v", th.TID, len(regs), n, regs)
				}
				all := allRegs(th)
				for name, v := range tc.want[th.TID] {
					if all[name] != v {
						t.Errorf("thread %d: %s = %q, want %s", th.TID, name, all[name], v)
					}
				}
			}
			compared := compareExtraWithGDB(t, ar, r, gdbNoteRegs(t, ar, exe, path, tc.gdbArch, len(r.Threads)))
			eu, tls := euReadelfNoteRegs(t, path, ar.Name == "aarch64")
			// eu-readelf shows every slot of NT_ARM_VFP; gdb and coredig leave out
			// d16-d31 when AT_HWCAP lacks VFPD32.
			hwcap, _ := a.Core.AuxvValue(core.AT_HWCAP)
			absent := map[string]bool{}
			for _, x := range ar.ExtraRegs {
				absent[x.Name] = x.HWCap != 0 && hwcap&x.HWCap == 0
			}
			for i := range r.Threads {
				th := &r.Threads[i]
				all := allRegs(th)
				for name, ev := range eu[th.TID] {
					if absent[name] {
						continue
					}
					if v, ok := all[name]; !ok || !sameNumber(v, ev) {
						t.Errorf("thread %d: %s: coredig %q, eu-readelf %s", th.TID, name, v, ev)
					}
					compared++
				}
				// i386: the thread pointer is the base of the TLS entry %gs selects; a
				// thread whose %gs selects none has none.
				if entries, ok := tls[th.TID]; ok {
					want, ok := entries[uint64(th.Registers["gs"])>>3]
					if got, has := all["gs_base"]; has != ok || (ok && !sameNumber(got, want)) {
						t.Errorf("thread %d: gs_base %q, eu-readelf's NT_386_TLS entry for gs %#x: %q", th.TID, got, uint64(th.Registers["gs"]), want)
					}
					compared++
				}
			}
			t.Logf("%d register values compared with gdb-multiarch and eu-readelf", compared)
		})
	}
}

// compareExtraWithGDB checks that gdb shows a value for each of the architecture's
// ExtraRegs in each thread exactly where coredig has one, the same number, and returns
// how many values it compared.
func compareExtraWithGDB(t *testing.T, ar *arch.Arch, r *report.Report, gdbRegs map[int]map[string]string) int {
	t.Helper()
	compared := 0
	for i := range r.Threads {
		th := &r.Threads[i]
		g, ok := gdbRegs[th.TID]
		if !ok {
			t.Fatalf("gdb shows no thread %d", th.TID)
		}
		ours := extraRegs(ar, th)
		for _, x := range ar.ExtraRegs {
			gv, gok := g[x.Name]
			v, ok := ours[x.Name]
			if gok != ok || (ok && !sameNumber(gv, v)) {
				t.Errorf("thread %d: %s: coredig %q (%v), gdb %q (%v)", th.TID, x.Name, v, ok, gv, gok)
			}
			if ok {
				compared++
			}
		}
	}
	return compared
}

// riscv64's floating-point registers (NT_PRFPREG: f0-f31 by their psABI names, fcsr),
// on the cores testcore makes through qemu's gdbstub (no riscv64 kernel's core has
// them), against gdb-multiarch on the same core: every thread, every register. The
// programs use no floating point, so the values are all 0 there: this checks the names
// and the note's presence, not the offsets (unit-tested in package core).
func TestRISCV64FPRegsMatchGDB(t *testing.T) {
	for _, spec := range []testcore.Spec{testcore.DerefRISCV64, testcore.DerefRISCV64O2} {
		t.Run(spec.Name, func(t *testing.T) {
			c := testcore.Make(t, spec)
			a, r := open(t, c.Path, symbolize.Options{Finder: symbolize.PathFinder{Sysroot: c.Sysroot}})
			ar := a.Core.Arch
			for i := range r.Threads {
				if n := len(extraRegs(ar, &r.Threads[i])); n != 33 {
					t.Errorf("thread %d: %d floating-point registers, want 33", r.Threads[i].TID, n)
				}
			}
			nonzero := 0
			for i := range r.Threads {
				for name, v := range extraRegs(ar, &r.Threads[i]) {
					if v != "0x0" {
						nonzero++
						t.Logf("thread %d: %s = %s", r.Threads[i].TID, name, v)
					}
				}
			}
			n := compareExtraWithGDB(t, ar, r, gdbNoteRegs(t, ar, c.Exe, c.Path, "", len(r.Threads)))
			t.Logf("%d threads, %d register values compared with gdb-multiarch, %d of them not 0", len(r.Threads), n, nonzero)
		})
	}
}

// extraRegs are the thread's values of the architecture's ExtraRegs, by name.
func extraRegs(a *arch.Arch, th *report.Thread) map[string]string {
	out := map[string]string{}
	for _, x := range a.ExtraRegs {
		if v, ok := th.WideRegisters[x.Name]; ok {
			out[x.Name] = v
		} else if v, ok := th.Registers[x.Name]; ok {
			out[x.Name] = v.String()
		}
	}
	return out
}

// allRegs are all the thread's registers, by name, as hex strings.
func allRegs(th *report.Thread) map[string]string {
	out := map[string]string{}
	for n, v := range th.Registers {
		out[n] = v.String()
	}
	for n, v := range th.WideRegisters {
		out[n] = v
	}
	return out
}

// sameNumber compares two numbers written in hex ("0x…") or decimal.
func sameNumber(a, b string) bool {
	x, ok1 := new(big.Int).SetString(a, 0)
	y, ok2 := new(big.Int).SetString(b, 0)
	return ok1 && ok2 && x.Cmp(y) == 0
}

var (
	gdbThreadLine = regexp.MustCompile(`^\*?\s+(\d+)\s+(?:LWP|process|Thread) (\d+)`)
	gdbRaw        = regexp.MustCompile(`\(raw (0x[0-9a-f]+)\)`)
	gdbUint128    = regexp.MustCompile(`uint128 = (0x[0-9a-f]+)`)
	gdbQ          = regexp.MustCompile(`q = \{u = \{(0x[0-9a-f]+)\}`)
	gdbPlain      = regexp.MustCompile(`^(0x[0-9a-f]+|-?\d+)\b`)
)

// gdbNoteRegs runs gdb-multiarch's `info registers NAME` for each of the architecture's
// ExtraRegs in each thread of a core and returns the values it shows, by LWP and name; a
// register gdb calls invalid or unavailable is absent. gdbArch, when set, is the
// architecture to assume for a core without its executable.
func gdbNoteRegs(t *testing.T, a *arch.Arch, exe, path, gdbArch string, threads int) map[int]map[string]string {
	t.Helper()
	if _, err := exec.LookPath("gdb-multiarch"); err != nil {
		t.Fatalf("gdb-multiarch is the oracle for this test (apt-get install gdb-multiarch, scripts/deps.sh): %v", err)
	}
	args := []string{"-nx", "-batch"}
	if gdbArch != "" {
		args = append(args, "-ex", "set architecture "+gdbArch)
	}
	if exe != "" {
		args = append(args, "-ex", "file "+exe)
	}
	args = append(args, "-ex", "core-file "+path, "-ex", "info threads")
	for n := 1; n <= threads; n++ {
		args = append(args, "-ex", fmt.Sprintf("thread %d", n), "-ex", fmt.Sprintf("echo @thread %d\\n", n))
		for _, x := range a.ExtraRegs {
			args = append(args, "-ex", "info registers "+x.Name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, _ := exec.CommandContext(ctx, "gdb-multiarch", args...).CombinedOutput() // errors for invalid registers are expected
	if ctx.Err() != nil {
		t.Fatalf("gdb-multiarch did not finish in time: %v", ctx.Err())
	}
	lwp := map[int]int{}
	out := map[int]map[string]string{}
	var cur map[string]string
	for _, line := range strings.Split(string(b), "\n") {
		if m := gdbThreadLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			lwp[n], _ = strconv.Atoi(m[2])
			continue
		}
		if rest, ok := strings.CutPrefix(line, "@thread "); ok {
			n, _ := strconv.Atoi(rest)
			cur = map[string]string{}
			out[lwp[n]] = cur
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok || cur == nil {
			continue
		}
		val = strings.TrimSpace(val)
		if strings.Contains(val, "<unavailable>") {
			continue
		}
		for _, re := range []*regexp.Regexp{gdbRaw, gdbUint128, gdbQ, gdbPlain} {
			if m := re.FindStringSubmatch(val); m != nil {
				cur[name] = m[1]
				break
			}
		}
	}
	if len(out) != threads {
		t.Fatalf("gdb-multiarch showed %d threads, want %d:\n%s", len(out), threads, b)
	}
	return out
}

var (
	euPrStatusPID = regexp.MustCompile(`^\s+pid: (\d+), ppid:`)
	euField       = regexp.MustCompile(`(\w+):\s+(0x[0-9a-f]+|\d+)\b`)
	euTLS         = regexp.MustCompile(`^\s+index: (\d+), base: (0x[0-9a-f]+)`)
	euNoteHeader  = regexp.MustCompile(`^\s+(CORE|LINUX)\s+\d+\s+(\S+)`)
)

// euNoteTypes are the notes whose fields eu-readelf decodes as coredig's registers,
// with the name coredig gives a field where it differs. NT_PRFPREG (FPREGSET) counts
// only where its fields are all extra registers (aarch64): eu-readelf's s390x layout of
// it is off by four bytes, and 32-bit ARM's is the FPA emulator's.
var euNoteTypes = map[string]map[string]string{
	"PPC_VMX": nil, "S390_LAST_BREAK": nil, "S390_SYSTEM_CALL": nil, "ARM_VFP": nil, "PRXFPREG": nil,
	"ARM_TLS": {"tls": "tpidr_el0"},
}

// euReadelfNoteRegs parses eu-readelf --notes: the fields of the register notes that
// follow each thread's NT_PRSTATUS, by pid and name, and each thread's NT_386_TLS
// entries (GDT entry number -> base).
func euReadelfNoteRegs(t *testing.T, path string, fpregset bool) (map[int]map[string]string, map[int]map[uint64]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, "eu-readelf", "--notes", path).Output()
	if err != nil {
		t.Fatalf("eu-readelf --notes (apt-get install elfutils, scripts/deps.sh): %v", err)
	}
	regs := map[int]map[string]string{}
	tls := map[int]map[uint64]string{}
	pid := 0
	note := ""
	for _, line := range strings.Split(string(b), "\n") {
		if m := euNoteHeader.FindStringSubmatch(line); m != nil {
			note = m[2]
			continue
		}
		if m := euPrStatusPID.FindStringSubmatch(line); m != nil && note == "PRSTATUS" {
			pid, _ = strconv.Atoi(m[1])
			regs[pid] = map[string]string{}
			continue
		}
		if pid == 0 {
			continue
		}
		if m := euTLS.FindStringSubmatch(line); m != nil && note == "386_TLS" {
			if tls[pid] == nil {
				tls[pid] = map[uint64]string{}
			}
			n, _ := strconv.ParseUint(m[1], 10, 64)
			tls[pid][n] = m[2]
			continue
		}
		names, ok := euNoteTypes[note]
		if !ok && !(fpregset && note == "FPREGSET") {
			continue
		}
		for _, m := range euField.FindAllStringSubmatch(line, -1) {
			name := m[1]
			if n, ok := names[name]; ok {
				name = n
			}
			regs[pid][name] = m[2]
		}
	}
	return regs, tls
}

// The auxiliary vector of the kernels' cores, against eu-readelf --notes: every entry in
// order, by name (eu-readelf's names without "AT_"; it names AT_HWCAP2 by number) and
// value; the bits of AT_HWCAP and AT_HWCAP2 named from the kernels' headers; the
// platform strings from the core's memory.
func TestKernelCoreAuxv(t *testing.T) {
	for _, tc := range []struct {
		core  string
		flags map[string]string // auxv name -> flags, space-separated
		strs  map[string]string // auxv name -> string
	}{
		{"backtrace.ppc64le.fp.core", map[string]string{
			"AT_HWCAP":  "true_le archpmu vsx arch_2_06 dfp ic_snoop smt mmu fpu altivec ppc64 ppc32",
			"AT_HWCAP2": "vcrypto tar isel ebb dscr htm arch_2_07"},
			map[string]string{"AT_PLATFORM": "power8", "AT_BASE_PLATFORM": "power8", "AT_EXECFN": "tests/backtrace.ppc64le.fp.exec"}},
		{"backtrace.s390x.core", map[string]string{"AT_HWCAP": "esan3 zarch stfle msa ldisp eimm dfp etf3eh highgprs"},
			map[string]string{"AT_PLATFORM": "z10"}},
		{"testfile67", map[string]string{"AT_HWCAP": "esan3 zarch stfle msa ldisp eimm dfp etf3eh highgprs"}, nil},
		{"testfile63", map[string]string{"AT_HWCAP": "swp half thumb fastmult vfp edsp thumbee vfpv3 vfpv3d16 tls"}, nil},
		{"backtrace.aarch64.core", map[string]string{"AT_HWCAP": "fp asimd evtstrm"}, map[string]string{"AT_PLATFORM": "aarch64"}},
		{"testfile-riscv64-core", map[string]string{"AT_HWCAP": "a c i m"}, map[string]string{"AT_EXECFN": "/tmp/a.out"}},
		{"backtrace.i386.core", nil, map[string]string{"AT_PLATFORM": "i686"}},
	} {
		t.Run(tc.core, func(t *testing.T) {
			path := testcore.ElfutilsCore(t, tc.core)
			_, r := open(t, path, symbolize.Options{})
			eu := euReadelfAuxv(t, path)
			if len(eu) != len(r.Auxv) {
				t.Fatalf("%d auxv entries, eu-readelf %d: %v", len(r.Auxv), len(eu), eu)
			}
			for i, e := range r.Auxv {
				name, val := eu[i][0], eu[i][1]
				if _, err := strconv.Atoi(name); err != nil && e.Name != "AT_"+name {
					t.Errorf("entry %d: %s, eu-readelf %s", i, e.Name, name)
				}
				if !sameNumber(e.Value.String(), val) {
					t.Errorf("entry %d (%s): %s, eu-readelf %s", i, e.Name, e.Value, val)
				}
				if want, ok := tc.flags[e.Name]; ok && strings.Join(e.Flags, " ") != want {
					t.Errorf("%s flags %q, want %q", e.Name, e.Flags, want)
				}
				if want, ok := tc.strs[e.Name]; ok && e.Str != want {
					t.Errorf("%s string %q, want %q", e.Name, e.Str, want)
				}
			}
		})
	}
}

// euReadelfAuxv returns the entries of the NT_AUXV note eu-readelf --notes prints, name
// and value, up to AT_NULL.
func euReadelfAuxv(t *testing.T, path string) [][2]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, "eu-readelf", "--notes", path).Output()
	if err != nil {
		t.Fatalf("eu-readelf --notes (apt-get install elfutils, scripts/deps.sh): %v", err)
	}
	var out [][2]string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if m := euNoteHeader.FindStringSubmatch(line); m != nil {
			in = m[2] == "AUXV"
			continue
		}
		if !in {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if strings.TrimSpace(line) == "NULL" || !ok {
			in = false
			continue
		}
		out = append(out, [2]string{name, strings.Fields(val)[0]})
	}
	return out
}
