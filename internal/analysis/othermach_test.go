package analysis

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// otherMachine is one elfutils test core of an architecture coredig reads from its notes
// only, with what it must show (values read with eu-readelf --notes and gdb-multiarch).
type otherMachine struct {
	core, exe  string
	arch       string
	byteOrder  string
	pid        int
	command    string
	args       string
	signal     string
	signo      int
	tids       []int
	files      int    // NT_FILE entries, -1 when the core has no NT_FILE
	crashedPC  uint64 // the first thread's pc
	function   string // the pc's function from exe's symbols ("" without exe)
	gdb        bool   // gdb-multiarch reads the core
	regAliases map[string]string
	// full: the architecture is unwound (x32), so its report is a whole one, not notes
	// only; TestKernelCoresMatchGDB checks its stacks.
	full bool
}

var ppcAliases = map[string]string{"orig_gpr3": "orig_r3", "lr": "link", "cr": "ccr", "spr0": "softe"}

var otherMachines = []otherMachine{
	{core: "backtrace.ppc.core", exe: "backtrace.ppc.exec", arch: "ppc", byteOrder: "big-endian",
		pid: 17197, command: "backtrace.ppc.e", args: "./backtrace.ppc.exec --gencore", signal: "SIGABRT", signo: 6,
		tids: []int{17198, 17197}, files: 2, crashedPC: 0x1000e1f0, function: "raise", gdb: true, regAliases: ppcAliases},
	{core: "testfile66.core", arch: "ppc64", byteOrder: "big-endian",
		pid: 19505, command: "pie3", args: "./pie3", signal: "SIGTRAP", signo: 5,
		tids: []int{19505}, files: -1, crashedPC: 0x461b02d8, gdb: true, regAliases: ppcAliases},
	{core: "backtrace.s390.core", exe: "backtrace.s390.exec", arch: "s390", byteOrder: "big-endian",
		pid: 58559, command: "backtrace.s390.", args: "./backtrace.s390.exec --gencore", signal: "SIGABRT", signo: 6,
		tids: []int{58560, 58559}, files: -1, crashedPC: 0x40c4a2, function: "raise", gdb: true},
	{core: "testfile68", arch: "s390", byteOrder: "big-endian",
		pid: 839, command: "2", args: "./2", signal: "SIGILL", signo: 4,
		tids: []int{839}, files: -1, crashedPC: 0x40009a, gdb: true},
	{core: "backtrace.sparc.core", exe: "backtrace.sparc.exec", arch: "sparc64", byteOrder: "big-endian",
		pid: 21611, command: "backtrace-child", args: "./backtrace-child --gencore", signal: "SIGABRT", signo: 6,
		tids: []int{21612, 21611}, files: -1, crashedPC: 0x10c488, function: "raise"},
	{core: "backtrace.x32.core", exe: "backtrace.x32.exec", arch: "x32", byteOrder: "little-endian",
		pid: 3842, command: "backtrace.x32.e", args: "./backtrace.x32.exe --gencore", signal: "SIGABRT", signo: 6,
		tids: []int{3843, 3842}, files: 2, crashedPC: 0x40b2a2, function: "raise", gdb: true, full: true,
		regAliases: map[string]string{"rflags": "eflags", "fs.base": "fs_base", "gs.base": "gs_base"}},
	{core: "testfile-x32-core", arch: "x32", byteOrder: "little-endian",
		pid: 6885, command: "a.out", args: "./a.out", signal: "SIGSEGV", signo: 11,
		tids: []int{6885}, files: 9, crashedPC: 0x400380, gdb: true, full: true,
		regAliases: map[string]string{"rflags": "eflags", "fs.base": "fs_base", "gs.base": "gs_base"}},
	{core: "testfile-m68k-core", arch: "m68k", byteOrder: "big-endian",
		pid: 1963, command: "a.out", args: "./a.out", signal: "SIGSEGV", signo: 11,
		tids: []int{1963}, files: 10, crashedPC: 0x800003fe, regAliases: map[string]string{"a7": "usp"}},
}

// TestOtherMachinesMatchReadelf reads elfutils' cores of ppc, big-endian ppc64, 31-bit
// s390, sparc64, x32 and m68k (real kernels wrote them) and checks the notes-only report
// (x32's notes, in a whole report)
// against eu-readelf --notes on the same core: pid, command line, signal, every thread
// id and every register of NT_PRSTATUS (and NT_PRFPREG where coredig shows it), the
// auxiliary vector's values and NT_FILE's mappings.
func TestOtherMachinesMatchReadelf(t *testing.T) {
	if _, err := exec.LookPath("eu-readelf"); err != nil {
		t.Fatalf("eu-readelf not found (scripts/deps.sh installs elfutils): %v", err)
	}
	for _, m := range otherMachines {
		t.Run(m.core, func(t *testing.T) {
			path := testcore.ElfutilsCore(t, m.core)
			want := readelfNotes(t, path)
			opts := symbolize.Options{}
			if m.exe != "" {
				opts.ExePath = testcore.ElfutilsCore(t, m.exe)
			}
			c, err := core.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a := New(c, opts)
			defer a.Close()
			r := a.Full(FullOptions{})

			p := r.Process
			if m.full && (p.Arch != m.arch || p.ArchLimit != nil) {
				t.Errorf("arch %q, limit %+v; want %s, no limit", p.Arch, p.ArchLimit, m.arch)
			}
			if !m.full && (p.Arch != m.arch || p.ArchLimit == nil || p.ArchLimit.Support != "notes_only" || p.ArchLimit.ByteOrder != m.byteOrder ||
				!strings.HasPrefix(p.ArchLimit.Reason, "no unwinder for ")) {
				t.Errorf("arch %q, limit %+v; want %s, notes_only, %s", p.Arch, p.ArchLimit, m.arch, m.byteOrder)
			}
			if p.PID == nil || *p.PID != m.pid || *p.PID != want.pid {
				t.Errorf("pid %v, want %d (eu-readelf %d)", p.PID, m.pid, want.pid)
			}
			if p.Command != m.command || p.Command != want.fname {
				t.Errorf("command %q, want %q (eu-readelf %q)", p.Command, m.command, want.fname)
			}
			if got := strings.Join(p.Args, " "); got != m.args || got != want.psargs {
				t.Errorf("args %q, want %q (eu-readelf %q)", got, m.args, want.psargs)
			}
			if p.UID == nil || int(*p.UID) != want.uid {
				t.Errorf("uid %v, eu-readelf %d", p.UID, want.uid)
			}
			if r.Signal == nil || r.Signal.Number != m.signo || r.Signal.Name != m.signal || r.Signal.Number != want.cursig {
				t.Errorf("signal %+v, want %s (%d), eu-readelf cursig %d", r.Signal, m.signal, m.signo, want.cursig)
			}
			if want.siCode != nil && (r.Signal == nil || r.Signal.Code != *want.siCode) {
				t.Errorf("si_code %+v, eu-readelf %d", r.Signal, *want.siCode)
			}
			if want.faultAddr != nil && (r.Signal == nil || r.Signal.Address == nil || uint64(*r.Signal.Address) != *want.faultAddr) {
				t.Errorf("fault address %+v, eu-readelf %#x", r.Signal, *want.faultAddr)
			}

			var tids []int
			for _, th := range r.Threads {
				tids = append(tids, th.TID)
			}
			if fmt.Sprint(tids) != fmt.Sprint(m.tids) || fmt.Sprint(tids) != fmt.Sprint(want.tids()) {
				t.Errorf("threads %v, want %v (eu-readelf %v)", tids, m.tids, want.tids())
			}
			for i, th := range r.Threads {
				if i >= len(want.threads) {
					break
				}
				compared := 0
				for name, v := range want.threads[i].regs {
					if alias, ok := m.regAliases[name]; ok {
						name = alias
					}
					if want.threads[i].fp[name] {
						// NT_PRFPREG: eu-readelf 0.188 shows 31-bit s390's f0-f15 one
						// byte off and ppc64's fpscr where the note holds none (gdb:
						// f0 0x4040000000000000, fpscr 0); TestOtherMachinesMatchGDB
						// checks them.
						continue
					}
					got, ok := th.Registers[name]
					if !ok {
						t.Errorf("thread %d: eu-readelf shows %s = %#x, coredig has no such register", th.TID, name, v)
						continue
					}
					width := 64
					if w := regWidth(c, name); w > 0 {
						width = 8 * w
					}
					if width < 64 {
						v &= 1<<width - 1
					}
					if uint64(got) != v {
						t.Errorf("thread %d: %s = %#x, eu-readelf %#x", th.TID, name, uint64(got), v)
					}
					compared++
				}
				if compared < 16 {
					t.Errorf("thread %d: only %d registers compared", th.TID, compared)
				}
				// bt: the pc and why the walk stops there.
				if !m.full && (len(th.Frames) != 1 || th.Frames[0].FoundBy != "context" || !strings.Contains(th.Error, "no unwinder for ")) {
					t.Errorf("thread %d: frames %+v, error %q; want the context frame alone and why", th.TID, th.Frames, th.Error)
				}
			}
			if len(r.Threads) > 0 {
				f := r.Threads[0].Frames[0]
				if uint64(f.PC) != m.crashedPC || f.Function != m.function {
					t.Errorf("crashing thread's frame %#x %q, want %#x %q", uint64(f.PC), f.Function, m.crashedPC, m.function)
				}
			}

			if len(r.Auxv) != len(want.auxv) {
				t.Errorf("%d auxv entries, eu-readelf %d", len(r.Auxv), len(want.auxv))
			}
			for i := range min(len(r.Auxv), len(want.auxv)) {
				if uint64(r.Auxv[i].Value) != want.auxv[i] {
					t.Errorf("auxv[%d] %s = %#x, eu-readelf %#x", i, r.Auxv[i].Name, uint64(r.Auxv[i].Value), want.auxv[i])
				}
			}

			if m.files >= 0 && (len(c.Files) != m.files || len(want.files) != m.files) {
				t.Errorf("%d NT_FILE entries, want %d (eu-readelf %d)", len(c.Files), m.files, len(want.files))
			}
			for i := range min(len(c.Files), len(want.files)) {
				f, w := c.Files[i], want.files[i]
				digits := 2 * c.Arch.PtrSize // eu-readelf pads addresses to the word
				if got := fmt.Sprintf("%0*x-%0*x %08x %s", digits, f.Start, digits, f.End, f.FileOff, f.Name); got != w {
					t.Errorf("NT_FILE[%d] %q, eu-readelf %q", i, got, w)
				}
			}
			if m.files > 0 && !hasModule(r.Modules, c.Files[0].Name) {
				t.Errorf("no module for %s: %+v", c.Files[0].Name, r.Modules)
			}
			if m.full {
				return
			}
			if !strings.Contains(strings.Join(r.Warnings, "\n"), "is read from its notes only") {
				t.Errorf("no warning says the core is read from its notes only: %q", r.Warnings)
			}
			if r.Diagnosis != nil || r.Python != nil || r.Go != nil {
				t.Errorf("a notes-only report explains from memory: diagnosis %v, python %v, go %v", r.Diagnosis, r.Python, r.Go)
			}
		})
	}
}

func hasModule(mods []report.Module, path string) bool {
	for _, m := range mods {
		if m.Path == path {
			return true
		}
	}
	return false
}

// regWidth is the size in bytes of a register of the core's architecture.
func regWidth(c *core.Core, name string) int {
	a := c.Arch
	i := a.Reg(name)
	if i < 0 {
		return 0
	}
	if a.RegSizes != nil {
		return a.RegSizes[i]
	}
	if i >= a.PrRegs() {
		return a.NoteRegs[i-a.PrRegs()].Size
	}
	return a.PtrSize
}

// readelfCore is what eu-readelf --notes says of a core.
type readelfCore struct {
	pid, uid, cursig int
	fname, psargs    string
	siCode           *int
	faultAddr        *uint64
	threads          []readelfThread
	auxv             []uint64
	files            []string // "start-end offset path"
}

type readelfThread struct {
	tid  int
	regs map[string]uint64
	fp   map[string]bool // names of NT_PRFPREG's registers
}

func (r *readelfCore) tids() []int {
	var out []int
	for _, t := range r.threads {
		out = append(out, t.tid)
	}
	return out
}

var (
	readelfNote  = regexp.MustCompile(`^\s+(CORE|LINUX)\s+\d+\s+(\S+)`)
	readelfField = regexp.MustCompile(`([A-Za-z_][\w.]*):\s+(-?0x[0-9a-fA-F]+|-?\d+)\b`)
	readelfFile  = regexp.MustCompile(`^\s+([0-9a-f]+)-([0-9a-f]+) ([0-9a-f]+) \d+\s+(\S.*)$`)
	readelfAuxv  = regexp.MustCompile(`^\s+(\w+): (-?0x[0-9a-f]+|-?\d+)`)
)

// notRegisters are the fields of eu-readelf's NT_PRSTATUS that are no register.
var notRegisters = map[string]bool{"info.si_signo": true, "info.si_code": true, "info.si_errno": true,
	"cursig": true, "pid": true, "ppid": true, "pgrp": true, "sid": true, "fpvalid": true}

func readelfNotes(t *testing.T, path string) *readelfCore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "eu-readelf", "--notes", path).Output()
	if err != nil {
		t.Fatalf("eu-readelf --notes %s: %v", path, err)
	}
	r := &readelfCore{}
	note := ""
	var cur *readelfThread
	for _, line := range strings.Split(string(out), "\n") {
		if m := readelfNote.FindStringSubmatch(line); m != nil {
			note = m[2]
			if note == "PRSTATUS" {
				r.threads = append(r.threads, readelfThread{regs: map[string]uint64{}, fp: map[string]bool{}})
				cur = &r.threads[len(r.threads)-1]
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch note {
		case "PRSTATUS":
			if strings.HasPrefix(trimmed, "utime:") || strings.HasPrefix(trimmed, "sig") {
				continue
			}
			for _, f := range readelfField.FindAllStringSubmatch(line, -1) {
				v := parseReadelfInt(t, f[2])
				switch {
				case f[1] == "pid":
					cur.tid = int(v)
				case f[1] == "cursig" && len(r.threads) == 1:
					r.cursig = int(v)
				case !notRegisters[f[1]]:
					cur.regs[f[1]] = v
				}
			}
		case "FPREGSET":
			for _, f := range readelfField.FindAllStringSubmatch(line, -1) {
				cur.fp[f[1]] = true
			}
		case "PRPSINFO":
			if name, ok := strings.CutPrefix(trimmed, "fname: "); ok {
				r.fname, r.psargs, _ = strings.Cut(name, ", psargs: ")
				r.psargs = strings.TrimSpace(r.psargs)
				continue
			}
			for _, f := range readelfField.FindAllStringSubmatch(line, -1) {
				switch f[1] {
				case "pid":
					r.pid = int(parseReadelfInt(t, f[2]))
				case "uid":
					r.uid = int(parseReadelfInt(t, f[2]))
				}
			}
		case "SIGINFO":
			for _, f := range readelfField.FindAllStringSubmatch(line, -1) {
				if f[1] == "si_code" {
					v := int(int64(parseReadelfInt(t, f[2])))
					r.siCode = &v
				}
			}
			if a, ok := strings.CutPrefix(trimmed, "fault address: "); ok {
				v := parseReadelfInt(t, a)
				r.faultAddr = &v
			}
		case "AUXV":
			if m := readelfAuxv.FindStringSubmatch(line); m != nil {
				r.auxv = append(r.auxv, parseReadelfInt(t, m[2]))
			}
		case "FILE":
			if m := readelfFile.FindStringSubmatch(line); m != nil {
				r.files = append(r.files, fmt.Sprintf("%s-%s %s %s", m[1], m[2], m[3], m[4]))
			}
		}
	}
	if len(r.threads) == 0 {
		t.Fatalf("eu-readelf shows no NT_PRSTATUS in %s:\n%s", path, out)
	}
	return r
}

// parseReadelfInt reads a decimal (possibly negative: eu-readelf prints general
// registers signed) or 0x-hexadecimal number as the bits of a uint64.
func parseReadelfInt(t *testing.T, s string) uint64 {
	t.Helper()
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		v, err := strconv.ParseUint(h, 16, 64)
		if err != nil {
			t.Fatalf("eu-readelf value %q: %v", s, err)
		}
		return v
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("eu-readelf value %q: %v", s, err)
	}
	return uint64(v)
}

// TestOtherMachinesMatchGDB checks the same cores against gdb-multiarch where it reads
// them (not sparc64's, whose registers it cannot find, nor m68k's): every thread's id
// and pc, the signal, and every register gdb shows that coredig shows, floating-point
// ones included.
func TestOtherMachinesMatchGDB(t *testing.T) {
	gdb, err := exec.LookPath("gdb-multiarch")
	if err != nil {
		t.Fatalf("gdb-multiarch not found (scripts/deps.sh installs it): %v", err)
	}
	gdbAliases := map[string]string{"pc": "", "cr": "ccr", "lr": "link"}
	for _, m := range otherMachines {
		if !m.gdb {
			continue
		}
		t.Run(m.core, func(t *testing.T) {
			path := testcore.ElfutilsCore(t, m.core)
			c, err := core.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a := New(c, symbolize.Options{})
			defer a.Close()
			r := a.Summary()

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, gdb, "-nx", "-batch", "-ex", "set width 0", "-ex", "info threads",
				"-ex", "thread apply all info all-registers", "-c", path).CombinedOutput()
			if err != nil {
				t.Fatalf("gdb-multiarch: %v\n%s", err, out)
			}
			text := string(out)
			if !strings.Contains(text, "Program terminated with signal "+m.signal+",") {
				t.Errorf("gdb does not say %s:\n%s", m.signal, text)
			}
			regs := map[int]map[string]uint64{}
			var pcs []string
			cur := -1
			header := regexp.MustCompile(`^Thread \d+ \(LWP (\d+)\)`)
			threadLine := regexp.MustCompile(`^\*?\s+\d+\s+LWP (\d+)\s+(0x[0-9a-f]+) in`)
			reg := regexp.MustCompile(`^(\w+)\s+(0x[0-9a-f]+)\b|^(\w+)\s+\S+\s+\(raw (0x[0-9a-f]+)\)`)
			for _, line := range strings.Split(text, "\n") {
				if mm := threadLine.FindStringSubmatch(line); mm != nil {
					pcs = append(pcs, mm[1]+" "+mm[2])
					continue
				}
				if mm := header.FindStringSubmatch(line); mm != nil {
					cur, _ = strconv.Atoi(mm[1])
					regs[cur] = map[string]uint64{}
					continue
				}
				if cur < 0 {
					continue
				}
				if mm := reg.FindStringSubmatch(line); mm != nil {
					name, v := mm[1], mm[2]
					if name == "" {
						name, v = mm[3], mm[4]
					}
					if len(v) <= 18 { // not a vector register
						regs[cur][name] = parseReadelfInt(t, v)
					}
				}
			}
			var wantPCs []string
			for _, th := range r.Threads {
				wantPCs = append(wantPCs, fmt.Sprintf("%d %#x", th.TID, uint64(th.Frames[0].PC)))
			}
			if !samePCs(pcs, wantPCs) {
				t.Errorf("gdb's threads and pcs %q, coredig %q", pcs, wantPCs)
			}
			for _, th := range r.Threads {
				g := regs[th.TID]
				if g == nil {
					t.Errorf("gdb shows no registers of thread %d", th.TID)
					continue
				}
				compared := 0
				for name, v := range g {
					ours := name
					if c.Arch.Name == "s390" && gdbFullGPR.MatchString(name) {
						// gdb joins r0l with its upper half from NT_S390_HIGH_GPRS,
						// which is not read here; r0l is compared.
						continue
					}
					if alias, ok := gdbAliases[name]; ok {
						ours = alias
					} else if strings.HasSuffix(name, "l") && c.Arch.Reg(strings.TrimSuffix(name, "l")) >= 0 && c.Arch.Name == "s390" {
						ours = strings.TrimSuffix(name, "l") // gdb's r0l: the low half of r0
					}
					got, ok := th.Registers[ours]
					if !ok {
						continue
					}
					if uint64(got) != v {
						t.Errorf("thread %d: %s = %#x, gdb %s = %#x", th.TID, ours, uint64(got), name, v)
					}
					compared++
				}
				if min := len(th.Registers) * 2 / 3; compared < min {
					t.Errorf("thread %d: %d registers compared with gdb, want at least %d of %d", th.TID, compared, min, len(th.Registers))
				}
			}
		})
	}
}

var gdbFullGPR = regexp.MustCompile(`^r\d+$`)

// samePCs compares "tid pc" lists whatever their order (gdb lists threads by its own
// numbering); pcs are compared as numbers.
func samePCs(gdb, ours []string) bool {
	norm := func(l []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range l {
			tid, pc, _ := strings.Cut(s, " ")
			v, _ := strconv.ParseUint(strings.TrimPrefix(pc, "0x"), 16, 64)
			m[tid+" "+strconv.FormatUint(v, 16)] = true
		}
		return m
	}
	a, b := norm(gdb), norm(ours)
	if len(a) != len(b) || len(a) != len(gdb) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
