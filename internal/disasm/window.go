package disasm

import (
	"errors"
	"fmt"

	"golang.org/x/arch/riscv64/riscv64asm"
	"golang.org/x/arch/s390x/s390xasm"
	"golang.org/x/arch/x86/x86asm"

	"github.com/coredig/coredig/internal/arch"
)

// Memory is the process memory the window is read from.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// Line is one line of a disassembly window.
type Line struct {
	Inst
	// Current marks the instruction at the pc the window was asked for.
	Current bool
	// TargetName is the symbolized Target ("PyOS_setsig+0x10"), "" when none.
	TargetName string
	// Err is set when the bytes at Inst.PC did not decode (Inst.Len is then the number of
	// bytes skipped, Inst.Bytes those bytes).
	Err error
}

// WindowConfig controls Window.
type WindowConfig struct {
	Before, After int // instructions before and after pc (capped at MaxWindow each)
	// FuncStart is the start of the function holding pc, 0 when unknown. On the
	// variable-length instruction sets (x86, riscv64, s390x, T32) the window then decodes
	// forward from it, which is always in sync; T32 without it shows nothing before pc.
	FuncStart uint64
	// Symbolize names an address ("f+0x10"), "" when unknown. May be nil.
	Symbolize func(uint64) string
	Syntax    Syntax
	// Mode is the instruction set of the code at pc (ThreadMode, SymbolMode); on 32-bit
	// ARM the window is refused when it is ModeDefault.
	Mode Mode
	// ModeAt, when set, says the instruction set at each address of the window (32-bit
	// ARM's mapping symbols: ModeData for a literal pool, ModeARM and ModeThumb where the
	// code changes instruction set); ModeDefault from it keeps Mode.
	ModeAt func(pc uint64) Mode
	// ITAtPC, when set, is the IT state at pc (T32: from the thread's CPSR,
	// ThumbITFromPSR); it replaces the state decoded from before pc.
	ITAtPC *ThumbIT
}

// MaxWindow caps Before and After.
const MaxWindow = 256

// maxFuncBack is how far before pc (bytes) a window decodes forward from the function's
// start.
const maxFuncBack = 4096

// maxSyncBack is how far before pc (bytes) x86 decoding may start when the function start
// is unknown or far away.
const maxSyncBack = 16 * MaxInstLen

// WindowError says why no window could be made.
type WindowError struct {
	PC  uint64
	Err error
}

func (e *WindowError) Error() string {
	return fmt.Sprintf("disassembly window at %#x: %v", e.PC, e.Err)
}
func (e *WindowError) Unwrap() error { return e.Err }

// Window disassembles before instructions before pc and after instructions after it,
// with branch and call targets named by symbolizer (which may be nil).
func Window(a *arch.Arch, mem Memory, pc uint64, before, after int, symbolizer func(uint64) string) ([]Line, error) {
	return WindowWith(a, mem, pc, WindowConfig{Before: before, After: after, Symbolize: symbolizer})
}

// WindowWith is Window with every option.
func WindowWith(a *arch.Arch, mem Memory, pc uint64, cfg WindowConfig) ([]Line, error) {
	if a == nil || !Supported(a) {
		name := "nil"
		if a != nil {
			name = a.Name
		}
		return nil, &WindowError{PC: pc, Err: fmt.Errorf("%w: no decoder for %s", ErrUnsupportedArch, name)}
	}
	if err := modeRefused(a, cfg.Mode); err != nil {
		// Not a property of the bytes: no line of the window would decode.
		return nil, &WindowError{PC: pc, Err: err}
	}
	before := clamp(cfg.Before)
	after := clamp(cfg.After)
	step := uint64(MaxInstLen)
	instLen := instLenIn(a, cfg.Mode)
	fixed := instLen > 0
	if fixed {
		step = uint64(instLen)
	}
	// The bytes from lo to hi; lo is chosen so that enough instructions precede pc.
	back := uint64(before) * step
	thumb := a.Name == arch.ARM.Name && cfg.Mode == ModeThumb
	if !fixed {
		back = maxSyncBack
		if thumb {
			back = 0 // no way to tell the halfwords that start instructions from the others
		}
		if cfg.FuncStart != 0 && cfg.FuncStart <= pc && pc-cfg.FuncStart <= maxFuncBack {
			back = pc - cfg.FuncStart
		}
		if before == 0 {
			back = 0
		}
	}
	if back > pc {
		back = pc
	}
	lo := pc - back
	hi := pc + uint64(after+1)*step
	if hi < pc {
		hi = ^uint64(0)
	}
	buf, lo := readAround(mem, lo, pc, hi)
	if len(buf) == 0 || lo > pc {
		return nil, &WindowError{PC: pc, Err: fmt.Errorf("no bytes readable at the pc")}
	}
	var lines []Line
	it := &ThumbIT{} // T32: the IT block the run is in, carried over to the pc
	if pc > lo {
		if fixed {
			lines = decodeRun(a, buf, lo, pc, cfg, it)
		} else if thumb {
			// Forward from the function's start; dropped if that run does not land on pc
			// (data not marked as such, or a FuncStart that is not an instruction's).
			lines = decodeRun(a, buf, lo, pc, cfg, it)
			if n := len(lines); n > 0 && lines[n-1].PC+uint64(lines[n-1].Len) != pc {
				lines = nil
				it.Reset()
			}
		} else {
			lines = syncBefore(a, buf, lo, pc, cfg)
		}
		if len(lines) > before {
			lines = lines[len(lines)-before:]
		}
	}
	if cfg.ITAtPC != nil {
		it.conds = append([]string(nil), cfg.ITAtPC.conds...)
	}
	rest := decodeRun(a, buf[pc-lo:], pc, hi, cfg, it)
	if len(rest) > after+1 {
		rest = rest[:after+1]
	}
	if len(rest) > 0 {
		rest[0].Current = true
	}
	return append(lines, rest...), nil
}

func clamp(n int) int {
	if n < 0 {
		return 0
	}
	if n > MaxWindow {
		return MaxWindow
	}
	return n
}

// readAround reads [lo, hi) from mem; when that fails it gives up on the bytes before pc
// first, then shortens the end, so that at least the instruction at pc is read.
func readAround(mem Memory, lo, pc, hi uint64) ([]byte, uint64) {
	try := func(from, to uint64) []byte {
		if to <= from {
			return nil
		}
		b := make([]byte, to-from)
		n, _ := mem.ReadAt(b, from)
		if n <= 0 {
			return nil
		}
		return b[:n]
	}
	if b := try(lo, hi); uint64(len(b)) > pc-lo {
		return b, lo
	}
	for end := hi; end > pc; end = pc + (end-pc)/2 {
		if b := try(pc, end); len(b) > 0 {
			return b, pc
		}
	}
	return nil, pc
}

// decodeRun decodes from start (buf[0]) up to stop, recording undecodable bytes as lines
// with Err and moving on by the architecture's minimum step (T32: the instruction's
// length), T32 instructions in an IT block with its condition (it, carried between runs).
func decodeRun(a *arch.Arch, buf []byte, start, stop uint64, cfg WindowConfig, it *ThumbIT) []Line {
	var out []Line
	minStep := max(1, instLenIn(a, cfg.Mode))
	if a.Name == arch.ARM.Name && cfg.Mode == ModeThumb {
		minStep = 2
	}
	off := 0
	for n := 0; n < 2*MaxWindow+maxSyncBack+maxFuncBack/2 && off < len(buf) && start+uint64(off) < stop; n++ {
		pc := start + uint64(off)
		mode := cfg.Mode
		if cfg.ModeAt != nil {
			if m := cfg.ModeAt(pc); m != ModeDefault && (instLenIn(a, m) == instLenIn(a, mode) || a.Name == arch.ARM.Name) {
				mode = m // 32-bit ARM: A32, T32 and data words, each decoded as it is
			}
		}
		in, err := DecodeMode(a, buf[off:], pc, cfg.Syntax, mode)
		if a.Name == arch.ARM.Name && it != nil {
			if err == nil && mode == ModeThumb {
				it.Apply(&in)
			} else {
				it.Reset()
			}
		}
		l := Line{Inst: in, Err: err}
		if err != nil {
			k := min(minStep, len(buf)-off)
			var de *DecodeError
			if errors.As(err, &de) && de.Len > 0 {
				k = min(de.Len, len(buf)-off)
			}
			l.Inst = Inst{PC: pc, Len: k, Bytes: head(buf[off:], k)}
		} else if in.Target != 0 && cfg.Symbolize != nil {
			l.TargetName = cfg.Symbolize(in.Target)
		}
		out = append(out, l)
		off += l.Len
	}
	return out
}

// syncBefore finds instructions of a variable-length architecture that end exactly at pc: it tries start offsets from
// the farthest back and keeps the first whose instructions all decode and land on pc.
// Candidates are checked by length only; text is made for the chosen run. Each offset
// is decoded once, from pc backwards (lands[off]: the run from off lands on pc), not once
// per start offset tried.
func syncBefore(a *arch.Arch, buf []byte, lo, pc uint64, cfg WindowConfig) []Line {
	n := int(pc - lo)
	lands := make([]bool, n+1)
	lands[n] = true
	for off := n - 1; off >= 0; off-- {
		if k := instLen(a, buf[off:n]); k > 0 && off+k <= n {
			lands[off] = lands[off+k]
		}
	}
	for s := 0; s < n; s++ {
		if lands[s] {
			return decodeRun(a, buf[s:n], lo+uint64(s), pc, cfg, nil)
		}
	}
	return nil
}

// instLen is the length of the instruction at the start of code, 0 if none decodes: by
// the decoder alone, without the text, on x86, riscv64 and s390x (syncBefore asks it at
// every byte before the pc), or by a full decode elsewhere.
func instLen(a *arch.Arch, code []byte) int {
	switch a.Name {
	case arch.AMD64.Name, arch.I386.Name:
		return x86Len(code, 8*a.PtrSize)
	case arch.RISCV64.Name:
		if len(code) < 2 || code[0]&3 == 3 && len(code) < 4 { // as decodeRISCV64
			return 0
		}
		in, err := riscv64asm.Decode(code)
		if err != nil || in.Len <= 0 || in.Len > len(code) {
			return 0
		}
		return in.Len
	case arch.S390X.Name:
		if len(code) == 0 || len(code) < [4]int{2, 4, 4, 6}[code[0]>>6] { // as decodeS390X
			return 0
		}
		in, err := s390xasm.Decode(code)
		if err != nil || in.Len <= 0 || in.Len > len(code) {
			return 0
		}
		return in.Len
	}
	in, err := DecodeSyntax(a, code, 0, SyntaxDefault)
	if err != nil || in.Len <= 0 || in.Len > len(code) {
		return 0
	}
	return in.Len
}

// x86Len is the length of the x86 instruction at the start of code in the given mode (64
// or 32 bits), 0 if none decodes.
func x86Len(code []byte, mode int) int {
	in, err := x86asm.Decode(code, mode)
	if err != nil || in.Op == 0 || in.Len <= 0 || in.Len > len(code) {
		return 0
	}
	return in.Len
}

// String renders the line as "=> 0x401136  48 8b 50 60            mov 0x60(%rax),%rdx",
// with " <name>" after a symbolized branch target and "(bad)" for bytes that did not
// decode. The marker "=>" is on the Current line.
func (l Line) String() string {
	mark := "  "
	if l.Current {
		mark = "=>"
	}
	var hexb []byte
	for i, b := range l.Bytes {
		if i > 0 {
			hexb = append(hexb, ' ')
		}
		hexb = append(hexb, "0123456789abcdef"[b>>4], "0123456789abcdef"[b&15])
	}
	text := l.Text
	if l.Err != nil {
		text = "(bad)"
	} else if l.TargetName != "" {
		text += " <" + l.TargetName + ">"
	}
	return fmt.Sprintf("%s %#x  %-*s  %s", mark, l.PC, 3*MaxInstLen-1, hexb, text)
}
