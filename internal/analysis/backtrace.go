package analysis

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/unwind"
)

// SignalHandlerCalled is the function name given to the kernel's signal trampoline frame,
// as gdb shows it.
const SignalHandlerCalled = "<signal handler called>"

// unwindModules presents the module table to the unwinder.
type unwindModules struct{ a *Analysis }

func (u unwindModules) CFI(pc uint64) []unwind.CFI {
	tabs, bias := u.a.Modules.CFI(pc)
	out := make([]unwind.CFI, 0, len(tabs))
	for _, t := range tabs {
		out = append(out, unwind.CFI{Table: t, Bias: bias})
	}
	return out
}

// EHABI gives the unwinder a module's ARM EHABI index where no CFI covers a pc.
func (u unwindModules) EHABI(pc uint64) *unwind.EHABI {
	t, bias := u.a.Modules.EHABI(pc)
	if t == nil {
		return nil
	}
	return &unwind.EHABI{Table: t, Bias: bias}
}

// FunctionStart gives the unwinder a function's start from the symbol tables, for
// reading its prologue where no table describes it.
func (u unwindModules) FunctionStart(pc uint64) (uint64, bool) {
	s := u.a.Modules.Lookup(pc)
	return s.FuncStart | s.FuncMode, s.Function != ""
}

// Executable: an executable segment that is a thread's stack (old kernels and programs
// without PT_GNU_STACK map stacks rwx) is not code a call returns into.
func (u unwindModules) Executable(addr uint64) bool {
	if s := u.a.Core.SegmentFor(addr); s != nil {
		return s.Flags&elf.PF_X != 0 && (s.Flags&elf.PF_W == 0 || !u.a.isStack(*s))
	}
	return false
}

// cloneNames are glibc's clone entry points, whose child calls a new thread's function
// (sysdeps/unix/sysv/linux/*/clone.S and clone3.S; thread_start is the child's label on
// some architectures).
var cloneNames = map[string]bool{"clone": true, "__clone": true, "clone3": true, "__clone3": true,
	"thread_start": true, "__thread_start": true}

// maxCloneChild bounds how far past clone's sized body its child code may lie: on 32-bit
// ARM it follows PSEUDO_END(__clone) (clone.S: ldr, ldr, blx ip, then the exit system
// call: 16 bytes of Thumb-2).
const maxCloneChild = 64

// threadStart reports whether pc is in glibc's clone child: inside a clone symbol, or
// just past its size (no other symbol in between). Only the child calls anything in
// clone, so a return address there is the call of the thread's function.
func (a *Analysis) threadStart(pc uint64) bool {
	s := a.Modules.Preceding(pc)
	return cloneNames[s.RawName] && pc-s.FuncStart < s.FuncSize+maxCloneChild
}

// outermost reports whether pc is in code nothing called: glibc's clone child
// (threadStart) or the process's entry function, the one that holds AT_ENTRY (crt1's
// _start, sysdeps/*/start.S), which the kernel jumps to.
func (a *Analysis) outermost(pc uint64) bool {
	if a.threadStart(pc) {
		return true
	}
	entry, ok := a.Core.AuxvValue(core.AT_ENTRY)
	if !ok || entry == 0 {
		return false
	}
	e := a.Modules.Lookup(entry)
	if e.Function == "" {
		return false
	}
	s := a.Modules.Lookup(pc)
	return s.Function != "" && s.Module == e.Module && s.FuncStart == e.FuncStart
}

// faultEntry reports whether pc is in a function a runtime enters by injecting a call at a
// faulting instruction: Go's runtime.sigpanic (runtime/signal_amd64.go preparePanic, and
// the arm64 equivalent, push the faulting pc as the "return address").
func (a *Analysis) faultEntry(pc uint64) bool {
	return a.Modules.Lookup(pc).Function == "runtime.sigpanic"
}

// Unwind walks one thread's stack. It never fails: a stack that cannot be walked further
// ends with the reason in the last frame's Error and in the returned error string.
func (a *Analysis) Unwind(t *core.Thread, maxDepth int) ([]*unwind.Frame, error) {
	if a.Core.Arch.NotesOnly != "" {
		return a.contextOnly(t.Regs)
	}
	return a.unwindRegs(t.Regs, maxDepth, false)
}

// contextOnly is the walk of an architecture coredig has no unwinder for: the frame of
// the registers' pc alone, and why it ends there.
func (a *Analysis) contextOnly(regs []uint64) ([]*unwind.Frame, error) {
	ar := a.Core.Arch
	pc := regs[ar.PC]
	if ar.PCMask != 0 {
		pc &= ar.PCMask
	}
	f := &unwind.Frame{PC: pc, SP: regs[ar.SP], FoundBy: unwind.FoundByContext}
	return []*unwind.Frame{f}, errors.New(ar.NotesOnly + ": the stack is not walked past the pc")
}

func (a *Analysis) unwindRegs(regs []uint64, maxDepth int, contextIsReturn bool) ([]*unwind.Frame, error) {
	u := unwind.New(unwind.Config{Arch: a.Core.Arch, Mem: a.Core, Modules: unwindModules{a}, MaxDepth: maxDepth, FaultEntry: a.faultEntry, ThreadStart: a.threadStart, Outermost: a.outermost, ContextIsReturn: contextIsReturn}, regs)
	var frames []*unwind.Frame
	for u.Next() {
		frames = append(frames, u.Frame())
	}
	return frames, u.Err()
}

// Backtrace unwinds and symbolizes one thread: frames with file:line and inlined calls.
func (a *Analysis) Backtrace(t *core.Thread, maxDepth int) ([]report.Frame, string) {
	frames, err := a.Unwind(t, maxDepth)
	out, spans, errText := a.symbolizeWalk(frames, err)
	if t == a.CrashedThread() {
		a.crashWalk, a.crashWalkErr = frames, err
		if !a.noLocals {
			a.addLocals(out, frames, spans)
		}
	}
	return out, errText
}

// symbolizeWalk turns unwound frames into report frames, with inlined calls and the
// functions that tail-called their callee.
// spans[i] is where frames[i]'s report frames (its inlined calls, innermost first, and
// the concrete one) sit in the result.
func (a *Analysis) symbolizeWalk(frames []*unwind.Frame, err error) (out []report.Frame, spans [][2]int, errText string) {
	spans = make([][2]int, 0, len(frames))
	for i, f := range frames {
		if i > 0 && f.ReturnAddress && len(out) > 0 {
			// Functions that tail-called the callee left no return address; DWARF
			// call-site information names them (gdb shows them too).
			callee := out[len(out)-1]
			for _, pc := range a.Modules.TailCallChain(f.PC, callee.Function, uint64(callee.PC)) {
				out = append(out, a.SourceFrames(len(out), pc, true, "tail_call")...)
			}
		}
		var rf []report.Frame
		if f.Signal != nil {
			// The kernel's trampoline (__restore_rt, __kernel_rt_sigreturn).
			x := a.Frame(len(out), f.PC, false, string(f.FoundBy))
			x.Function, x.FunctionOffset = SignalHandlerCalled, nil
			rf = []report.Frame{x}
		} else {
			rf = a.SourceFrames(len(out), f.PC, f.ReturnAddress, string(f.FoundBy))
		}
		if f.Err != nil && !errors.Is(f.Err, unwind.ErrMaxDepth) {
			rf[len(rf)-1].Error = describe(f.Err)
		}
		spans = append(spans, [2]int{len(out), len(out) + len(rf)})
		out = append(out, rf...)
	}
	if err != nil {
		return out, spans, describe(err)
	}
	return out, spans, ""
}

// describe turns an unwinding error into a sentence that says why, naming the memory
// problem when there is one.
func describe(err error) string {
	var me *core.MemError
	if errors.As(err, &me) {
		switch me.Kind {
		case core.Truncated:
			return fmt.Sprintf("stack memory at %#x is cut off by the core's truncation (%v)", me.Addr, err)
		case core.NotDumped:
			return fmt.Sprintf("memory at %#x is mapped but not in the core (%v)", me.Addr, err)
		case core.Unmapped:
			return fmt.Sprintf("memory at %#x is not mapped (%v)", me.Addr, err)
		}
	}
	return err.Error()
}

// Backtraces unwinds every thread into the report, and groups identical stacks.
func (a *Analysis) Backtraces(r *report.Report, maxDepth int) {
	for i := range r.Threads {
		th := a.Core.Threads[i]
		frames, errText := a.Backtrace(th, maxDepth)
		if len(frames) > 0 {
			r.Threads[i].Frames = frames
		}
		r.Threads[i].Error = errText
	}
	r.Groups = report.GroupThreads(r.Threads)
}

// backtraceCrashed unwinds the crashing thread alone into the report.
func (a *Analysis) backtraceCrashed(r *report.Report, maxDepth int) {
	crashed := a.CrashedThread()
	for i := range r.Threads {
		if a.Core.Threads[i] != crashed {
			continue
		}
		frames, errText := a.Backtrace(crashed, maxDepth)
		if len(frames) > 0 {
			r.Threads[i].Frames = frames
		}
		r.Threads[i].Error = errText
	}
}
