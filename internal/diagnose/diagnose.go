// Package diagnose explains why a process crashed: from facts the caller gathered out of
// a core (signal information, the crashing thread's registers, the decoded faulting
// instruction, the mappings, the crashing stack's function names, Python state) it
// classifies the crash into a stable Kind, writes one Summary sentence a person can act
// on, lists the Evidence behind it, and matches known-pattern rules (an embedded rules
// file, extendable with LoadRules).
//
// The package is pure: it reads memory only through the small Memory interface and never
// imports the core reader, the unwinder or the symbolizer; the caller wires those in.
// It never panics on hostile facts: every memory read is bounded and every loop capped.
//
// Sources: signal numbers and si_code values from linux/include/uapi/asm-generic/signal.h
// and siginfo.h (identical on x86_64 and aarch64); the x86 general-protection behaviour
// (SIGSEGV, SI_KERNEL, address 0) from arch/x86/kernel/traps.c; the stack guard gap from
// mm/mmap.c (stack_guard_gap, 256 pages); glibc's struct abort_msg_s from
// sysdeps/posix/libc_fatal.c and assert/assert.c (glibc 2.26-2.36: {unsigned int size;
// char msg[];}, msg at offset 4); glibc heap-check messages from malloc/malloc.c.
//
// Limits: classification trusts the facts it is given; a missing instruction or
// register downgrades the evidence, never the kind's honesty (the Summary says what
// could not be checked). C++ exception types are named when the caller passes them
// (FindException finds libstdc++ exception objects; libc++ ones are not recognised).
package diagnose

import (
	"fmt"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/disasm"
)

// Kinds, stable snake_case names used in JSON.
const (
	KindNullPointer        = "null_pointer_dereference"
	KindWildPointer        = "wild_pointer"
	KindNonCanonical       = "non_canonical_address"
	KindGeneralProtection  = "general_protection" // x86 #GP no non-canonical address explains
	KindWriteReadOnly      = "write_to_readonly"
	KindExecNonExecutable  = "execute_non_executable"
	KindStackOverflow      = "stack_overflow"
	KindMisaligned         = "misaligned_access"
	KindBusErrorMappedFile = "bus_error_mapped_file"
	KindBusError           = "bus_error"
	KindHardwareMemory     = "hardware_memory_error"
	KindControlProtection  = "control_protection"
	KindTagMismatch        = "memory_tag_mismatch"
	KindIllegalInstruction = "illegal_instruction"
	KindTrap               = "trap"
	KindDivideByZero       = "divide_by_zero"
	KindArithmetic         = "arithmetic_error"
	KindBreakpoint         = "breakpoint"
	KindAbort              = "abort"
	KindKilledBySignal     = "killed_by_signal"
	KindReraised           = "reraised"
	KindRseq               = "corrupted_rseq_area" // the kernel's rseq check failed
	KindFailedSigreturn    = "failed_sigreturn"    // rt_sigreturn could not read the signal frame
	KindUnknown            = "unknown"
)

// Signal numbers (asm-generic/signal.h; the same on x86_64 and aarch64).
const (
	SIGHUP  = 1
	SIGINT  = 2
	SIGQUIT = 3
	SIGILL  = 4
	SIGTRAP = 5
	SIGABRT = 6
	SIGBUS  = 7
	SIGFPE  = 8
	SIGKILL = 9
	SIGUSR1 = 10
	SIGSEGV = 11
	SIGUSR2 = 12
	SIGPIPE = 13
	SIGALRM = 14
	SIGTERM = 15
	SIGXCPU = 24
	SIGXFSZ = 25
	SIGSYS  = 31
)

// si_code values (asm-generic/siginfo.h).
const (
	SI_USER     = 0
	SI_KERNEL   = 0x80
	SI_QUEUE    = -1
	SI_TKILL    = -6
	SEGV_MAPERR = 1
	SEGV_ACCERR = 2
	// SEGV_MTEAERR, SEGV_MTESERR: an arm64 memory-tag check failed, asynchronously or
	// at the access; SEGV_CPERR: a control-protection fault (x86 CET shadow stack or
	// indirect-branch tracking, arm64 GCS).
	SEGV_MTEAERR = 8
	SEGV_MTESERR = 9
	SEGV_CPERR   = 10
	BUS_ADRALN   = 1
	BUS_ADRERR   = 2
	BUS_OBJERR   = 3
	// BUS_MCEERR_AR and BUS_MCEERR_AO: a hardware memory error (machine check) the
	// thread consumed, or one the kernel found in its memory first (mm/memory-failure.c).
	BUS_MCEERR_AR = 4
	BUS_MCEERR_AO = 5
	ILL_ILLOPC    = 1
	ILL_ILLOPN    = 2
	FPE_INTDIV    = 1
	FPE_INTOVF    = 2
	TRAP_BRKPT    = 1
)

// Memory reads process memory. It returns the bytes read and an error saying why fewer
// than len(p) were read.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// Mapping is one memory mapping of the process.
type Mapping struct {
	Start, End uint64
	Perms      string // "r-xp" or "r-x": read, write, execute in the first three places
	Name       string // file path, "[stack]", "[heap]", "" for anonymous
	// StackOf is the thread id whose stack this mapping holds, 0 if none or unknown;
	// IsStack marks a stack mapping whose thread is not known.
	StackOf int
	IsStack bool
}

func (m *Mapping) perm(i int) bool { return len(m.Perms) > i && m.Perms[i] != '-' }

// Readable, Writable, Executable report the permissions.
func (m *Mapping) Readable() bool   { return m.perm(0) }
func (m *Mapping) Writable() bool   { return m.perm(1) }
func (m *Mapping) Executable() bool { return m.perm(2) }

func (m *Mapping) stack() bool { return m.IsStack || m.StackOf != 0 || m.Name == "[stack]" }

// Facts are what the caller knows about the crash. Zero values mean unknown.
type Facts struct {
	Arch *arch.Arch

	Signo int
	Code  int
	// NoSigInfo says the core has no NT_SIGINFO (qemu-user cores, kernels before 3.7):
	// Signo comes from pr_cursig and Code, Addr and the sender are unknown.
	NoSigInfo bool
	// Addr is si_addr, meaningful when HasAddr (fault codes only).
	Addr    uint64
	HasAddr bool
	// addrInferred says Addr was computed from the faulting instruction's operand (no
	// NT_SIGINFO): it cannot confirm the operand, so no match is claimed.
	addrInferred bool
	// SenderPID, SenderUID for kill-style codes (SI_USER, SI_TKILL, SI_QUEUE).
	SenderPID, SenderUID int
	HasSender            bool
	// PID is the crashing process, TID the crashing thread.
	PID, TID int

	// Regs are the crashing thread's registers by arch.RegNames name.
	Regs map[string]uint64
	// Inst is the decoded instruction at the pc, nil when unavailable; InstErr then says
	// why ("pc not in any mapping", "bytes not in the core and no file").
	Inst    *disasm.Inst
	InstErr string

	Mappings []Mapping
	// Functions are the crashing stack's function names, innermost first.
	Functions []string
	// Locations are the frames' "file:line" ("" when unknown), parallel to Functions.
	Locations []string
	// Modules are the loaded modules' paths or names.
	Modules []string
	// PythonFinalizing is nil when unknown.
	PythonFinalizing *bool
	// PythonFaulthandler says whether CPython's faulthandler had its fatal-signal handlers
	// installed (nil when unknown). It names the re-raiser when faulthandler's own frame
	// is gone: faulthandler_fatal_error ends with a tail call to raise().
	PythonFaulthandler *bool
	// AbortMessage is a message the caller recovered (AbortMessage, FindMessage).
	AbortMessage string
	// ExceptionType is the C++ type of an uncaught exception, when the caller found it.
	ExceptionType string

	Mem Memory
	// Symbolize names a code address ("main+0x12"), may be nil.
	Symbolize func(uint64) string
	// Section names the ELF section of a module holding an address (".rodata",
	// ".text", ".data.rel.ro"), "" when unknown; may be nil.
	Section func(uint64) string

	// Original is the fault a crash handler caught and re-raised: the siginfo and
	// register context the caller recovered from the kernel's rt_sigframe on the stack
	// (its Inst decoded at the original pc). ReraisedBy names the handler when known
	// ("faulthandler"); otherwise it is inferred from Functions.
	Original   *Facts
	ReraisedBy string

	// Rseq is the crashing thread's restartable-sequence area (glibc's, found through
	// __rseq_offset), nil when unknown or none is registered.
	Rseq *RseqArea
}

// Item is one piece of evidence.
type Item struct {
	Key, Value string
}

// Diagnosis is the classification of a crash.
//
// Evidence keys (stable, snake_case, values are display strings): signal, code,
// fault_address, fault_address_source, pc, function, instruction, access, registers,
// computed_address, matches_fault_address, null_register, field_offset,
// non_canonical_address, mapping, section, mapping_below, mapping_above, stack,
// below_stack, sp, recursion, recursion_depth, return_address, link_register, caller,
// file, trap_instruction, divisor, divisor_value, sender_pid, sender_uid, reraised_by,
// reraised_signal, abort_message, cause, assertion, assert_file, assert_line,
// assert_function, heap_check, exception_type, required_alignment, misaligned_by,
// signal_delivery, privileged_instruction, pointer_tag, rseq_area, rseq_cs, rseq_problem, writes_near_area,
// sigreturn_call, signal_frame, segment_selector.
type Diagnosis struct {
	Kind    string
	Summary string
	// Evidence is ordered as it should be printed; EvidenceMap gives the JSON object.
	Evidence []Item
	Rules    []RuleMatch
}

// EvidenceMap returns the evidence as a map (for the JSON "evidence" object).
func (d *Diagnosis) EvidenceMap() map[string]string {
	m := make(map[string]string, len(d.Evidence))
	for _, it := range d.Evidence {
		m[it.Key] = it.Value
	}
	return m
}

// Get returns one evidence value.
func (d *Diagnosis) Get(key string) (string, bool) {
	for _, it := range d.Evidence {
		if it.Key == key {
			return it.Value, true
		}
	}
	return "", false
}

func (d *Diagnosis) add(key, format string, args ...any) {
	v := fmt.Sprintf(format, args...)
	for i := range d.Evidence {
		if d.Evidence[i].Key == key {
			d.Evidence[i].Value = v
			return
		}
	}
	d.Evidence = append(d.Evidence, Item{key, v})
}

// Diagnose classifies the crash and matches rules (DefaultRules when rules is nil).
func Diagnose(f *Facts, rules []Rule) Diagnosis {
	d := Classify(f)
	if rules == nil {
		rules = DefaultRules()
	}
	d.Rules = Match(rules, f, &d)
	return d
}

// mappingAt returns the mapping holding addr, or nil.
func mappingAt(ms []Mapping, addr uint64) *Mapping {
	for i := range ms {
		if ms[i].Start <= addr && addr < ms[i].End {
			return &ms[i]
		}
	}
	return nil
}
