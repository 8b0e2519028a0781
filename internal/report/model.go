// Package report is coredig's output model and its renderers (text, markdown, JSON).
//
// The JSON form is a contract (doc/json-schema.md): field names carry explicit tags, the
// schema version is in Schema, addresses and register values are hex strings ("0x7f3a…")
// because JSON numbers lose precision above 2^53, and facts that are absent are omitted,
// never a fake 0. Within schema major version 1 fields are only added, never renamed or
// repurposed.
package report

import "fmt"

// SchemaVersion is the value of the top-level "schema" field.
const SchemaVersion = "coredig/1"

// Hex is an address or register value rendered as a hex string in JSON.
type Hex uint64

// MarshalText renders "0x…".
func (h Hex) MarshalText() ([]byte, error) { return []byte(fmt.Sprintf("%#x", uint64(h))), nil }

func (h Hex) String() string { return fmt.Sprintf("%#x", uint64(h)) }

// HexPtr returns a pointer to a Hex, for optional fields.
func HexPtr(v uint64) *Hex { h := Hex(v); return &h }

// Report is everything coredig says about one core.
type Report struct {
	Schema     string     `json:"schema"`
	Generator  string     `json:"generator,omitempty"` // "coredig 0.1.0"
	Process    Process    `json:"process"`
	Core       CoreInfo   `json:"core"`
	Signal     *Signal    `json:"signal,omitempty"`
	CrashedTID *int       `json:"crashed_tid,omitempty"`
	Signature  *Signature `json:"signature,omitempty"` // set by the full report
	Threads    []Thread   `json:"threads"`
	Groups     []Group    `json:"groups,omitempty"`
	Python     *Python    `json:"python,omitempty"`
	Go         *Go        `json:"go,omitempty"`
	Diagnosis  *Diagnosis `json:"diagnosis,omitempty"`
	Modules    []Module   `json:"modules"`
	Mappings   []Mapping  `json:"mappings,omitempty"`
	Auxv       []Auxv     `json:"auxv,omitempty"`
	Notes      *NoteStats `json:"notes,omitempty"`
	Coverage   *Coverage  `json:"coverage,omitempty"`
	// Disassembly is what `coredig disasm` was asked for.
	Disassembly *Disassembly `json:"disassembly,omitempty"`
	Warnings    []string     `json:"warnings"`
}

// Signature names a crash so that the same bug gets the same signature across runs,
// ASLR, machines and rebuilds (internal/signature): Class is what happened
// ("null_pointer_dereference", "assertion_failed: x == N", "uncaught_exception:
// std::runtime_error"), Frames the top frames of the crashing thread that may identify a
// bug, innermost first, and Text the one line made of both, the key triage groups by.
type Signature struct {
	Text   string   `json:"text"`
	Class  string   `json:"class"`
	Frames []string `json:"frames"`
}

// Process describes the process that dumped core.
type Process struct {
	PID        *int     `json:"pid,omitempty"`
	PPID       *int     `json:"ppid,omitempty"`
	UID        *uint32  `json:"uid,omitempty"`
	GID        *uint32  `json:"gid,omitempty"`
	Executable string   `json:"executable,omitempty"`
	Command    string   `json:"command,omitempty"` // pr_fname, at most 15 bytes
	Args       []string `json:"args,omitempty"`
	// ArgsTruncated is set when Args come from pr_psargs, which keeps only the first
	// 80 bytes of the argument block.
	ArgsTruncated bool `json:"args_truncated,omitempty"`
	// ArgsSource says where Args come from: "stack" (the exact argv of the initial
	// stack) or "psinfo" (pr_psargs split on spaces).
	ArgsSource string `json:"args_source,omitempty"`
	Arch       string `json:"arch"`
	// ArchLimit is set for an architecture coredig reads from the notes only (ppc,
	// big-endian ppc64, 31-bit s390, sparc64, x32, m68k): what it does not do there.
	ArchLimit *ArchLimit `json:"arch_limit,omitempty"`
	State     string     `json:"state,omitempty"`
}

// ArchLimit says how far coredig reads a core of an architecture it has no unwinder for.
type ArchLimit struct {
	// Support is "notes_only": process, signal, threads and registers, auxiliary vector
	// and mapped files from the notes; each thread's pc, not its callers; nothing read
	// from memory to explain the crash.
	Support string `json:"support"`
	// Reason names what is missing ("no unwinder for sparc64").
	Reason string `json:"reason"`
	// ByteOrder is the core's byte order: "big-endian" or "little-endian".
	ByteOrder string `json:"byte_order"`
}

// CoreInfo describes the core file itself.
type CoreInfo struct {
	Path         string `json:"path"`
	Size         int64  `json:"size"`
	ExpectedSize int64  `json:"expected_size"`
	Truncated    bool   `json:"truncated"`
	// Compression and Access say how the file was read ("none", "zstd", … and "direct",
	// "decompressed to cache FILE").
	Compression string `json:"compression,omitempty"`
	Access      string `json:"access,omitempty"`
	// Segments lists PT_LOAD segments the truncation cut (partial or missing).
	LostSegments []LostSegment     `json:"lost_segments,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"` // systemd-coredump xattrs
}

// LostSegment is a PT_LOAD segment that the truncated file does not fully hold.
type LostSegment struct {
	Start   Hex    `json:"start"`
	End     Hex    `json:"end"`
	Bytes   uint64 `json:"bytes"`   // bytes the segment should have in the file
	Present uint64 `json:"present"` // bytes actually there
	Mapping string `json:"mapping,omitempty"`
	Stack   []int  `json:"stack_of_tids,omitempty"` // threads whose stack pointer is inside
}

// Signal is the signal that killed the process.
type Signal struct {
	Number       int     `json:"number"`
	Name         string  `json:"name"`
	Meaning      string  `json:"meaning,omitempty"`
	Code         int     `json:"code"`
	CodeName     string  `json:"code_name,omitempty"`
	CodeMeaning  string  `json:"code_meaning,omitempty"`
	Errno        int     `json:"errno,omitempty"`
	Address      *Hex    `json:"address,omitempty"`
	SenderPID    *int    `json:"sender_pid,omitempty"`
	SenderUID    *uint32 `json:"sender_uid,omitempty"`
	SenderIsSelf *bool   `json:"sender_is_self,omitempty"`
	// Source is "NT_SIGINFO", or "NT_PRSTATUS" when the core has no siginfo and only
	// the signal number is known.
	Source string `json:"source"`
}

// Thread is one thread with its registers and frames.
type Thread struct {
	TID       int            `json:"tid"`
	Crashed   bool           `json:"crashed"`
	Signal    int            `json:"signal,omitempty"`
	Registers map[string]Hex `json:"registers"`
	// WideRegisters are the registers wider than 64 bits (vector registers, x87's
	// 80-bit stack), name -> hex string; text shows them in the order of WideOrder.
	WideRegisters map[string]string `json:"wide_registers,omitempty"`
	WideOrder     []string          `json:"-"`
	Frames        []Frame           `json:"frames"`
	Error         string            `json:"error,omitempty"`
	// Waiting is what the thread is blocked on, when it is blocked in a system call.
	Waiting *Waiting `json:"waiting,omitempty"`
}

// Waiting is what one thread waits for: a lock (with the thread holding it), the GIL, a
// thread to exit, or a system call that waits on something outside the process.
type Waiting struct {
	// Kind is "mutex", "rwlock", "condvar", "semaphore", "futex", "thread_join", "gil",
	// "python_lock" or "syscall"; a goroutine's is "mutex" (a sync.Mutex), "rwlock" (a
	// sync.RWMutex), "channel" or "semaphore".
	Kind    string `json:"kind"`
	Address *Hex   `json:"address,omitempty"`
	// OwnerTID is the thread holding it; absent when it has no owner or the owner is
	// unknown. OwnerOutside says the owner is no thread of this process.
	OwnerTID *int `json:"owner_tid,omitempty"`
	// OwnerGoroutine is the goroutine holding the sync.Mutex a goroutine waits for, when
	// it can be inferred (a sync.Mutex records no owner).
	OwnerGoroutine *uint64 `json:"owner_goroutine,omitempty"`
	OwnerOutside   bool    `json:"owner_outside,omitempty"`
	OwnerDied      bool    `json:"owner_died,omitempty"`
	Syscall        string  `json:"syscall,omitempty"` // the call's name: "futex", "read"
	// Call is the call with its arguments: "futex(0x…, FUTEX_WAIT_PRIVATE, 2, NULL)".
	Call string `json:"call,omitempty"`
	// Text is the one-line description a thread's header shows.
	Text   string `json:"text,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Where is the place in the program where the thread blocked.
	Where string `json:"where,omitempty"`
}

// Frame is one stack frame.
type Frame struct {
	Index          int    `json:"index"`
	PC             Hex    `json:"pc"`
	Module         string `json:"module,omitempty"`
	ModuleOffset   *Hex   `json:"module_offset,omitempty"`
	Function       string `json:"function,omitempty"`
	FunctionOffset *Hex   `json:"function_offset,omitempty"`
	File           string `json:"file,omitempty"`
	Line           int    `json:"line,omitempty"`
	Inlined        bool   `json:"inlined"`
	FoundBy        string `json:"found_by"`
	Error          string `json:"error,omitempty"`
	// SymbolError says why the frame's function or file:line could not be read (damaged
	// DWARF); unlike Error, the unwind went on past it.
	SymbolError string `json:"symbol_error,omitempty"`
	Unverified  bool   `json:"unverified,omitempty"`
	// Python lists the Python frames this native frame (a _PyEval_EvalFrameDefault
	// call) was executing, innermost first.
	Python []PythonFrame `json:"python,omitempty"`
	// Locals are the parameters and local variables visible at the frame's pc, from
	// DWARF (crashing thread only), innermost scope first.
	Locals []Local `json:"locals,omitempty"`
}

// Local is one variable of a frame.
type Local struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Param bool   `json:"param,omitempty"`
	// Value is the value as C would print it ("0x0", "42", "'a'", "{...}"); empty with
	// Error when it could not be read (optimized out, register not saved, unreadable).
	Value string `json:"value,omitempty"`
	Error string `json:"error,omitempty"`
}

// Module is one loaded ELF object.
type Module struct {
	Path         string    `json:"path"`
	File         string    `json:"file,omitempty"` // the file used on disk
	BuildID      string    `json:"build_id,omitempty"`
	FileBuildID  string    `json:"file_build_id,omitempty"`
	Base         Hex       `json:"base"`
	Bias         *Hex      `json:"load_bias,omitempty"`
	Start        Hex       `json:"start"`
	End          Hex       `json:"end"`
	Status       string    `json:"status"`
	Source       string    `json:"source"`
	SymbolSource string    `json:"symbol_source,omitempty"`
	DebugFile    string    `json:"debug_file,omitempty"`
	Executable   bool      `json:"executable,omitempty"`
	VDSO         bool      `json:"vdso,omitempty"`
	Search       []Attempt `json:"search,omitempty"`
	Notes        []string  `json:"notes,omitempty"`
}

// Attempt is one place searched for a module's file.
type Attempt struct {
	Path   string `json:"path"`
	What   string `json:"what"`
	Result string `json:"result"`
	OK     bool   `json:"ok"`
}

// Mapping is one memory mapping with what the core holds of it.
type Mapping struct {
	Start      Hex    `json:"start"`
	End        Hex    `json:"end"`
	Perms      string `json:"perms"`
	FileOffset *Hex   `json:"file_offset,omitempty"`
	Name       string `json:"name,omitempty"`
	// InCore is how many bytes of the mapping the core file holds; Dumped what the
	// kernel wrote (InCore < Dumped when truncated).
	Dumped uint64 `json:"dumped"`
	InCore uint64 `json:"in_core"`
}

// Auxv is one auxiliary vector entry.
type Auxv struct {
	Name  string `json:"name"`
	Value Hex    `json:"value"`
	Str   string `json:"string,omitempty"`
	// Flags name the bits set in AT_HWCAP and AT_HWCAP2 where the architecture has a
	// table for them.
	Flags []string `json:"flags,omitempty"`
}

// NoteStats counts the notes of the core.
type NoteStats struct {
	Total   int            `json:"total"`
	ByType  map[string]int `json:"by_type"`
	Unknown int            `json:"unknown"`
	FPRegs  int            `json:"fpregs_size,omitempty"`
	XState  int            `json:"xstate_size,omitempty"`
}

// Python is the CPython interpreter state (the "python" object of the contract).
type Python struct {
	Version       string `json:"version"`
	VersionSource string `json:"version_source,omitempty"`
	LayoutSource  string `json:"layout_source,omitempty"`
	// Finalizing is null when _PyRuntime._finalizing could not be read.
	Finalizing    *bool   `json:"finalizing"`
	FinalizingTID *uint64 `json:"finalizing_tid,omitempty"`
	GILHolderTID  *uint64 `json:"gil_holder_tid,omitempty"`
	GCCollecting  *bool   `json:"gc_collecting,omitempty"`
	// ShutdownStage is where the interpreter's shutdown was, from the finalizing flag and
	// the native stack together: "thread_shutdown", "atexit" (the flag is not yet set
	// then), "module_teardown", "final_gc", "finalizing" (no stage known); "" when it
	// was not shutting down.
	ShutdownStage string `json:"shutdown_stage,omitempty"`
	// ShutdownEvidence says what showed the stage: "_PyAtExit_Call in Py_FinalizeEx on
	// thread 1234", "the finalizing flag".
	ShutdownEvidence string `json:"shutdown_evidence,omitempty"`
	// ShutdownRan is the Python code the shutdown ran on that thread (its outermost
	// Python frame): "Boom.__del__ (finalize_crash.py:16)".
	ShutdownRan  string         `json:"shutdown_ran,omitempty"`
	Interpreters int            `json:"interpreters"`
	Threads      []PythonThread `json:"threads"`
	Warnings     []string       `json:"warnings,omitempty"`
	// Error is set when no Python state could be read although CPython is present.
	Error string `json:"error,omitempty"`
}

// PythonThread is one PyThreadState with its Python frames, innermost first.
type PythonThread struct {
	TID         *uint64       `json:"tid,omitempty"`
	TIDSource   string        `json:"tid_source,omitempty"`
	ThreadState Hex           `json:"thread_state"`
	Interpreter int64         `json:"interpreter"`
	GILHolder   bool          `json:"gil_holder"`
	Frames      []PythonFrame `json:"frames"`
	Error       string        `json:"error,omitempty"`
}

// PythonFrame is one Python frame. Function is co_name, as tracebacks print it.
type PythonFrame struct {
	Function  string `json:"function"`
	QualName  string `json:"qualname,omitempty"`
	File      string `json:"file"`
	Line      int    `json:"line"`
	FirstLine int    `json:"first_line,omitempty"`
	Error     string `json:"error,omitempty"`
	// LastOfEval marks the outermost frame of one native _PyEval_EvalFrameDefault call.
	LastOfEval bool `json:"last_of_eval,omitempty"`
	// Locals are the frame's local variables: name, type name, value as repr() shows
	// None, bool, int, float, str and bytes ("<list, 3 items, at 0x...>" otherwise).
	Locals      []Local `json:"locals,omitempty"`
	LocalsError string  `json:"locals_error,omitempty"`
}

// Group is a set of threads with identical stacks. The crashing thread is always a group
// of its own. Frames are those of the first thread of the group.
type Group struct {
	Count   int     `json:"count"`
	TIDs    []int   `json:"tids"`
	Crashed bool    `json:"crashed,omitempty"`
	Frames  []Frame `json:"frames"`
}

// Coverage says what a truncated core lost: it is set only when the core is truncated.
type Coverage struct {
	// FileEnds is the offset where the core file ends (its size).
	FileEnds int64            `json:"file_ends"`
	Stacks   []StackCoverage  `json:"stacks"`
	Modules  []ModuleCoverage `json:"modules,omitempty"`
}

// StackCoverage is how much of one thread's stack, from its stack pointer to the end of
// the stack mapping, the core holds.
type StackCoverage struct {
	TID     int    `json:"tid"`
	SP      Hex    `json:"sp"`
	End     Hex    `json:"end"`
	Bytes   uint64 `json:"bytes"`
	Present uint64 `json:"present"`
	State   string `json:"state"` // "complete", "partial", "lost", "unmapped"
}

// ModuleCoverage is a module whose dumped (written) data the truncation cut.
type ModuleCoverage struct {
	Path    string `json:"path"`
	Bytes   uint64 `json:"bytes"`
	Present uint64 `json:"present"`
	State   string `json:"state"` // "partial", "lost"
}

// Diagnosis explains the crash: a classification, one sentence, and its evidence.
type Diagnosis struct {
	Kind     string            `json:"kind"`
	Summary  string            `json:"summary"`
	Evidence map[string]string `json:"evidence"`
	// EvidenceOrder lists the evidence keys in the order people read them.
	EvidenceOrder []string    `json:"evidence_order,omitempty"`
	Rules         []RuleMatch `json:"rules,omitempty"`
	// Original is the fault a crash handler caught and re-raised, recovered from the
	// kernel's signal frame on the crashing thread's stack.
	Original *Signal `json:"original_signal,omitempty"`
	// Disassembly is a window of instructions around the faulting pc.
	Disassembly []DisasmLine `json:"disassembly,omitempty"`
	// Culprit names who owns the code that matters: the crashing thread's first frame
	// outside the runtimes (C library, loader, C++ runtime, CPython, Go runtime, Rust std).
	Culprit *Culprit `json:"culprit,omitempty"`
	// Cycle lists the waits of a deadlock: each thread, the thread it waits for, the
	// lock between them and its kind.
	Cycle []CycleEdge `json:"cycle,omitempty"`
}

// Culprit is the frame of the crashing thread that matters and who ships its code.
type Culprit struct {
	// Module is the ELF module of a native frame, or the source file of a Python frame.
	Module string `json:"module,omitempty"`
	// Package and Version name the Debian package or Python distribution.
	Package string `json:"package,omitempty"`
	Version string `json:"version,omitempty"`
	// Source is "dpkg", "python-dist", "program" (the main executable or script) or
	// "unknown".
	Source string `json:"source"`
	// Frame is the frame, "crasher::level1(int) (throw.cc:35)", "on_exit (crash.py:19)".
	Frame string `json:"frame"`
	// FrameIndex is the index of the frame (for a Python frame, of the native frame
	// that ran it) in the crashing thread's frames.
	FrameIndex int  `json:"frame_index"`
	Python     bool `json:"python,omitempty"`
	// PythonCaller is the innermost Python frame of the crashing thread.
	PythonCaller string `json:"python_caller,omitempty"`
	// Evidence is the database entry that names the package (a dpkg .list, a RECORD).
	Evidence string `json:"evidence,omitempty"`
	// Runtime is set when every frame is runtime code: which runtime frame 0 is in.
	Runtime string `json:"runtime,omitempty"`
	// Error says why the package is unknown.
	Error string `json:"error,omitempty"`
}

// RuleMatch is a known pattern that matched the crash.
type RuleMatch struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Explanation string   `json:"explanation"`
	References  []string `json:"references,omitempty"`
	Source      string   `json:"source,omitempty"`
}

// DisasmLine is one disassembled instruction.
type DisasmLine struct {
	PC      Hex    `json:"pc"`
	Bytes   string `json:"bytes"`
	Text    string `json:"text"`
	Target  string `json:"target,omitempty"`
	Current bool   `json:"current,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Disassembly is a disassembled range of code.
type Disassembly struct {
	Address Hex          `json:"address"`
	Name    string       `json:"name,omitempty"` // "deref+0xc", or the symbol asked for
	Syntax  string       `json:"syntax,omitempty"`
	Lines   []DisasmLine `json:"lines"`
}

// Go is a Go program's runtime state: its goroutines, read from runtime.allgs.
type Go struct {
	// Version is runtime.buildVersion ("go1.26.8").
	Version    string      `json:"version,omitempty"`
	Goroutines []Goroutine `json:"goroutines"`
	// Groups are goroutines with identical status and stacks, in order of first id.
	Groups []GoroutineGroup `json:"groups,omitempty"`
	Error  string           `json:"error,omitempty"`
}

// Goroutine is one live goroutine.
type Goroutine struct {
	ID uint64 `json:"id"`
	// Status is the runtime's state: "running", "runnable", "waiting", "syscall",
	// "preempted", "copystack", "idle".
	Status     string `json:"status"`
	WaitReason string `json:"wait_reason,omitempty"`
	// TID is the OS thread running it (its m's procid), when it has one.
	TID *int `json:"tid,omitempty"`
	// Frames are unwound from the goroutine's saved context (g.sched). A running
	// goroutine has none: its stack is its thread's.
	Frames []Frame `json:"frames"`
	Error  string  `json:"error,omitempty"`
	// Waiting is what a parked goroutine waits on: a sync.Mutex (with the goroutine
	// holding it, when it can be inferred), a sync.RWMutex, a channel, a semaphore.
	Waiting *Waiting `json:"waiting,omitempty"`
}

// GoroutineGroup is a set of goroutines with one status, wait reason and stack.
type GoroutineGroup struct {
	Count      int      `json:"count"`
	IDs        []uint64 `json:"ids"`
	Status     string   `json:"status"`
	WaitReason string   `json:"wait_reason,omitempty"`
	Frames     []Frame  `json:"frames"`
}

// AddEvidence records one item of evidence, keeping the reading order.
func (d *Diagnosis) AddEvidence(key, value string) {
	if d.Evidence == nil {
		d.Evidence = map[string]string{}
	}
	if _, seen := d.Evidence[key]; !seen {
		d.EvidenceOrder = append(d.EvidenceOrder, key)
	}
	d.Evidence[key] = value
}

// CycleEdge is one wait of a deadlock cycle: between threads (TID, WaitsForTID), or
// between goroutines (Goroutine, WaitsForGoroutine; the tids are then absent).
type CycleEdge struct {
	TID               int     `json:"tid,omitempty"`
	WaitsForTID       int     `json:"waits_for_tid,omitempty"`
	Goroutine         *uint64 `json:"goroutine,omitempty"`
	WaitsForGoroutine *uint64 `json:"waits_for_goroutine,omitempty"`
	Lock              *Hex    `json:"lock,omitempty"`
	Kind              string  `json:"kind"`
}
