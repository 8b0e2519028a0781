// Package analysis joins the lower layers into one report.Report: the core (core), its
// modules and symbols (symbolize, dwarfsym), the unwinder (unwind), each frame's
// variables (dwarfvar), the runtimes (python, goruntime), the faulting access in source
// terms (origin) and the explanation (diagnose, disasm). It owns the decisions that need
// several of them (which thread crashed, whether the sender of a signal is the process
// itself, which signal frame holds the fault a handler re-raised, which Python frames a
// native eval frame ran, what the truncation cost) and nothing about output formats or
// the command line. It holds no architecture or runtime knowledge of its own: those live
// in arch and in the runtime packages.
package analysis

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/goruntime"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/signature"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/unwind"
)

// Analysis is an opened core with its modules.
type Analysis struct {
	Core    *core.Core
	Modules *symbolize.Table

	pyOnce sync.Once
	py     *report.Python
	// pyStacks are the localsplus addresses of each thread's Python frames, innermost
	// first, by tid (where a `with` block keeps its lock's __exit__).
	pyStacks map[int][]uint64
	// pyDropRequest is the GIL drop request, when the version has one.
	pyDropRequest *bool

	// crashWalk keeps the crashing thread's unwound frames from Backtrace, so the search
	// for a signal frame behind a re-raise does not walk the stack again.
	crashWalk    []*unwind.Frame
	crashWalkErr error

	// goRT is the Go runtime's layout, read once (goRTErr when there is none).
	goRT    *goruntime.Runtime
	goRTErr error

	// frameMemo keeps symbolized pcs (SourceFrames).
	frameMemo map[frameKey][]report.Frame

	// varReaders are the modules' DWARF variable readers, by module path.
	varReaders map[string]*varReaderEntry

	// noLocals skips the crashing thread's variables (FullOptions.CrashedOnly).
	noLocals bool
}

// New resolves the modules of c.
func New(c *core.Core, opts symbolize.Options) *Analysis {
	t := symbolize.Load(c, opts)
	c.SetBacking(backing{t})
	return &Analysis{Core: c, Modules: t}
}

// Close releases files.
func (a *Analysis) Close() { a.Modules.Close() }

// CrashedThread returns the thread that received the fatal signal: the kernel writes it
// first (linux/fs/binfmt_elf.c fill_note_info puts the dumping thread at the head).
func (a *Analysis) CrashedThread() *core.Thread {
	if len(a.Core.Threads) == 0 {
		return nil
	}
	return a.Core.Threads[0]
}

// Summary builds the notes-only report: everything that survives truncation.
func (a *Analysis) Summary() *report.Report {
	c := a.Core
	r := &report.Report{Schema: report.SchemaVersion, Warnings: []string{}}
	r.Process = a.process()
	r.Core = report.CoreInfo{Path: c.Path, Size: c.Size, ExpectedSize: c.ExpectedSize, Truncated: c.Truncated()}
	r.Signal = a.signal()
	crashed := a.CrashedThread()
	if crashed != nil {
		tid := crashed.TID
		r.CrashedTID = &tid
	}
	for _, t := range c.Threads {
		th := report.Thread{TID: t.TID, Crashed: t == crashed, Signal: t.Signal, Registers: a.registers(t)}
		th.WideRegisters, th.WideOrder = wideRegisters(t)
		th.Frames = []report.Frame{a.Frame(0, t.PC(c.Arch), false, "context")}
		r.Threads = append(r.Threads, th)
	}
	r.Modules = a.modules()
	r.Mappings = a.mappings()
	r.Auxv = a.auxv()
	r.Notes = &report.NoteStats{Total: c.Notes.Total, ByType: c.Notes.ByType, Unknown: c.Notes.Unknown, FPRegs: c.Notes.FPRegs, XState: c.Notes.XState}
	if c.Truncated() {
		r.Coverage = a.coverage()
		r.Core.LostSegments = a.lostSegments()
		r.Warnings = append(r.Warnings, a.truncationWarning(r.Core.LostSegments))
	}
	if c.Arch.NotesOnly != "" {
		r.Warnings = append(r.Warnings, notesOnlyWarning(c.Arch.Name, c.Arch.NotesOnly))
	}
	r.Warnings = append(r.Warnings, c.Warnings...)
	r.Warnings = append(r.Warnings, a.Modules.Warnings...)
	return r
}

// notesOnlyWarning says what a report of an architecture read from its notes only
// leaves out.
func notesOnlyWarning(name, why string) string {
	return fmt.Sprintf("%s: this %s core is read from its notes only (process, signal, threads and their registers, auxiliary vector, mapped files); each thread shows its pc, not its callers, and the crash is not explained from the core's memory (no disassembly, no Python, Go or hang analysis)", why, name)
}

// Full builds the whole report: the summary plus what needs the core's memory.
func (a *Analysis) Full(opts FullOptions) *report.Report {
	r := a.Summary()
	if a.Core.Arch.NotesOnly != "" {
		// No unwinder: each thread's pc and why it stops there, and nothing that reads
		// memory to explain the crash.
		a.Backtraces(r, opts.MaxDepth)
		r.Signature = signature.Of(r, 0)
		return r
	}
	if opts.CrashedOnly {
		a.noLocals = true
		a.backtraceCrashed(r, opts.MaxDepth)
	} else {
		a.Backtraces(r, opts.MaxDepth)
	}
	r.Python = a.Python()
	MergePython(r)
	ShutdownStage(r)
	r.Groups = report.GroupThreads(r.Threads)
	if !opts.CrashedOnly {
		r.Go = a.GoView(opts.MaxDepth)
	}
	hang := a.Hangs(r)
	a.Diagnose(r, opts.Diagnose)
	snapshot := r.Diagnosis != nil && r.Diagnosis.Kind == "snapshot"
	caught := a.goKilledBy(r)
	explainHang(r, hang, snapshot, caught, goCheckdead(r))
	goKilled(r, caught)
	if snapshot {
		// Nothing crashed: no thread is the crashing one.
		r.CrashedTID = nil
		for i := range r.Threads {
			r.Threads[i].Crashed = false
		}
		r.Groups = report.GroupThreads(r.Threads)
	}
	r.Signature = signature.Of(r, 0)
	return r
}

// FullOptions control the full report.
type FullOptions struct {
	MaxDepth int // frames per thread; 0 means the unwinder's default
	Diagnose DiagnoseOptions
	// CrashedOnly unwinds only the crashing thread (the others keep their context frame)
	// and reads neither its variables nor the goroutines: what a signature needs, for
	// triage of many cores.
	CrashedOnly bool
}

// Frame symbolizes one pc from symbol tables only (no DWARF): the notes-only view.
// returnAddr selects lookup at pc-1 (the call instruction).
func (a *Analysis) Frame(index int, pc uint64, returnAddr bool, foundBy string) report.Frame {
	f := report.Frame{Index: index, PC: report.Hex(pc), FoundBy: foundBy}
	s := a.Modules.Lookup(lookupPC(pc, returnAddr))
	if s.Module != nil {
		f.Module = s.Module.Name
		f.ModuleOffset = report.HexPtr(moduleOffset(s.Module, pc))
		f.Unverified = s.Module.Unverified
	}
	if s.Function != "" {
		f.Function = s.Function
		f.FunctionOffset = report.HexPtr(pc - s.FuncStart)
	}
	return f
}

// moduleOffset is pc's link-time address in m: pc minus the load bias. Where the bias is
// unknown (no ELF header in the core, no file, no link_map entry) it is the offset from
// the module's first mapping, which for a shared library or a PIE (linked at 0) is the
// link-time address too, and in every case the same in every run, where the absolute pc
// changes with ASLR.
func moduleOffset(m *symbolize.Module, pc uint64) uint64 {
	if !m.BiasKnown {
		return pc - m.Base
	}
	return pc - m.Bias
}

// SourceFrames symbolizes one pc with DWARF where available: the inlined calls at pc
// become frames of their own (Inlined, same pc) before the concrete function's frame,
// as gdb shows them. Without DWARF it is the single symbol-table frame.
func (a *Analysis) SourceFrames(index int, pc uint64, returnAddr bool, foundBy string) []report.Frame {
	// The same pcs recur across threads and goroutines (thousands parked in one
	// function): symbolize each once.
	key := frameKey{pc, returnAddr}
	if cached, ok := a.frameMemo[key]; ok {
		out := make([]report.Frame, len(cached))
		for i, f := range cached {
			f.Index, f.FoundBy = index+i, foundBy
			out[i] = f
		}
		return out
	}
	out := a.sourceFrames(index, pc, returnAddr, foundBy)
	if a.frameMemo == nil {
		a.frameMemo = map[frameKey][]report.Frame{}
	}
	if len(a.frameMemo) < maxFrameMemo {
		a.frameMemo[key] = append([]report.Frame(nil), out...) // callers may change theirs
	}
	return out
}

// frameKey identifies a symbolized pc.
type frameKey struct {
	pc         uint64
	returnAddr bool
}

// maxFrameMemo bounds the memo of symbolized pcs.
const maxFrameMemo = 1 << 16

func (a *Analysis) sourceFrames(index int, pc uint64, returnAddr bool, foundBy string) []report.Frame {
	base := a.Frame(index, pc, returnAddr, foundBy)
	src, err := a.Modules.Source(lookupPC(pc, returnAddr))
	if len(src) == 0 {
		if err != nil && base.Function == "" {
			base.SymbolError = err.Error() // not where the unwind stopped
		}
		return []report.Frame{base}
	}
	out := make([]report.Frame, 0, len(src))
	for i, sf := range src {
		f := base
		f.Index = index + i
		f.File, f.Line, f.Inlined = sf.File, sf.Line, sf.Inlined
		if sf.Inlined {
			f.Function, f.FunctionOffset = sf.Function, nil
		} else {
			if sf.Function != "" {
				f.Function = sf.Function
			}
			if sf.Entry != 0 && sf.Entry <= pc {
				f.FunctionOffset = report.HexPtr(pc - sf.Entry)
			}
		}
		out = append(out, f)
	}
	return out
}

func lookupPC(pc uint64, returnAddr bool) uint64 {
	if returnAddr && pc > 0 {
		return pc - 1
	}
	return pc
}

func (a *Analysis) process() report.Process {
	c := a.Core
	p := report.Process{Arch: c.Arch.Name}
	if why := c.Arch.NotesOnly; why != "" {
		order := "little-endian"
		if c.Arch.ByteOrder == binary.BigEndian {
			order = "big-endian"
		}
		p.ArchLimit = &report.ArchLimit{Support: "notes_only", Reason: why, ByteOrder: order}
	}
	if ps := c.PsInfo; ps != nil {
		pid, ppid, uid, gid := ps.PID, ps.PPID, ps.UID, ps.GID
		p.PID, p.PPID, p.UID, p.GID = &pid, &ppid, &uid, &gid
		p.Command = ps.FName
		if ps.Args != "" {
			p.Args = strings.Fields(ps.Args)
			p.ArgsTruncated = len(ps.Args) >= 79
			p.ArgsSource = "psinfo"
		}
		p.State = string(rune(ps.SName))
	} else if len(c.Threads) > 0 {
		pid := c.Threads[0].TID
		p.PID = &pid
	}
	if args, err := c.Argv(); err == nil && argsAgree(args, c.PsInfo) {
		p.Args, p.ArgsTruncated, p.ArgsSource = args, false, "stack"
	}
	if e := a.Modules.Executable(); e != nil && e.Name != "" {
		p.Executable = e.Name
	} else if v, ok := c.AuxvValue(core.AT_EXECFN); ok {
		if s, _, err := c.ReadCString(v, 4096); err == nil {
			p.Executable = s
		}
	}
	return p
}

// argsAgree reports whether the argument vector read from the stack is the one the
// kernel summarized in pr_psargs (the first 80 bytes of the argument block, NULs as
// spaces). They differ when the program rewrote its argument block in place
// (setproctitle); then the kernel's view is the one kept.
func argsAgree(args []string, ps *core.PsInfo) bool {
	if ps == nil || ps.Args == "" {
		return len(args) > 0
	}
	want := strings.TrimRight(ps.Args, " ")
	got := strings.Join(args, " ")
	return strings.HasPrefix(got, want)
}

func (a *Analysis) signal() *report.Signal {
	c := a.Core
	si := c.SigInfo
	if si == nil {
		// No NT_SIGINFO (older kernels, qemu-user): the signal number is in pr_cursig.
		t := a.CrashedThread()
		if t == nil || t.Signal == 0 {
			return nil
		}
		return a.archSignal(&report.Signal{Number: t.Signal, Name: core.SignalName(t.Signal), Meaning: core.SignalMeaning(t.Signal), Code: 0, Source: "NT_PRSTATUS"})
	}
	s := a.archSignal(newSignal(si.Signo, si.Code, si.HasAddr, si.Addr, "NT_SIGINFO"))
	s.Errno = si.Errno
	if si.HasSender {
		pid, uid := si.SenderPID, si.SenderUID
		s.SenderPID, s.SenderUID = &pid, &uid
		self := a.isOwnPID(pid)
		s.SenderIsSelf = &self
	}
	return s
}

// archSignal renames a signal the core's architecture numbers differently from
// asm-generic (SPARC), whose name, meaning and si_code names newSignal gave by the
// generic number.
func (a *Analysis) archSignal(s *report.Signal) *report.Signal {
	ar := a.Core.Arch
	g := core.GenericSigno(ar, s.Number)
	if g == s.Number {
		return s
	}
	s.Name, s.Meaning = core.ArchSignalName(ar, s.Number), core.SignalMeaning(g)
	if s.Source != "NT_PRSTATUS" {
		s.CodeName, s.CodeMeaning = core.CodeName(g, s.Code), core.CodeMeaning(g, s.Code)
	}
	return s
}

// newSignal describes signal signo with si_code code, and the address when hasAddr, as
// found in source.
func newSignal(signo, code int, hasAddr bool, addr uint64, source string) *report.Signal {
	s := &report.Signal{Number: signo, Name: core.SignalName(signo), Meaning: core.SignalMeaning(signo),
		Code: code, CodeName: core.CodeName(signo, code), CodeMeaning: core.CodeMeaning(signo, code), Source: source}
	if hasAddr {
		s.Address = report.HexPtr(addr)
	}
	return s
}

// isOwnPID reports whether pid is the process or one of its threads.
func (a *Analysis) isOwnPID(pid int) bool {
	if ps := a.Core.PsInfo; ps != nil && ps.PID == pid {
		return true
	}
	for _, t := range a.Core.Threads {
		if t.TID == pid {
			return true
		}
	}
	return false
}

func (a *Analysis) registers(t *core.Thread) map[string]report.Hex {
	m := make(map[string]report.Hex, len(t.Regs)+1)
	for i, n := range a.Core.Arch.RegNames {
		if i < len(t.Regs) { // NoteRegs only with their note
			m[n] = report.Hex(t.Regs[i])
		}
	}
	if t.HasTLS && a.Core.Arch.TLS < 0 && a.Core.Arch.TLSName != "" {
		m[a.Core.Arch.TLSName] = report.Hex(t.TLS)
	}
	for _, v := range t.Extra {
		if len(v.Value) <= 8 {
			m[v.Name] = report.Hex(v.Uint64())
		}
	}
	return m
}

// wideRegisters are the thread's extra registers wider than 64 bits, as hex numbers
// ("0x0", like gdb's uint128), and their order.
func wideRegisters(t *core.Thread) (map[string]string, []string) {
	var m map[string]string
	var order []string
	for _, v := range t.Extra {
		if len(v.Value) <= 8 {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[v.Name] = "0x" + new(big.Int).SetBytes(v.Value).Text(16)
		order = append(order, v.Name)
	}
	return m, order
}

func (a *Analysis) modules() []report.Module {
	var out []report.Module
	for _, m := range a.Modules.Modules {
		rm := report.Module{Path: m.Name, File: m.Path, BuildID: m.BuildIDHex(), Base: report.Hex(m.Base),
			Start: report.Hex(m.Start), End: report.Hex(m.End), Status: string(m.Status), Source: m.Source,
			SymbolSource: m.SymbolSource, DebugFile: m.DebugPath(), Executable: m.IsExec, VDSO: m.IsVDSO, Notes: m.Notes}
		if m.FileBuildID != nil {
			rm.FileBuildID = fmt.Sprintf("%x", m.FileBuildID)
		}
		if m.BiasKnown {
			rm.Bias = report.HexPtr(m.Bias)
		}
		for _, t := range m.Trail {
			rm.Search = append(rm.Search, report.Attempt(t))
		}
		out = append(out, rm)
	}
	return out
}

// mappings lists every PT_LOAD segment with the NT_FILE name that covers it.
func (a *Analysis) mappings() []report.Mapping {
	c := a.Core
	files := append([]core.FileMapping(nil), c.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Start < files[j].Start })
	var out []report.Mapping
	for _, s := range c.Segments {
		m := report.Mapping{Start: report.Hex(s.Vaddr), End: report.Hex(s.End()), Perms: s.Perms(), Dumped: s.Filesz, InCore: s.Present}
		if f := fileAt(files, s.Vaddr); f != nil {
			m.Name = f.Name
			m.FileOffset = report.HexPtr(f.FileOff + (s.Vaddr - f.Start))
		} else if mod := a.Modules.ModuleFor(s.Vaddr); mod != nil && mod.IsVDSO {
			m.Name = "[vdso]"
		} else if a.isStack(s) {
			m.Name = "[stack]"
		}
		out = append(out, m)
	}
	return out
}

// isStack reports whether a thread's stack pointer is inside the segment, or, for a
// writable segment, just below it in an inaccessible one (the guard page a thread that
// overflowed its stack ran into, which is not its stack).
func (a *Analysis) isStack(s core.Segment) bool {
	for _, t := range a.Core.Threads {
		sp := t.SP(a.Core.Arch)
		g := a.Core.SegmentFor(sp)
		guard := g != nil && g.Flags&(elf.PF_R|elf.PF_W) == 0
		switch {
		case sp >= s.Vaddr && sp < s.End():
			if !guard {
				return true
			}
		case guard && s.Flags&elf.PF_W != 0 && s.Vaddr == g.End():
			return true
		}
	}
	return false
}

func fileAt(files []core.FileMapping, addr uint64) *core.FileMapping {
	i := sort.Search(len(files), func(i int) bool { return files[i].End > addr })
	if i < len(files) && files[i].Start <= addr {
		return &files[i]
	}
	return nil
}

func (a *Analysis) auxv() []report.Auxv {
	c := a.Core
	var out []report.Auxv
	for _, e := range c.Auxv {
		x := report.Auxv{Name: core.AuxvName(e.Tag), Value: report.Hex(e.Value), Flags: c.Arch.HWCapNames(e.Tag, e.Value)}
		if core.AuxvIsString(e.Tag) && e.Value != 0 {
			if s, _, err := c.ReadCString(e.Value, 4096); err == nil {
				x.Str = s
			} else {
				x.Str = "<" + err.Error() + ">"
			}
		}
		out = append(out, x)
	}
	return out
}

func (a *Analysis) lostSegments() []report.LostSegment {
	c := a.Core
	files := append([]core.FileMapping(nil), c.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Start < files[j].Start })
	var out []report.LostSegment
	for _, s := range c.Segments {
		if s.Present >= s.Filesz {
			continue
		}
		l := report.LostSegment{Start: report.Hex(s.Vaddr), End: report.Hex(s.End()), Bytes: s.Filesz, Present: s.Present}
		if f := fileAt(files, s.Vaddr); f != nil {
			l.Mapping = f.Name
		}
		for _, t := range c.Threads {
			if sp := t.SP(c.Arch); sp >= s.Vaddr && sp < s.End() {
				l.Stack = append(l.Stack, t.TID)
			}
		}
		out = append(out, l)
	}
	return out
}

func (a *Analysis) truncationWarning(lost []report.LostSegment) string {
	c := a.Core
	partial, missing, stacks := 0, 0, 0
	for _, l := range lost {
		if l.Present == 0 {
			missing++
		} else {
			partial++
		}
		stacks += len(l.Stack)
	}
	return fmt.Sprintf("core is truncated: %d of %d bytes present (%.1f%%), file ends at offset %#x; %d segments missing and %d partial, holding the stacks of %d of %d threads",
		c.Size, c.ExpectedSize, 100*float64(c.Size)/float64(max(c.ExpectedSize, 1)), c.Size, missing, partial, stacks, len(c.Threads))
}

// backing serves not-dumped file-backed memory from verified module files.
type backing struct{ t *symbolize.Table }

func (b backing) ReadBacked(p []byte, addr uint64) (int, error) {
	m := b.t.ModuleFor(addr)
	if m == nil {
		return 0, fmt.Errorf("no module maps %#x", addr)
	}
	return m.ReadFile(p, addr)
}
