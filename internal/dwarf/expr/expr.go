// Package expr evaluates DWARF expressions (DWARF 5 §2.5, "DWARF Expressions") as call
// frame information uses them: DW_CFA_def_cfa_expression, DW_CFA_expression and
// DW_CFA_val_expression (DWARF 5 §6.4.2).
//
// Scope: the stack machine operations (literals, constants, register-based addressing,
// stack manipulation, dereferences, arithmetic and logic, comparisons and branches,
// DW_OP_call_frame_cfa, DW_OP_nop) and the simple location forms DW_OP_reg*, DW_OP_regx and
// DW_OP_stack_value. Composite locations (DW_OP_piece), typed stack entries (DWARF 5
// DW_OP_*_type), TLS and entry values are not CFI material and are rejected with an
// *Error naming the operation.
//
// Limits: every evaluation has a step budget (MaxSteps, default 10000 operations) and a
// stack depth cap (MaxStack, default 1024 entries); the expression is never read past its
// end. Memory and register reads go through small interfaces whose errors are kept (wrapped)
// so a caller can tell an unreadable stack from a malformed expression.
//
// Sources: DWARF Debugging Information Format Version 5, §2.5 and §7.7.1 (operation
// encodings); GNU extensions are not implemented.
package expr

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Registers gives the value of a register by DWARF register number.
type Registers interface {
	// Reg returns the value of DWARF register n, or an error when it is not known.
	Reg(n uint64) (uint64, error)
}

// Memory reads target memory. It follows the io.ReaderAt convention with a 64-bit
// address: n < len(p) always comes with a non-nil error saying why.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// Default bounds.
const (
	DefaultMaxSteps = 10000
	DefaultMaxStack = 1024
)

// Context is what an expression may read.
type Context struct {
	Regs     Registers
	Mem      Memory
	PtrSize  int              // 4 or 8: the size of an address and of DW_OP_deref
	Order    binary.ByteOrder // the target's byte order
	CFA      uint64           // value of DW_OP_call_frame_cfa when HasCFA
	HasCFA   bool
	MaxSteps int // operations executed at most; DefaultMaxSteps when 0
	MaxStack int // stack entries at most; DefaultMaxStack when 0
}

// Kind says what an expression's result denotes.
type Kind uint8

const (
	// Address: the result is the address of the value (the default for a DWARF location).
	Address Kind = iota
	// Value: the result is the value itself (DW_OP_stack_value).
	Value
	// Register: the value lives in register Result.Reg (DW_OP_reg*, DW_OP_regx).
	Register
)

func (k Kind) String() string {
	switch k {
	case Address:
		return "address"
	case Value:
		return "value"
	case Register:
		return "register"
	}
	return "unknown"
}

// Result is the outcome of an evaluation.
type Result struct {
	Kind  Kind
	Value uint64 // for Address and Value
	Reg   uint64 // for Register
}

// Sentinel causes, wrapped in *Error.
var (
	ErrBudget         = errors.New("step budget exhausted")
	ErrStackOverflow  = errors.New("stack depth limit exceeded")
	ErrStackUnderflow = errors.New("stack underflow")
	ErrTruncated      = errors.New("operand runs past the end of the expression")
	ErrUnsupported    = errors.New("unsupported operation")
	ErrDivideByZero   = errors.New("division by zero")
	ErrNoCFA          = errors.New("no CFA available")
	ErrEmpty          = errors.New("expression leaves an empty stack")
	ErrBadBranch      = errors.New("branch target outside the expression")
	ErrNoRegisters    = errors.New("no registers available")
	ErrNoMemory       = errors.New("no memory available")
	ErrBadSize        = errors.New("bad operand size")
)

// Error is an evaluation failure at one operation.
type Error struct {
	Op     byte  // the operation's opcode
	Offset int   // its offset in the expression
	Err    error // the cause: a sentinel above, or a register or memory error
}

func (e *Error) Error() string {
	return fmt.Sprintf("dwarf expression: %s at offset %d: %v", OpName(e.Op), e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Eval runs code and returns its result. The initial values are pushed first, in order
// (CFI pushes the CFA for DW_CFA_expression and DW_CFA_val_expression).
func Eval(code []byte, ctx *Context, initial ...uint64) (Result, error) {
	m := machine{code: code, ctx: ctx}
	m.maxSteps = ctx.MaxSteps
	if m.maxSteps <= 0 {
		m.maxSteps = DefaultMaxSteps
	}
	m.maxStack = ctx.MaxStack
	if m.maxStack <= 0 {
		m.maxStack = DefaultMaxStack
	}
	m.ptr = ctx.PtrSize
	if m.ptr != 4 && m.ptr != 8 {
		m.ptr = 8
	}
	m.order = ctx.Order
	if m.order == nil {
		m.order = binary.LittleEndian
	}
	for _, v := range initial {
		if len(m.stack) >= m.maxStack {
			return Result{}, &Error{Op: 0, Offset: 0, Err: ErrStackOverflow}
		}
		m.stack = append(m.stack, v)
	}
	return m.run()
}
