// Package cfi reads DWARF call frame information from .eh_frame and .debug_frame sections
// and answers, for a pc, the unwinding rules in force there: how to compute the canonical
// frame address (CFA) and where each register of the caller was saved.
//
// Scope:
//   - .eh_frame (LSB "Exception Frames"), found through the binary search table of
//     .eh_frame_hdr when one is given and usable, else through a sorted index of all FDEs
//     built once on first use.
//   - .debug_frame (DWARF 2, 3 and 4 CIE versions 1, 3 and 4, with address and segment
//     selector sizes), including the 64-bit DWARF length escape (0xffffffff).
//   - CIE augmentations "z", "R", "P", "L", "S", "B"/"G" (AArch64, accepted and ignored)
//     and the old "eh" pointer.
//   - Pointer encodings DW_EH_PE_absptr, uleb128, udata2/4/8, sleb128, sdata2/4/8, with
//     pcrel, textrel, datarel, funcrel and aligned application and the indirect flag
//     (recorded, not dereferenced: the table has no memory).
//   - Every DW_CFA instruction of DWARF 5 §6.4.2 plus DW_CFA_GNU_args_size,
//     DW_CFA_GNU_negative_offset_extended and DW_CFA_AArch64_negate_ra_state (0x2d, which
//     is DW_CFA_GNU_window_save on SPARC; SPARC is not supported).
//
// All addresses in and out of a Table are in the address space of Config.Addr: give the
// section's link-time address to get link-time pcs (then add the module's load bias), or its
// run-time address when the bytes come from process memory.
//
// Limits: a Table never reads outside the byte slices it is given; the remember_state
// stack holds at most MaxStateStack rows, a row tracks at most MaxRegisters registers, and an
// entry's length must fit in its section. Malformed entries produce a *FormatError naming
// the section and the offset; one bad FDE does not stop lookups of the others.
//
// Sources: DWARF Debugging Information Format Version 5 §6.4 and §7.24; Linux Standard
// Base Core Specification 5.0 §10.6 (.eh_frame, .eh_frame_hdr, DW_EH_PE_*); ARM "DWARF for
// the Arm 64-bit Architecture" (aadwarf64) for DW_CFA_AArch64_negate_ra_state; readelf
// --debug-dump=frames-interp as the oracle in the tests.
package cfi

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Bounds.
const (
	MaxStateStack = 64  // DW_CFA_remember_state depth
	MaxRegisters  = 256 // distinct registers with a rule in one row
)

// Section says which kind of call frame section a Table reads.
type Section uint8

const (
	EHFrame Section = iota
	DebugFrame
)

func (s Section) String() string {
	if s == DebugFrame {
		return ".debug_frame"
	}
	return ".eh_frame"
}

// Config describes a section to read.
type Config struct {
	Section Section
	Data    []byte           // the section's bytes
	Addr    uint64           // the section's address
	PtrSize int              // 4 or 8
	Order   binary.ByteOrder // the target's byte order

	// Hdr is the .eh_frame_hdr section (optional, EHFrame only) at HdrAddr.
	Hdr     []byte
	HdrAddr uint64

	// TextAddr and DataAddr are the bases of DW_EH_PE_textrel and DW_EH_PE_datarel
	// pointers inside .eh_frame (start of .text, and the GOT); rarely used on 64-bit targets.
	TextAddr, DataAddr uint64
}

// FormatError is a malformed entry or instruction.
type FormatError struct {
	Section Section
	Offset  uint64 // offset in the section (or in .eh_frame_hdr when What says so)
	What    string
	Err     error
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("%s at offset %#x: %s", e.Section, e.Offset, e.What)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// Sentinel errors.
var (
	// ErrNoFDE: no FDE covers the pc. Not a format error: the caller tries something else.
	ErrNoFDE = errors.New("no FDE covers the address")
	// ErrTruncated: a field runs past the end of its entry or section.
	ErrTruncated = errors.New("truncated")
	// ErrUnsupported: an encoding or augmentation this package does not read.
	ErrUnsupported = errors.New("unsupported")
)

// CIE is a Common Information Entry.
type CIE struct {
	Offset              uint64 // of the entry in its section
	Version             uint8
	Augmentation        string
	AddrSize            uint8 // from a version 4 .debug_frame CIE, else the table's PtrSize
	SegSize             uint8
	CodeAlign           uint64
	DataAlign           int64
	RA                  uint64 // the return address column
	FDEEncoding         uint8  // DW_EH_PE_* of FDE addresses
	LSDAEncoding        uint8  // DW_EH_PE_omit when there is none
	Personality         uint64 // personality routine (or its address when PersonalityIndirect)
	HasPersonality      bool
	PersonalityIndirect bool
	SignalFrame         bool // "S": frames described by this CIE are signal trampolines
	Initial             []byte
	hasAugData          bool
	is64                bool
}

// FDE is a Frame Description Entry covering [Begin, End).
type FDE struct {
	Offset       uint64
	CIE          *CIE
	Begin, End   uint64
	LSDA         uint64
	HasLSDA      bool
	Instructions []byte
}

// DW_EH_PE pointer encodings (LSB 5.0 §10.5.1).
const (
	DW_EH_PE_absptr  = 0x00
	DW_EH_PE_uleb128 = 0x01
	DW_EH_PE_udata2  = 0x02
	DW_EH_PE_udata4  = 0x03
	DW_EH_PE_udata8  = 0x04
	DW_EH_PE_signed  = 0x08
	DW_EH_PE_sleb128 = 0x09
	DW_EH_PE_sdata2  = 0x0a
	DW_EH_PE_sdata4  = 0x0b
	DW_EH_PE_sdata8  = 0x0c

	DW_EH_PE_pcrel    = 0x10
	DW_EH_PE_textrel  = 0x20
	DW_EH_PE_datarel  = 0x30
	DW_EH_PE_funcrel  = 0x40
	DW_EH_PE_aligned  = 0x50
	DW_EH_PE_indirect = 0x80
	DW_EH_PE_omit     = 0xff
)

// RuleKind is how a register of the caller is recovered (DWARF 5 §6.4.1).
type RuleKind uint8

const (
	// Unspecified: no rule was given; callers usually treat it as SameValue for
	// callee-saved registers and the return address column.
	Unspecified RuleKind = iota
	Undefined
	SameValue
	Offset        // saved at CFA+Offset
	ValOffset     // the value is CFA+Offset
	Register      // saved in register Reg
	Expression    // saved at the address computed by Expr (CFA pushed first)
	ValExpression // the value is computed by Expr (CFA pushed first)
)

func (k RuleKind) String() string {
	return [...]string{"unspecified", "undefined", "same_value", "offset", "val_offset",
		"register", "expression", "val_expression"}[k]
}

// Rule is one register's rule.
type Rule struct {
	Kind   RuleKind
	Offset int64
	Reg    uint64
	Expr   []byte
}

// CFAKind says how the CFA is computed.
type CFAKind uint8

const (
	CFAUnset CFAKind = iota
	CFARegOffset
	CFAExpression
)

// CFARule computes the CFA: register Reg plus Offset, or the DWARF expression Expr.
type CFARule struct {
	Kind   CFAKind
	Reg    uint64
	Offset int64
	Expr   []byte
}

// RegRule pairs a DWARF register number with its rule.
type RegRule struct {
	Reg  uint64
	Rule Rule
}

// Row is the unwinding rules in force over [Start, End).
type Row struct {
	Start, End  uint64
	CFA         CFARule
	Rules       []RegRule // sorted by Reg; registers not listed are Unspecified
	RA          uint64    // the return address column
	SignalFrame bool      // the frame is a signal trampoline: its caller's pc is exact
	RAMangled   bool      // AArch64: the return address is signed (pointer authentication)
	ArgsSize    uint64    // DW_CFA_GNU_args_size
	FDE         *FDE
}

// Rule returns the rule of DWARF register reg.
func (r *Row) Rule(reg uint64) Rule {
	lo, hi := 0, len(r.Rules)
	for lo < hi {
		m := (lo + hi) / 2
		if r.Rules[m].Reg < reg {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(r.Rules) && r.Rules[lo].Reg == reg {
		return r.Rules[lo].Rule
	}
	return Rule{}
}
