package diagnose

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/testcore"
)

func TestMain(m *testing.M) { os.Exit(testcore.Main(m)) }

// This file turns a real kernel core (made by internal/testcore) into Facts the way the
// lead's wiring will, but with test-only stand-ins for the symbolizer and the unwinder:
// ELF symbol tables of the mapped files, and a stack scan that keeps words which are
// return addresses (the instruction before them is a call).

// fileBacking supplies not-dumped file-backed bytes from the files on disk.
type fileBacking struct {
	files   []core.FileMapping
	sysroot string
}

func (b fileBacking) path(name string) string {
	if b.sysroot != "" {
		if p := filepath.Join(b.sysroot, name); fileExists(p) {
			return p
		}
	}
	return name
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func (b fileBacking) ReadBacked(p []byte, addr uint64) (int, error) {
	for _, m := range b.files {
		if addr >= m.Start && addr < m.End {
			f, err := os.Open(b.path(m.Name))
			if err != nil {
				return 0, err
			}
			defer f.Close()
			n := min(uint64(len(p)), m.End-addr)
			return f.ReadAt(p[:n], int64(m.FileOff+addr-m.Start))
		}
	}
	return 0, os.ErrNotExist
}

type sym struct {
	addr, size uint64
	name       string
}

// symtab is every function symbol of the mapped files, relocated.
type symtab struct {
	syms []sym // sorted by addr
	vars map[string]uint64
}

func loadSymbols(t *testing.T, files []core.FileMapping, b fileBacking) *symtab {
	st := &symtab{vars: map[string]uint64{}}
	first := map[string]core.FileMapping{}
	for _, m := range files {
		if f, ok := first[m.Name]; !ok || m.Start < f.Start {
			first[m.Name] = m
		}
	}
	for name, m := range first {
		ef, err := elf.Open(b.path(name))
		if err != nil {
			continue
		}
		bias := uint64(0)
		found := false
		for _, p := range ef.Progs {
			if p.Type == elf.PT_LOAD && m.FileOff >= p.Off && m.FileOff < p.Off+p.Filesz {
				bias = m.Start - (p.Vaddr + (m.FileOff - p.Off))
				found = true
				break
			}
		}
		if !found {
			ef.Close()
			continue
		}
		all, _ := ef.Symbols()
		dyn, _ := ef.DynamicSymbols()
		for _, s := range append(all, dyn...) {
			if s.Value == 0 || s.Section == elf.SHN_UNDEF {
				continue
			}
			switch elf.ST_TYPE(s.Info) {
			case elf.STT_FUNC, elf.STT_GNU_IFUNC:
				n := s.Name
				if i := strings.IndexByte(n, '@'); i > 0 {
					n = n[:i]
				}
				st.syms = append(st.syms, sym{s.Value + bias, s.Size, n})
			case elf.STT_OBJECT:
				st.vars[s.Name] = s.Value + bias
			}
		}
		ef.Close()
	}
	sort.Slice(st.syms, func(i, j int) bool { return st.syms[i].addr < st.syms[j].addr })
	return st
}

func (st *symtab) lookup(addr uint64) (sym, bool) {
	i := sort.Search(len(st.syms), func(i int) bool { return st.syms[i].addr > addr }) - 1
	for ; i >= 0 && i >= len(st.syms)-1-len(st.syms); i-- {
		s := st.syms[i]
		if addr >= s.addr && (addr < s.addr+s.size || s.size == 0 && addr-s.addr < 0x1000) {
			return s, true
		}
		if s.addr+0x100000 < addr {
			break
		}
	}
	return sym{}, false
}

// fixture is a real core turned into Facts.
type fixture struct {
	tc    *testcore.Core
	c     *core.Core
	facts *Facts
	syms  *symtab
}

var loadMu sync.Mutex

func load(t *testing.T, spec testcore.Spec) *fixture {
	t.Helper()
	tc := testcore.Make(t, spec)
	return loadPath(t, tc.Path, tc.Exe, tc.Sysroot, tc)
}

func loadPath(t *testing.T, path, exe, sysroot string, tc *testcore.Core) *fixture {
	t.Helper()
	loadMu.Lock()
	defer loadMu.Unlock()
	c, err := core.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	files := c.Files
	if len(files) == 0 {
		files = exeMappings(t, c, exe) // qemu-user cores have no NT_FILE
	}
	back := fileBacking{files: files, sysroot: sysroot}
	c.SetBacking(back)
	if len(c.Threads) == 0 {
		t.Fatalf("%s: no threads", path)
	}
	a := c.Arch
	th := c.Threads[0]
	regs := map[string]uint64{}
	for i, n := range a.RegNames {
		if i < len(th.Regs) {
			regs[n] = th.Regs[i]
		}
	}
	si := c.SigInfo
	if si == nil {
		// qemu-user writes no NT_SIGINFO: only pr_cursig is known.
		si = &core.SigInfo{Signo: th.Signal}
	}
	f := &Facts{NoSigInfo: c.SigInfo == nil, Arch: a, Signo: si.Signo, Code: si.Code, Addr: si.Addr, HasAddr: si.HasAddr,
		SenderPID: si.SenderPID, SenderUID: int(si.SenderUID), HasSender: si.HasSender,
		PID: th.PID, TID: th.TID, Regs: regs, Mem: c}
	if c.PsInfo != nil {
		f.PID = c.PsInfo.PID
	}
	for _, s := range c.Segments {
		m := Mapping{Start: s.Vaddr, End: s.End(), Perms: s.Perms()}
		for _, fm := range files {
			if fm.Start <= s.Vaddr && s.Vaddr < fm.End {
				m.Name = fm.Name
			}
		}
		for _, t := range c.Threads {
			if sp := t.SP(a); sp >= m.Start && sp < m.End && m.Name == "" {
				m.StackOf = t.TID
			}
		}
		f.Mappings = append(f.Mappings, m)
	}
	for _, fm := range files {
		f.Modules = append(f.Modules, fm.Name)
	}
	st := loadSymbols(t, files, back)
	f.Symbolize = func(addr uint64) string {
		if s, ok := st.lookup(addr); ok {
			if addr == s.addr {
				return s.name
			}
			return s.name + "+0x" + strings.TrimPrefix(hex(addr-s.addr), "0x")
		}
		return ""
	}
	pc := th.PC(a)
	code := make([]byte, 16)
	if n, err := c.ReadAt(code, pc); n >= 4 {
		in, derr := disasm.Decode(a, code[:n], pc)
		if derr == nil {
			f.Inst = &in
		} else {
			f.InstErr = derr.Error()
		}
	} else {
		f.InstErr = err.Error()
	}
	f.Functions = scanStack(c, a, st, pc, th.SP(a), regs)
	return &fixture{tc: tc, c: c, facts: f, syms: st}
}

// exeMappings places the executable's PT_LOAD segments by its entry point (AT_ENTRY).
func exeMappings(t *testing.T, c *core.Core, exe string) []core.FileMapping {
	entry, ok := c.AuxvValue(9) // AT_ENTRY
	if !ok {
		t.Fatalf("%s: no NT_FILE and no AT_ENTRY", c.Path)
	}
	ef, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	bias := entry - ef.Entry
	var out []core.FileMapping
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		start := (bias + p.Vaddr) &^ 0xfff
		out = append(out, core.FileMapping{Start: start, End: (bias + p.Vaddr + p.Memsz + 0xfff) &^ 0xfff,
			FileOff: p.Off &^ 0xfff, Name: exe})
	}
	return out
}

// scanStack lists the function at pc, then (aarch64) at the link register, then every
// stack word that is a return address into a known function.
func scanStack(c *core.Core, a *arch.Arch, st *symtab, pc, sp uint64, regs map[string]uint64) []string {
	var out []string
	if s, ok := st.lookup(pc); ok {
		out = append(out, s.name)
	}
	isRet := func(w uint64) bool {
		if a == arch.ARM64 {
			var b [4]byte
			if n, _ := c.ReadAt(b[:], w-4); n != 4 {
				return false
			}
			insn := binary.LittleEndian.Uint32(b[:])
			return insn>>26 == 0x25 || insn&0xfffffc1f == 0xd63f0000
		}
		var b [7]byte
		if n, _ := c.ReadAt(b[:], w-7); n != 7 {
			return false
		}
		return b[2] == 0xe8 || b[5] == 0xff && b[6]&0x38 == 0x10 || b[4] == 0xff && b[5]&0x38 == 0x10 || b[1] == 0xff && b[2]&0x38 == 0x10
	}
	if a == arch.ARM64 {
		if s, ok := st.lookup(regs["x30"] - 1); ok && isRet(regs["x30"]) {
			out = append(out, s.name)
		}
	}
	seg := c.SegmentFor(sp)
	if seg == nil || seg.Filesz == 0 { // sp ran below its stack (overflow): scan the stack above
		seg = nil
		for i := range c.Segments {
			if s := &c.Segments[i]; s.Vaddr > sp && s.Vaddr-sp < 1<<20 && s.Filesz > 0 {
				seg = s
				break
			}
		}
	}
	if seg == nil {
		return out
	}
	buf := make([]byte, 64*1024)
	for addr := max(sp&^7, seg.Vaddr); addr < seg.End() && len(out) < 200000; {
		n, _ := c.ReadAt(buf, addr)
		if n < 8 {
			break
		}
		for i := 0; i+8 <= n; i += 8 {
			w := binary.LittleEndian.Uint64(buf[i:])
			// Look up w-1: a call to a noreturn function is its function's last instruction.
			if s, ok := st.lookup(w - 1); ok && isRet(w) {
				out = append(out, s.name)
			}
		}
		addr += uint64(n &^ 7)
	}
	return out
}

func mustEv(t *testing.T, d Diagnosis, key, want string) {
	t.Helper()
	if got, ok := d.Get(key); !ok || got != want {
		t.Errorf("evidence %s = %q (present %v), want %q\nsummary: %s\nevidence: %v", key, got, ok, want, d.Summary, d.Evidence)
	}
}

func mustKind(t *testing.T, d Diagnosis, kind string, summary ...string) {
	t.Helper()
	if d.Kind != kind {
		t.Errorf("kind %q, want %q; summary %q; evidence %v", d.Kind, kind, d.Summary, d.Evidence)
	}
	for _, s := range summary {
		if !strings.Contains(d.Summary, s) {
			t.Errorf("summary %q lacks %q", d.Summary, s)
		}
	}
}

func TestRealDeref(t *testing.T) {
	fx := load(t, testcore.DerefPIE)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindNullPointer, "NULL pointer dereference in deref", "rax+0x60; rax = 0x0", "offset 0x60")
	mustEv(t, d, "null_register", "rax")
	mustEv(t, d, "field_offset", "0x60")
	mustEv(t, d, "access", "reads 8 bytes at rax+0x60")
	mustEv(t, d, "instruction", "mov 0x60(%rax),%rax")
	mustEv(t, d, "function", "deref")
}

func TestRealDerefAArch64(t *testing.T) {
	fx := load(t, testcore.DerefAArch64)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindNullPointer, "NULL pointer dereference in deref", "offset 0x60")
	mustEv(t, d, "fault_address", "0x60")
	mustEv(t, d, "field_offset", "0x60")
	// qemu's core has no NT_SIGINFO: the fault address is the operand's, which cannot
	// confirm the operand.
	mustEv(t, d, "fault_address_source", "computed from the instruction (no NT_SIGINFO)")
	if v, ok := d.Get("matches_fault_address"); ok {
		t.Errorf("matches_fault_address = %q for a fault address computed from the same operand", v)
	}
}

func TestRealRecurse(t *testing.T) {
	fx := load(t, testcore.Recurse)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindStackOverflow, "Stack overflow", "recurse recurses")
	mustEv(t, d, "recursion", "recurse")
	if n, _ := d.Get("recursion_depth"); len(n) < 4 {
		t.Errorf("recursion depth %q: want thousands of frames", n)
	}
}

func TestRealRodata(t *testing.T) {
	fx := load(t, testcore.Rodata)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindWriteReadOnly, "Write to read-only memory in shout", "writes 1 byte at rax", "read-only data (.rodata or RELRO) of "+fx.tc.Exe)

	// With a section lookup (the symbolizer's job), the section is named.
	ef, err := elf.Open(fx.tc.Exe)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	var base uint64
	for _, m := range fx.facts.Mappings {
		if m.Name == fx.tc.Exe && (base == 0 || m.Start < base) {
			base = m.Start // PIE: the first mapping is at file offset 0, vaddr 0
		}
	}
	fx.facts.Section = func(addr uint64) string {
		for _, s := range ef.Sections {
			if s.Flags&elf.SHF_ALLOC != 0 && addr-base >= s.Addr && addr-base < s.Addr+s.Size {
				return s.Name
			}
		}
		return ""
	}
	d = Diagnose(fx.facts, nil)
	mustKind(t, d, KindWriteReadOnly, "in the section .rodata of "+fx.tc.Exe)
	mustEv(t, d, "section", ".rodata")
}

func TestRealDivZero(t *testing.T) {
	fx := load(t, testcore.DivZero)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindDivideByZero, "Integer division by zero in divide", "which is 0")
	mustEv(t, d, "divisor_value", "0x0")
}

func TestRealTrap(t *testing.T) {
	fx := load(t, testcore.Trap)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindTrap, "Trap instruction ud2 in do_trap", "__builtin_trap")
	mustEv(t, d, "trap_instruction", "ud2")
}

func TestRealWildCall(t *testing.T) {
	fx := load(t, testcore.WildCall)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindExecNonExecutable, "Call through a NULL function pointer", "call_it+0x")
	if c, _ := d.Get("caller"); !strings.HasPrefix(c, "call_it+0x") {
		t.Errorf("caller %q", c)
	}
}

func TestRealWildCallAArch64(t *testing.T) {
	fx := load(t, testcore.WildCallAArch64)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindExecNonExecutable, "Call through a NULL function pointer", "call_it+0x")
}

func abortFacts(t *testing.T, fx *fixture) {
	addr, ok := fx.syms.vars["__abort_msg"]
	if !ok {
		t.Fatalf("libc's __abort_msg is not in its dynamic symbol table")
	}
	msg, err := AbortMessage(fx.c, addr)
	if err != nil {
		t.Fatalf("AbortMessage: %v", err)
	}
	fx.facts.AbortMessage = msg
}

func TestRealAssert(t *testing.T) {
	fx := load(t, testcore.Assert)
	abortFacts(t, fx)
	d := Diagnose(fx.facts, nil)
	line := fx.tc.Line(t, "assert")
	mustKind(t, d, KindAbort, "Assertion `x == 42' failed in check_value at ")
	mustEv(t, d, "cause", "assertion")
	mustEv(t, d, "assert_line", itoa(line))
	mustEv(t, d, "assert_function", "check_value")
	mustEv(t, d, "assert_file", fx.tc.Source)
}

func TestRealHeapCorruption(t *testing.T) {
	fx := load(t, testcore.HeapCorrupt)
	abortFacts(t, fx)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindAbort, "glibc detected heap corruption: \"free(): double free detected in tcache 2\"", "called from release")
	mustEv(t, d, "heap_check", "free(): double free detected in tcache 2")
	if len(d.Rules) != 1 || d.Rules[0].ID != "glibc-heap-corruption" {
		t.Errorf("rules %+v", d.Rules)
	}
}

func TestRealPlainAbort(t *testing.T) {
	fx := load(t, testcore.Abort)
	if _, err := AbortMessage(fx.c, fx.syms.vars["__abort_msg"]); err != ErrNoAbortMessage {
		t.Errorf("abort() without a message: %v", err)
	}
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindAbort, "abort() was called from do_abort, with no message recorded.")
	mustEv(t, d, "caller", "do_abort")
}

func TestRealThrow(t *testing.T) {
	fx := load(t, testcore.Throw)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindAbort, "std::terminate() called abort()")
	mustEv(t, d, "cause", "uncaught_exception")

	ex, ok := FindException(fx.c, stackWords(t, fx))
	if !ok || ex.Type != "std::runtime_error" || ex.MangledType != "St13runtime_error" {
		t.Fatalf("FindException = %+v, %v", ex, ok)
	}
	fx.facts.ExceptionType = ex.Type
	d = Diagnose(fx.facts, nil)
	mustKind(t, d, KindAbort, "Uncaught C++ exception of type std::runtime_error")
	mustEv(t, d, "exception_type", "std::runtime_error")
}

// stackWords returns the words from the crashing thread's sp to the end of its segment.
func stackWords(t *testing.T, fx *fixture) []uint64 {
	sp := fx.facts.Regs[fx.facts.Arch.RegNames[fx.facts.Arch.SP]]
	seg := fx.c.SegmentFor(sp)
	if seg == nil {
		t.Fatalf("sp %#x not in the core", sp)
	}
	buf := make([]byte, min(seg.End()-sp, 1<<19))
	n, _ := fx.c.ReadAt(buf, sp)
	var out []uint64
	for i := 0; i+8 <= n; i += 8 {
		out = append(out, binary.LittleEndian.Uint64(buf[i:]))
	}
	return out
}

func TestRealKilled(t *testing.T) {
	fx := load(t, testcore.KillSegv)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindKilledBySignal, "Killed by SIGSEGV sent with kill()", "pid "+itoa(os.Getpid()))
	mustEv(t, d, "sender_pid", itoa(os.Getpid()))
	fx = load(t, testcore.KillQuit)
	mustKind(t, Diagnose(fx.facts, nil), KindKilledBySignal, "Killed by SIGQUIT")
}

func TestRealSigHandler(t *testing.T) {
	fx := load(t, testcore.SigHandler)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindNullPointer, "NULL pointer dereference in on_usr1", "writes")
}

func TestRealGo(t *testing.T) {
	fx := load(t, testcore.GoCrash)
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindAbort, "Go runtime")
	mustEv(t, d, "cause", "go_runtime")
}

func TestRealPythonFinalize(t *testing.T) {
	fx := load(t, testcore.FinalizePy)
	f := fx.facts
	fin := contains(f.Functions, "Py_FinalizeEx") // stand-in for internal/python's finalizing flag
	f.PythonFinalizing = &fin
	d := Diagnose(f, nil)
	mustKind(t, d, KindNullPointer, "NULL pointer dereference")
	mustEv(t, d, "fault_address", "0x60")
	if !fin {
		t.Errorf("Py_FinalizeEx not found on the scanned stack %v", f.Functions[:min(len(f.Functions), 30)])
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	return strings.TrimPrefix(strings.TrimPrefix(hexDec(n), "+"), "")
}

func hexDec(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

func TestRealIncident(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "incident.so")
	if out, err := exec.Command("gcc", "-O0", "-g", "-shared", "-fPIC", "-o", lib, testcore.SourcePath(t, "incident.c")).CombinedOutput(); err != nil {
		t.Fatalf("building the incident library: %v\n%s", err, out)
	}
	spec := testcore.Spec{Name: "incident-faulthandler-py3.12.1", Source: "incident.py",
		Python: testcore.PyenvPython("3.12.1"), PyFlags: []string{"-X", "faulthandler"},
		Env: []string{"COREDIG_INCIDENT_LIB=" + lib}}
	fx := load(t, spec)
	f := fx.facts
	if f.Signo != SIGSEGV || f.Code != SI_TKILL || f.SenderPID != f.PID {
		t.Fatalf("core signal %d code %d sender %d pid %d: want SIGSEGV re-raised by the process", f.Signo, f.Code, f.SenderPID, f.PID)
	}
	orig := findSigframe(t, fx)
	fin := contains(orig.Functions, "Py_FinalizeEx") // stand-in for internal/python's flag
	f.PythonFinalizing = &fin
	fh := true // stand-in for internal/python reading _PyRuntime's faulthandler state (-X faulthandler)
	f.PythonFaulthandler = &fh
	f.Original = orig
	d := Diagnose(f, nil)
	mustKind(t, d, KindNullPointer, "NULL pointer dereference in PyOS_setsig", "reads 8 bytes at rax+0x60; rax = 0x0",
		"offset 0x60", "faulthandler then re-raised it with SIGSEGV")
	mustEv(t, d, "reraised_by", "faulthandler")
	mustEv(t, d, "fault_address", "0x60")
	mustEv(t, d, "null_register", "rax")
	mustEv(t, d, "function", "PyOS_setsig")
	var ids []string
	for _, r := range d.Rules {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "python-signal-handler-during-finalization,python-faulthandler-reraise" {
		t.Errorf("rules %v", ids)
	}
}

// findSigframe finds the kernel's x86_64 rt_sigframe on the crashing thread's stack (the
// faulthandler alternate stack) the way internal/unwind will. The layout is
// arch/x86/include/asm/sigframe.h: pretcode, struct ucontext {uc_flags, uc_link,
// uc_stack (24), uc_mcontext (struct sigcontext, 256), uc_sigmask}, siginfo. faulthandler
// installs a plain sa_handler (no SA_SIGINFO), so the kernel leaves the siginfo unwritten:
// the fault comes from the sigcontext instead (cr2, and trapno/err: #PF = 14, err bit 0 set
// for a protection fault). The frame is recognised by the user cs/ss selectors (0x33,
// 0x2b) at mcontext+144 and a rip inside a mapping.
func findSigframe(t *testing.T, fx *fixture) *Facts {
	t.Helper()
	c := fx.c
	sp := fx.facts.Regs["rsp"]
	seg := c.SegmentFor(sp)
	if seg == nil {
		t.Fatalf("sp %#x is not in the core", sp)
	}
	buf := make([]byte, min(seg.End()-sp, 1<<20))
	n, _ := c.ReadAt(buf, sp)
	buf = buf[:n]
	le := binary.LittleEndian
	for mc := 0; mc+256 <= len(buf); mc += 8 {
		sel := le.Uint64(buf[mc+144:])
		if sel&0xffff != 0x33 || sel>>48 != 0x2b || le.Uint64(buf[mc+160:]) != 14 {
			continue
		}
		regs := map[string]uint64{}
		for i, name := range []string{"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi", "rsi", "rbp", "rbx", "rdx", "rax", "rcx", "rsp", "rip"} {
			regs[name] = le.Uint64(buf[mc+8*i:])
		}
		if mappingAt(fx.facts.Mappings, regs["rip"]) == nil {
			continue
		}
		regs["fs_base"] = fx.facts.Regs["fs_base"]
		code := SEGV_MAPERR
		if le.Uint64(buf[mc+152:])&1 != 0 {
			code = SEGV_ACCERR
		}
		o := &Facts{Signo: SIGSEGV, Code: code, Addr: le.Uint64(buf[mc+176:]), HasAddr: true, Regs: regs}
		text := make([]byte, 16)
		if k, _ := c.ReadAt(text, regs["rip"]); k > 0 {
			if in, err := disasm.Decode(fx.facts.Arch, text[:k], regs["rip"]); err == nil {
				o.Inst = &in
			}
		}
		o.Functions = scanStack(c, fx.facts.Arch, fx.syms, regs["rip"], regs["rsp"], regs)
		return o
	}
	t.Fatalf("no rt_sigframe of a page fault on the stack at %#x", sp)
	return nil
}

func TestRealPyFatalError(t *testing.T) {
	fx := load(t, testcore.Spec{Name: "pyfatal-py3.12.1", Source: "finalize_crash.py", Python: testcore.PyenvPython("3.12.1"),
		PyFlags: []string{"-c", "import ctypes; ctypes.pythonapi.Py_FatalError(b'coredig test fatal')"}})
	d := Diagnose(fx.facts, nil)
	mustKind(t, d, KindAbort, "CPython aborted with Py_FatalError")
	mustEv(t, d, "cause", "python_fatal_error")
}
