package python

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
)

// Process is what the walker needs from a process image.
type Process interface {
	Memory
	// Symbol returns the runtime address of a symbol in the module that
	// defines it (e.g. "_PyRuntime", "Py_Version"), searching the executable
	// and libpython*.so.
	Symbol(name string) (addr uint64, ok bool)
	// Threads lists the OS threads of the process.
	Threads() []OSThread
	PtrSize() int
}

// OSThread is one OS thread of the process: its kernel TID and thread
// pointer register (x86_64 fs_base or aarch64 tpidr_el0; the other is 0).
type OSThread struct {
	TID    uint64
	FSBase uint64
	TPIDR  uint64
}

// Machiner is optionally implemented by a Process to name its architecture as
// internal/arch does ("i386"). 32-bit processes need it: their layouts are per machine
// (see Layout.Machine).
type Machiner interface {
	Machine() string
}

// ByteOrderer is optionally implemented by a Process whose memory is not
// little-endian (s390x): every word, int and bit field of the interpreter is then read
// in its byte order, and only layouts generated from a build of that byte order serve.
type ByteOrderer interface {
	ByteOrder() binary.ByteOrder
}

// ModuleLister is optionally implemented by a Process to let the walker find
// the version string in the python executable or libpython when there is no
// Py_Version symbol (3.8-3.10).
type ModuleLister interface {
	Modules() []Module
}

// Module is one mapped file: its path and the address range it spans.
type Module struct {
	Path       string
	Start, End uint64
}

// State is the interpreter state read from a process.
type State struct {
	Version       string // "3.12.1"
	HexVersion    uint32 // PY_VERSION_HEX
	VersionSource string // how the version was found
	LayoutSource  string // which offsets were used
	Finalizing    bool
	// FinalizingUnknown is set when _PyRuntime._finalizing could not be read; Finalizing
	// is then false but means nothing.
	FinalizingUnknown bool
	FinalizingTID     *uint64 // OS thread finalizing the runtime, when known
	GILHolderTID      *uint64
	// GILDropRequest says whether a thread waiting for the GIL asked its holder to drop
	// it (nil when unknown for the version or unreadable).
	GILDropRequest *bool
	GCCollecting   *bool // main interpreter's gc.collecting
	Interpreters   []Interp
	Warnings       []string
}

// Interp is one interpreter (the first is the most recently created; the
// main interpreter is last, as CPython links them).
type Interp struct {
	ID      int64
	Addr    uint64
	Main    bool
	Threads []Thread
	Err     error // why the thread list is incomplete
}

// Thread is one PyThreadState.
type Thread struct {
	Addr           uint64 // PyThreadState address
	TID            uint64 // OS thread id; valid when TIDSource != ""
	TIDSource      string // "native_thread_id", "pthread_t == fs_base", "pthread_t near tpidr_el0 (guessed)"
	ThreadID       uint64 // PyThreadState.thread_id (pthread_t)
	NativeThreadID uint64 // PyThreadState.native_thread_id (3.11+), else 0
	IsGILHolder    bool
	Frames         []Frame // innermost first
	Err            error   // why Frames is incomplete
}

// Frame is one Python frame.
type Frame struct {
	Addr      uint64 // PyFrameObject or _PyInterpreterFrame address
	Code      uint64 // PyCodeObject address
	Function  string // co_name
	QualName  string // co_qualname (3.11+)
	File      string // co_filename
	Line      int    // current line, -1 when the instruction has none, 0 unknown
	FirstLine int    // co_firstlineno
	// LastOfEval marks the outermost frame run by one native call of
	// _PyEval_EvalFrameDefault: the next (outer) frame belongs to an outer call. In
	// 3.8-3.10 every frame has its own call; in 3.11 it is the frame with is_entry set;
	// in 3.12+ the frame just inside a shim frame owned by the C stack.
	LastOfEval bool
	Err        error
	// Locals are the frame's local variables (LocalsErr says why they are missing).
	Locals    []Local
	LocalsErr error
	// Localsplus is the address of the frame's localsplus array (the locals, cells and
	// frees, then the value stack), 0 when unknown for the version.
	Localsplus uint64
}

// MaxLocalsFrames bounds how many frames of a process get their locals read.
const MaxLocalsFrames = 1024

// addLocals reads the locals of fr, whose localsplus array is at offset off in the
// frame, within the budget.
func (w *walker) addLocals(fr *Frame, off int64) {
	if off < 0 {
		fr.LocalsErr = fmt.Errorf("locals are not read for this version")
		return
	}
	fr.Localsplus = fr.Addr + uint64(off)
	if w.localsLeft <= 0 {
		fr.LocalsErr = fmt.Errorf("locals read for the first %d frames only", MaxLocalsFrames)
		return
	}
	w.localsLeft--
	fr.Locals, fr.LocalsErr = w.frameLocals(fr.Code, fr.Addr+uint64(off))
}

// errBudget stops frame walks once MaxTotalFrames frames were visited.
var errBudget = fmt.Errorf("python: stopped: more than %d frames in all threads", MaxTotalFrames)

// ErrNoPython says the process has no _PyRuntime symbol.
var ErrNoPython = errors.New("python: no _PyRuntime symbol: not a CPython process or symbols unavailable")

type walker struct {
	p          Process
	r          mem
	l          Layout
	st         *State
	codeType   uint64
	haveCode   bool
	codeCache  map[uint64]*codeInfo
	byFS       map[uint64]uint64 // fs_base -> TID
	tids       map[uint64]bool
	tpidr      []OSThread
	steps      int // frame steps left for the whole walk (MaxTotalFrames)
	localsLeft int // frames that may still get their locals read (MaxLocalsFrames)
}

type codeInfo struct {
	name, qualname, file string
	firstLine            int
	table                []byte
	err                  error
}

// Analyze reads the interpreter state of p. It returns an error only when
// nothing can be said (no CPython, unsupported version, unreadable
// _PyRuntime); otherwise problems are in the State's Err fields and Warnings.
func Analyze(p Process) (*State, error) {
	if p.PtrSize() != 8 && p.PtrSize() != 4 {
		return nil, &UnsupportedError{Version: "?", Reason: fmt.Sprintf("pointer size %d (only 64-bit and 32-bit processes)", p.PtrSize())}
	}
	rt, ok := p.Symbol("_PyRuntime")
	if !ok {
		return nil, ErrNoPython
	}
	r := mem{m: p, ptr: p.PtrSize()}
	if bo, ok := p.(ByteOrderer); ok {
		r.order = bo.ByteOrder()
	}
	w := &walker{p: p, r: r, st: &State{}, codeCache: map[uint64]*codeInfo{}, steps: MaxTotalFrames, localsLeft: MaxLocalsFrames, byFS: map[uint64]uint64{}, tids: map[uint64]bool{}}
	if err := w.version(rt); err != nil {
		return nil, err
	}
	for _, t := range p.Threads() {
		w.tids[t.TID] = true
		if t.FSBase != 0 {
			w.byFS[t.FSBase] = t.TID
		}
		if t.TPIDR != 0 {
			w.tpidr = append(w.tpidr, t)
		}
	}
	w.codeType, w.haveCode = p.Symbol("PyCode_Type")
	if !w.haveCode {
		w.warn("no PyCode_Type symbol: code objects are not type-checked")
	}
	w.walk(rt)
	return w.st, nil
}

func (w *walker) warn(format string, args ...any) {
	w.st.Warnings = append(w.st.Warnings, fmt.Sprintf(format, args...))
}

// version finds the version and the layout, preferring in-memory sources.
func (w *walker) version(rt uint64) error {
	st := w.st
	if a, ok := w.p.Symbol("Py_Version"); ok {
		// const unsigned long Py_Version (Python/getversion.c): a word, whose low 32
		// bits are the version's, first on little-endian machines, last on s390x.
		word, err := w.r.word("Py_Version", a)
		v := uint32(word)
		if err == nil && word>>32 != 0 {
			err = &CorruptError{What: "Py_Version", Addr: a, Reason: fmt.Sprintf("%#x is wider than PY_VERSION_HEX", word)}
		}
		if err != nil {
			w.warn("Py_Version symbol unreadable: %v", err)
		} else if v>>24 == 3 {
			st.HexVersion, st.VersionSource = v, fmt.Sprintf("Py_Version symbol at %#x", a)
		} else {
			w.warn("Py_Version at %#x holds %#x, not a 3.x version", a, v)
		}
	}
	if st.HexVersion == 0 {
		if v, src, ok := w.versionString(); ok {
			st.HexVersion, st.VersionSource = v, src
		}
	}
	var dbg *DebugOffsets
	if hdr, err := w.r.read("_Py_DebugOffsets", rt, debugOffsetsMaxSize); err == nil {
		d, found, perr := ParseDebugOffsetsOrder(hdr, w.r.bo())
		switch {
		case found && perr != nil:
			if st.HexVersion == 0 {
				return perr
			}
			w.warn("_Py_DebugOffsets present but not used: %v", perr)
		case found:
			dbg = &d
			if st.HexVersion == 0 {
				st.HexVersion, st.VersionSource = d.Version, fmt.Sprintf("_Py_DebugOffsets.version at %#x", rt+8)
			} else if d.Version != st.HexVersion {
				w.warn("_Py_DebugOffsets.version %#x differs from %s (%#x)", d.Version, st.VersionSource, st.HexVersion)
			}
		}
	}
	if st.HexVersion == 0 {
		return &UnsupportedError{Version: "unknown", Reason: "no Py_Version symbol, no version string in a python module, no _Py_DebugOffsets"}
	}
	st.Version = FormatHexVersion(st.HexVersion)
	ptr, machine, big := w.r.ptr, "", w.r.bo() == binary.BigEndian
	if m, ok := w.p.(Machiner); ok {
		machine = m.Machine()
	}
	base, ok := LayoutFor(st.HexVersion, ptr, machine, big)
	_, have313 := LayoutFor(0x030d0000, ptr, machine, big)
	switch {
	case dbg != nil && (ok || have313):
		if !ok {
			base, _ = LayoutFor(0x030d0000, ptr, machine, big)
			base.MinVersion, base.MaxVersion = st.HexVersion, st.HexVersion
			base.RuntimeInterpretersMain, base.RuntimeFinalizingID, base.CodeFirstTraceable = -1, -1, -1
			// _Py_DebugOffsets publishes no GIL drop request.
			base.RuntimeGILDropRequest, base.InterpGILDropRequest, base.TstateEvalBreaker = -1, -1, -1
			base.Source = "(unpublished fields assumed as in " + base.Source + ")"
			w.warn("CPython %s: str state bits and other fields not in _Py_DebugOffsets are guessed from the 3.13 layout", st.Version)
		}
		w.l = dbg.apply(base)
		st.LayoutSource = fmt.Sprintf("_Py_DebugOffsets in memory at %#x; other fields from %s", rt, base.Source)
	case ok:
		w.l = base
		st.LayoutSource = base.Source
	case ptr != 8:
		return &UnsupportedError{Version: st.Version, Reason: fmt.Sprintf("no generated layout for %d-bit builds of this version on %q", 8*ptr, machine)}
	case big:
		return &UnsupportedError{Version: st.Version, Reason: fmt.Sprintf("no generated layout for big-endian builds of this version on %q", machine)}
	default:
		return &UnsupportedError{Version: st.Version, Reason: "no generated layout and no _Py_DebugOffsets"}
	}
	return nil
}

// versionString looks for the PY_VERSION string ("3.9.18") in the mapped
// python executable or libpython, whose file name gives the minor version.
func (w *walker) versionString() (uint32, string, bool) {
	ml, ok := w.p.(ModuleLister)
	if !ok {
		return 0, "", false
	}
	nameRE := regexp.MustCompile(`^(?:lib)?python3\.([0-9]+)`)
	const maxScan = 64 << 20
	const chunk = 1 << 20
	for _, m := range ml.Modules() {
		mm := nameRE.FindStringSubmatch(path.Base(m.Path))
		if mm == nil || m.End <= m.Start {
			continue
		}
		minor, _ := strconv.Atoi(mm[1])
		re := regexp.MustCompile(`[^0-9.]3\.` + mm[1] + `\.([0-9]+)\x00`)
		end := m.End
		if end-m.Start > maxScan {
			end = m.Start + maxScan
		}
		buf := make([]byte, chunk+32)
		for a := m.Start; a < end; a += chunk {
			n, _ := w.p.ReadAt(buf, a)
			if n <= 0 {
				continue
			}
			if loc := re.FindSubmatchIndex(buf[:n]); loc != nil {
				patch, err := strconv.Atoi(string(buf[loc[2]:loc[3]]))
				if err != nil || patch > 255 {
					continue
				}
				v := uint32(3)<<24 | uint32(minor)<<16 | uint32(patch)<<8 | 0xf0
				return v, fmt.Sprintf("version string %q at %#x in %s", bytes.Trim(buf[loc[0]+1:loc[1]], "\x00"), a+uint64(loc[0])+1, m.Path), true
			}
		}
	}
	return 0, "", false
}

func (w *walker) walk(rt uint64) {
	l, st, r := &w.l, w.st, w.r

	// Finalizing: _PyRuntime._finalizing is the finalizing PyThreadState.
	var finTstate uint64
	if fin, err := r.ptrField(rt, l.RuntimeFinalizing, "_PyRuntimeState._finalizing"); err != nil {
		st.FinalizingUnknown = true
		w.warn("%v", err)
	} else if fin != 0 {
		st.Finalizing, finTstate = true, fin
	}
	var finID uint64
	if l.RuntimeFinalizingID >= 0 {
		if id, err := r.ptrField(rt, l.RuntimeFinalizingID, "_PyRuntimeState._finalizing_id"); err == nil {
			finID = id
		}
	}

	// GIL holder (3.8-3.11: one GIL in _PyRuntime.ceval).
	var gilHolder uint64
	if l.RuntimeGIL >= 0 {
		gilHolder = w.gilHolder(rt+uint64(l.RuntimeGIL), "_PyRuntime.ceval.gil")
		if l.RuntimeTstateCurrent >= 0 {
			cur, err := r.ptrField(rt, l.RuntimeTstateCurrent, "_PyRuntimeState.gilstate.tstate_current")
			if err == nil && cur != 0 && gilHolder != 0 && cur != gilHolder {
				w.warn("gilstate.tstate_current %#x differs from gil.last_holder %#x", cur, gilHolder)
			}
		}
	}
	if l.RuntimeGCCollecting >= 0 {
		if v, err := r.u32Field(rt, l.RuntimeGCCollecting, "_PyRuntimeState.gc.collecting"); err == nil {
			b := v != 0
			st.GCCollecting = &b
		}
	}

	var mainInterp uint64
	if l.RuntimeInterpretersMain >= 0 {
		mainInterp, _ = r.ptrField(rt, l.RuntimeInterpretersMain, "_PyRuntimeState.interpreters.main")
	}
	head, err := r.ptrField(rt, l.RuntimeInterpretersHead, "_PyRuntimeState.interpreters.head")
	if err != nil {
		w.warn("no interpreters: %v", err)
		return
	}
	seen := map[uint64]bool{}
	tstates := map[uint64]*Thread{}
	var lastInterp uint64
	for in := head; in != 0; {
		if len(st.Interpreters) >= MaxInterpreters {
			w.warn("interpreter list longer than %d: stopped", MaxInterpreters)
			break
		}
		if seen[in] {
			w.warn("interpreter list has a cycle at %#x", in)
			break
		}
		seen[in] = true
		it := Interp{Addr: in, Main: in == mainInterp}
		var id uint64
		a, err := field(in, l.InterpID, "PyInterpreterState.id")
		if err == nil {
			id, err = r.u64("PyInterpreterState.id", a) // int64_t on every platform
		}
		if err != nil {
			it.Err = err
			st.Interpreters = append(st.Interpreters, it)
			break
		}
		it.ID = int64(id)
		if l.InterpGILPtr >= 0 {
			if g, err := r.ptrField(in, l.InterpGILPtr, "PyInterpreterState.ceval.gil"); err == nil && g != 0 {
				if h := w.gilHolder(g, "PyInterpreterState.ceval.gil"); h != 0 && (gilHolder == 0 || in == mainInterp) {
					gilHolder = h
				}
			}
		}
		it.Threads, it.Err = w.threads(in)
		for i := range it.Threads {
			tstates[it.Threads[i].Addr] = &it.Threads[i]
		}
		st.Interpreters = append(st.Interpreters, it)
		lastInterp = in
		next, err := r.ptrField(in, l.InterpNext, "PyInterpreterState.next")
		if err != nil {
			w.warn("%v", err)
			break
		}
		in = next
	}
	if mainInterp == 0 {
		mainInterp = lastInterp
		for i := range st.Interpreters {
			st.Interpreters[i].Main = st.Interpreters[i].Addr == mainInterp
		}
	}
	if l.InterpGCCollecting >= 0 && mainInterp != 0 {
		if v, err := r.u32Field(mainInterp, l.InterpGCCollecting, "PyInterpreterState.gc.collecting"); err == nil {
			b := v != 0
			st.GCCollecting = &b
		}
	}
	st.GILDropRequest = w.dropRequest(rt, mainInterp, gilHolder)
	if gilHolder != 0 {
		if t := tstates[gilHolder]; t != nil {
			t.IsGILHolder = true
			if t.TIDSource != "" {
				tid := t.TID
				st.GILHolderTID = &tid
			}
		} else {
			w.warn("GIL holder %#x is not in any interpreter's thread list", gilHolder)
		}
	}
	if st.Finalizing {
		if t := tstates[finTstate]; t != nil && t.TIDSource != "" {
			tid := t.TID
			st.FinalizingTID = &tid
		} else if finID != 0 {
			if tid, _, ok := w.matchPthread(finID); ok {
				st.FinalizingTID = &tid
			}
		}
		if st.FinalizingTID == nil {
			w.warn("runtime is finalizing (thread state %#x) but its OS thread is unknown", finTstate)
		}
	}
}

// dropRequest reads the GIL drop request: a word of the runtime (3.8) or of the main
// interpreter (3.9-3.12), or bit 0 of the holder's eval_breaker (3.13). Offsets of 0 or
// less mean the version has no such field.
func (w *walker) dropRequest(rt, interp, holder uint64) *bool {
	l, r := &w.l, w.r
	var v uint32
	var err error
	switch {
	case l.RuntimeGILDropRequest > 0:
		v, err = r.u32Field(rt, l.RuntimeGILDropRequest, "_PyRuntime.ceval.gil_drop_request")
	case l.InterpGILDropRequest > 0 && interp != 0:
		v, err = r.u32Field(interp, l.InterpGILDropRequest, "PyInterpreterState.ceval.gil_drop_request")
	case l.TstateEvalBreaker > 0 && holder != 0:
		v, err = r.u32Field(holder, l.TstateEvalBreaker, "PyThreadState.eval_breaker")
		v &= 1 // _PY_GIL_DROP_REQUEST_BIT (Include/internal/pycore_ceval.h)
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	b := v != 0
	return &b
}

// gilHolder returns gil.last_holder when gil.locked, else 0.
func (w *walker) gilHolder(gil uint64, what string) uint64 {
	locked, err := w.r.u32Field(gil, w.l.GILLocked, what+".locked")
	if err != nil {
		w.warn("%v", err)
		return 0
	}
	if locked == 0 {
		return 0
	}
	h, err := w.r.ptrField(gil, w.l.GILLastHolder, what+".last_holder")
	if err != nil {
		w.warn("%v", err)
		return 0
	}
	return h
}

func (w *walker) matchPthread(pt uint64) (uint64, string, bool) {
	if tid, ok := w.byFS[pt]; ok {
		return tid, "pthread_t == fs_base", true
	}
	// aarch64 glibc: pthread_self() = tpidr_el0 - sizeof(struct pthread);
	// the size depends on the glibc build, so accept one thread within 4 KiB.
	var found []uint64
	for _, t := range w.tpidr {
		if t.TPIDR > pt && t.TPIDR-pt <= 0x1000 {
			found = append(found, t.TID)
		}
	}
	if len(found) == 1 {
		return found[0], "pthread_t near tpidr_el0 (guessed)", true
	}
	return 0, "", false
}

func (w *walker) threads(interp uint64) ([]Thread, error) {
	l, r := &w.l, w.r
	ts, err := r.ptrField(interp, l.InterpThreadsHead, "PyInterpreterState.threads.head")
	if err != nil {
		return nil, err
	}
	var out []Thread
	seen := map[uint64]bool{}
	for ts != 0 {
		if len(out) >= MaxThreads {
			return out, &CorruptError{What: "thread state list", Addr: interp, Reason: fmt.Sprintf("longer than %d", MaxThreads)}
		}
		if seen[ts] {
			return out, &CorruptError{What: "thread state list", Addr: ts, Reason: "cycle"}
		}
		seen[ts] = true
		t := Thread{Addr: ts}
		var err error
		if t.ThreadID, err = r.ptrField(ts, l.TstateThreadID, "PyThreadState.thread_id"); err != nil {
			t.Err = err
			out = append(out, t)
			return out, err
		}
		if l.TstateNativeThreadID >= 0 {
			t.NativeThreadID, _ = r.ptrField(ts, l.TstateNativeThreadID, "PyThreadState.native_thread_id")
		}
		switch {
		case t.NativeThreadID != 0:
			t.TID, t.TIDSource = t.NativeThreadID, "native_thread_id"
		default:
			if tid, how, ok := w.matchPthread(t.ThreadID); ok {
				t.TID, t.TIDSource = tid, how
			}
		}
		t.Frames, t.Err = w.frames(ts)
		out = append(out, t)
		next, err := r.ptrField(ts, l.TstateNext, "PyThreadState.next")
		if err != nil {
			return out, err
		}
		ts = next
	}
	return out, nil
}

func (w *walker) frames(ts uint64) ([]Frame, error) {
	if w.l.IFrameSize < 0 {
		return w.frameObjects(ts)
	}
	return w.interpreterFrames(ts)
}

// frameObjects walks the 3.8-3.10 PyFrameObject chain.
func (w *walker) frameObjects(ts uint64) ([]Frame, error) {
	l, r := &w.l, w.r
	f, err := r.ptrField(ts, l.TstateFrame, "PyThreadState.frame")
	if err != nil {
		return nil, err
	}
	var out []Frame
	seen := map[uint64]bool{}
	for f != 0 {
		if len(out) >= MaxFrames {
			return out, &CorruptError{What: "frame chain", Addr: ts, Reason: fmt.Sprintf("longer than %d frames", MaxFrames)}
		}
		if w.steps--; w.steps < 0 {
			return out, errBudget
		}
		if seen[f] {
			return out, &CorruptError{What: "frame chain", Addr: f, Reason: "cycle"}
		}
		seen[f] = true
		fr := Frame{Addr: f, LastOfEval: true}
		back, err := r.ptrField(f, l.FrameObjBack, "PyFrameObject.f_back")
		if err != nil {
			fr.Err = err
			out = append(out, fr)
			return out, err
		}
		fr.Err = w.fillFrameObject(&fr)
		out = append(out, fr)
		f = back
	}
	return out, nil
}

func (w *walker) fillFrameObject(fr *Frame) error {
	l, r := &w.l, w.r
	code, err := r.ptrField(fr.Addr, l.FrameObjCode, "PyFrameObject.f_code")
	if err != nil {
		return err
	}
	fr.Code = code
	ci := w.code(code)
	fr.Function, fr.QualName, fr.File, fr.FirstLine = ci.name, ci.qualname, ci.file, ci.firstLine
	if ci.err != nil {
		return ci.err
	}
	w.addLocals(fr, l.FrameObjLocalsplus)
	lasti, err := r.u32Field(fr.Addr, l.FrameObjLasti, "PyFrameObject.f_lasti")
	if err != nil {
		return err
	}
	trace, err := r.ptrField(fr.Addr, l.FrameObjTrace, "PyFrameObject.f_trace")
	if err != nil {
		return err
	}
	if trace != 0 { // PyFrame_GetLineNumber: f_lineno is maintained while tracing
		ln, err := r.u32Field(fr.Addr, l.FrameObjLineno, "PyFrameObject.f_lineno")
		if err != nil {
			return err
		}
		fr.Line = int(int32(ln))
		return nil
	}
	if l.minor() >= 10 { // f_lasti counts code units
		fr.Line = LineFromLinetable310(ci.table, ci.firstLine, int(int32(lasti))*2)
	} else {
		fr.Line = LineFromLnotab(ci.table, ci.firstLine, int(int32(lasti)))
	}
	return nil
}

// interpreterFrames walks the 3.11+ _PyInterpreterFrame chain, skipping
// frames CPython itself hides: shim frames owned by the C stack (3.12+) and
// incomplete frames that have not run their first traceable instruction.
func (w *walker) interpreterFrames(ts uint64) ([]Frame, error) {
	l, r := &w.l, w.r
	var f uint64
	var err error
	if l.TstateCurrentFrame >= 0 {
		f, err = r.ptrField(ts, l.TstateCurrentFrame, "PyThreadState.current_frame")
	} else {
		var cf uint64
		cf, err = r.ptrField(ts, l.TstateCFrame, "PyThreadState.cframe")
		if err == nil && cf != 0 {
			f, err = r.ptrField(cf, l.CFrameCurrentFrame, "_PyCFrame.current_frame")
		}
	}
	if err != nil {
		return nil, err
	}
	var out []Frame
	seen := map[uint64]bool{}
	for steps := 0; f != 0; steps++ {
		if steps >= MaxFrames {
			return out, &CorruptError{What: "frame chain", Addr: ts, Reason: fmt.Sprintf("longer than %d frames", MaxFrames)}
		}
		if w.steps--; w.steps < 0 {
			return out, errBudget
		}
		if seen[f] {
			return out, &CorruptError{What: "frame chain", Addr: f, Reason: "cycle"}
		}
		seen[f] = true
		prev, err := r.ptrField(f, l.IFramePrevious, "_PyInterpreterFrame.previous")
		if err != nil {
			out = append(out, Frame{Addr: f, Err: err})
			return out, err
		}
		fr := Frame{Addr: f}
		skip, entry, err := w.fillInterpreterFrame(&fr)
		fr.Err = err
		switch {
		case !skip:
			fr.LastOfEval = entry
			out = append(out, fr)
		case entry && len(out) > 0:
			out[len(out)-1].LastOfEval = true
		}
		f = prev
	}
	return out, nil
}

// fillInterpreterFrame reads one _PyInterpreterFrame. skip reports a frame CPython
// hides; entry reports the boundary of a native _PyEval_EvalFrameDefault call (3.11: this
// frame has is_entry; 3.12+: this is the C-stack shim frame that starts a call).
func (w *walker) fillInterpreterFrame(fr *Frame) (skip, entry bool, err error) {
	l, r := &w.l, w.r
	owner, err := r.u8("_PyInterpreterFrame.owner", fr.Addr+uint64(l.IFrameOwner))
	if err != nil {
		return false, false, err
	}
	minor := l.minor()
	switch {
	case minor == 11:
		if l.IFrameIsEntry >= 0 {
			e, err := r.u8("_PyInterpreterFrame.is_entry", fr.Addr+uint64(l.IFrameIsEntry))
			entry = err == nil && e != 0
		}
	case minor == 12 || minor == 13:
		if owner == frameOwnedByCStack312 {
			return true, true, nil
		}
	case minor >= 14:
		if owner >= 3 { // FRAME_OWNED_BY_INTERPRETER, FRAME_OWNED_BY_CSTACK
			return true, owner == 4, nil
		}
	}
	code, err := r.ptrField(fr.Addr, l.IFrameCode, "_PyInterpreterFrame.f_code")
	if err != nil {
		return false, entry, err
	}
	if minor >= 14 {
		code &^= 7 // _PyStackRef tag bits (Include/internal/pycore_stackref.h)
	}
	fr.Code = code
	ci := w.code(code)
	fr.Function, fr.QualName, fr.File, fr.FirstLine = ci.name, ci.qualname, ci.file, ci.firstLine
	if ci.err != nil {
		return false, entry, ci.err
	}
	w.addLocals(fr, l.IFrameLocalsplus)
	instr, err := r.ptrField(fr.Addr, l.IFrameInstr, "_PyInterpreterFrame.instr_ptr")
	if err != nil {
		return false, entry, err
	}
	start := code + uint64(l.CodeCodeAdaptive)
	if owner != frameOwnedByGenerator && l.CodeFirstTraceable >= 0 {
		ft, err := r.u32Field(code, l.CodeFirstTraceable, "PyCodeObject._co_firsttraceable")
		if err == nil && int64(instr) < int64(start)+2*int64(int32(ft)) {
			return true, false, nil // incomplete frame (_PyFrame_IsIncomplete)
		}
	}
	lasti := (int64(instr) - int64(start)) / 2
	if lasti > 1<<30 || lasti < -1<<30 {
		return false, entry, &CorruptError{What: "_PyInterpreterFrame.instr_ptr", Addr: fr.Addr, Reason: fmt.Sprintf("%#x is far from the code at %#x", instr, start)}
	}
	fr.Line = LineFromLocationTable(ci.table, ci.firstLine, int(lasti)*2)
	return false, entry, nil
}

// code reads a code object's names and line table once per address.
func (w *walker) code(addr uint64) *codeInfo {
	if ci, ok := w.codeCache[addr]; ok {
		return ci
	}
	ci := &codeInfo{}
	if len(w.codeCache) < 1<<16 {
		w.codeCache[addr] = ci
	}
	l, r := &w.l, w.r
	if addr == 0 {
		ci.err = &CorruptError{What: "code object", Addr: addr, Reason: "NULL"}
		return ci
	}
	if w.haveCode {
		typ, err := r.ptrField(addr, l.ObjectType, "PyCodeObject.ob_type")
		if err != nil {
			ci.err = err
			return ci
		}
		if typ != w.codeType {
			ci.err = &CorruptError{What: "code object", Addr: addr, Reason: fmt.Sprintf("ob_type %#x is not PyCode_Type %#x", typ, w.codeType)}
			return ci
		}
	}
	var errs []error
	get := func(off int64, what string) string {
		if off < 0 {
			return ""
		}
		p, err := r.ptrField(addr, off, what)
		if err == nil {
			var s string
			s, err = r.str(l, p, what)
			if err == nil {
				return s
			}
		}
		errs = append(errs, err)
		return ""
	}
	ci.name = get(l.CodeName, "PyCodeObject.co_name")
	ci.qualname = get(l.CodeQualname, "PyCodeObject.co_qualname")
	ci.file = get(l.CodeFilename, "PyCodeObject.co_filename")
	if fl, err := r.u32Field(addr, l.CodeFirstLineno, "PyCodeObject.co_firstlineno"); err != nil {
		errs = append(errs, err)
	} else {
		ci.firstLine = int(int32(fl))
	}
	tabOff, what := l.CodeLinetable, "PyCodeObject.co_linetable"
	if l.CodeLnotab >= 0 {
		tabOff, what = l.CodeLnotab, "PyCodeObject.co_lnotab"
	}
	if p, err := r.ptrField(addr, tabOff, what); err != nil {
		errs = append(errs, err)
	} else if ci.table, err = r.bytes(l, p, MaxLineTable, what); err != nil {
		errs = append(errs, err)
	}
	ci.err = errors.Join(errs...)
	return ci
}
