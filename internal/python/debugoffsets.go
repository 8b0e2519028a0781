package python

import (
	"encoding/binary"
	"fmt"
)

// DebugCookie starts _Py_DebugOffsets, the first member of _PyRuntime in
// CPython 3.13+.
const DebugCookie = "xdebugpy"

// DebugOffsets is the decoded prefix of _Py_DebugOffsets that the walker uses.
// Field order follows CPython 3.13 Include/internal/pycore_runtime.h and
// 3.14 Include/internal/pycore_debug_offsets.h; 3.14 inserted
// interpreter_state.threads_main and interpreter_frame.stackpointer.
type DebugOffsets struct {
	Version      uint32 // PY_VERSION_HEX
	FreeThreaded bool

	RuntimeSize, RuntimeFinalizing, RuntimeInterpretersHead uint64

	InterpSize, InterpID, InterpNext, InterpThreadsHead, InterpThreadsMain uint64
	InterpGC, InterpCevalGIL, InterpGILRuntimeState                        uint64
	InterpGILLocked, InterpGILHolder                                       uint64

	TstateSize, TstatePrev, TstateNext, TstateInterp, TstateCurrentFrame uint64
	TstateThreadID, TstateNativeThreadID                                 uint64

	IFrameSize, IFramePrevious, IFrameExecutable, IFrameInstrPtr, IFrameOwner uint64
	IFrameLocalsplus                                                          uint64

	CodeSize, CodeFilename, CodeName, CodeQualname, CodeLinetable uint64
	CodeFirstLineno, CodeCodeAdaptive                             uint64
	CodeLocalsplusnames, CodeLocalspluskinds                      uint64

	ObjectType                                    uint64
	TupleItem, TupleSize                          uint64
	BytesSize, BytesSval                          uint64
	UnicodeState, UnicodeLength, UnicodeASCIISize uint64
	GCCollecting                                  uint64
}

// debugOffsetsMaxSize bounds how much of _PyRuntime is read for the header.
const debugOffsetsMaxSize = 1024

// ParseDebugOffsets decodes a little-endian _Py_DebugOffsets image. It
// returns ok=false when the cookie is absent (CPython < 3.13) and an error
// when the cookie is there but the rest is not a layout this package knows.
func ParseDebugOffsets(b []byte) (d DebugOffsets, ok bool, err error) {
	return ParseDebugOffsetsOrder(b, binary.LittleEndian)
}

// ParseDebugOffsetsOrder is ParseDebugOffsets for an image in the given byte order
// (its fields are uint64_t in the process's order; the cookie is bytes).
func ParseDebugOffsetsOrder(b []byte, order binary.ByteOrder) (d DebugOffsets, ok bool, err error) {
	if len(b) < 24 || string(b[:8]) != DebugCookie {
		return d, false, nil
	}
	i := 8
	next := func() uint64 {
		if i+8 > len(b) {
			i += 8
			return 0
		}
		v := order.Uint64(b[i:])
		i += 8
		return v
	}
	d.Version = uint32(next())
	d.FreeThreaded = next() != 0
	minor := int(d.Version>>16) & 0xff
	if d.Version>>24 != 3 || (minor != 13 && minor != 14) {
		return d, true, &UnsupportedError{Version: FormatHexVersion(d.Version), Reason: "_Py_DebugOffsets layout of this version is not known"}
	}
	v314 := minor == 14
	d.RuntimeSize, d.RuntimeFinalizing, d.RuntimeInterpretersHead = next(), next(), next()
	d.InterpSize, d.InterpID, d.InterpNext, d.InterpThreadsHead = next(), next(), next(), next()
	if v314 {
		d.InterpThreadsMain = next()
	}
	d.InterpGC = next()
	next() // imports_modules
	next() // sysdict
	next() // builtins
	d.InterpCevalGIL, d.InterpGILRuntimeState = next(), next()
	next() // gil_runtime_state_enabled
	d.InterpGILLocked, d.InterpGILHolder = next(), next()
	d.TstateSize, d.TstatePrev, d.TstateNext, d.TstateInterp, d.TstateCurrentFrame = next(), next(), next(), next(), next()
	d.TstateThreadID, d.TstateNativeThreadID = next(), next()
	next() // datastack_chunk
	next() // status
	d.IFrameSize, d.IFramePrevious, d.IFrameExecutable, d.IFrameInstrPtr = next(), next(), next(), next()
	d.IFrameLocalsplus = next()
	d.IFrameOwner = next()
	if v314 {
		next() // stackpointer
	}
	d.CodeSize, d.CodeFilename, d.CodeName, d.CodeQualname, d.CodeLinetable, d.CodeFirstLineno = next(), next(), next(), next(), next(), next()
	next() // argcount
	d.CodeLocalsplusnames, d.CodeLocalspluskinds = next(), next()
	d.CodeCodeAdaptive = next()
	next() // pyobject.size
	d.ObjectType = next()
	next() // type_object.size
	next() // tp_name
	next() // tp_repr
	next() // tp_flags
	next() // tuple_object.size
	d.TupleItem, d.TupleSize = next(), next()
	next() // list_object.size
	next() // list ob_item
	next() // list ob_size
	if v314 {
		next() // set_object.size
		next() // used
		next() // table
		next() // mask
	}
	next() // dict_object.size
	next() // ma_keys
	next() // ma_values
	next() // float_object.size
	next() // ob_fval
	next() // long_object.size
	next() // lv_tag
	next() // ob_digit
	next() // bytes_object.size
	d.BytesSize, d.BytesSval = next(), next()
	next() // unicode_object.size
	d.UnicodeState, d.UnicodeLength, d.UnicodeASCIISize = next(), next(), next()
	next() // gc.size
	d.GCCollecting = next()
	if i > len(b) {
		return d, true, &CorruptError{What: "_Py_DebugOffsets", Reason: fmt.Sprintf("needs %d bytes, have %d", i, len(b))}
	}
	if d.FreeThreaded {
		return d, true, &UnsupportedError{Version: FormatHexVersion(d.Version), Reason: "free-threaded build"}
	}
	// Every offset must be inside the structure it indexes.
	checks := []struct {
		name     string
		off, max uint64
	}{
		{"runtime_state.finalizing", d.RuntimeFinalizing, d.RuntimeSize},
		{"runtime_state.interpreters_head", d.RuntimeInterpretersHead, d.RuntimeSize},
		{"interpreter_state.next", d.InterpNext, d.InterpSize},
		{"interpreter_state.threads_head", d.InterpThreadsHead, d.InterpSize},
		{"interpreter_state.ceval_gil", d.InterpCevalGIL, d.InterpSize},
		{"thread_state.current_frame", d.TstateCurrentFrame, d.TstateSize},
		{"thread_state.native_thread_id", d.TstateNativeThreadID, d.TstateSize},
		{"interpreter_frame.owner", d.IFrameOwner, d.IFrameSize},
		{"code_object.co_code_adaptive", d.CodeCodeAdaptive, d.CodeSize},
	}
	for _, c := range checks {
		if c.max == 0 || c.max > 1<<24 || c.off >= c.max {
			return d, true, &CorruptError{What: "_Py_DebugOffsets." + c.name, Reason: fmt.Sprintf("offset %d outside structure size %d", c.off, c.max)}
		}
	}
	return d, true, nil
}

// apply overlays the published offsets onto base (a generated layout or the
// nearest one) and returns the result.
func (d *DebugOffsets) apply(base Layout) Layout {
	l := base
	i := func(v uint64) int64 { return int64(v) }
	l.RuntimeSize = i(d.RuntimeSize)
	l.RuntimeFinalizing = i(d.RuntimeFinalizing)
	l.RuntimeInterpretersHead = i(d.RuntimeInterpretersHead)
	l.InterpSize = i(d.InterpSize)
	l.InterpID = i(d.InterpID)
	l.InterpNext = i(d.InterpNext)
	l.InterpThreadsHead = i(d.InterpThreadsHead)
	l.InterpGILPtr = i(d.InterpCevalGIL)
	l.InterpGCCollecting = i(d.InterpGC + d.GCCollecting)
	if d.InterpGILLocked >= d.InterpGILRuntimeState && d.InterpGILHolder >= d.InterpGILRuntimeState {
		l.GILLocked = i(d.InterpGILLocked - d.InterpGILRuntimeState)
		l.GILLastHolder = i(d.InterpGILHolder - d.InterpGILRuntimeState)
	}
	l.TstateSize = i(d.TstateSize)
	l.TstateNext = i(d.TstateNext)
	l.TstateInterp = i(d.TstateInterp)
	l.TstateFrame, l.TstateCFrame = -1, -1
	l.TstateCurrentFrame = i(d.TstateCurrentFrame)
	l.TstateThreadID = i(d.TstateThreadID)
	l.TstateNativeThreadID = i(d.TstateNativeThreadID)
	l.IFrameSize = i(d.IFrameSize)
	l.IFramePrevious = i(d.IFramePrevious)
	l.IFrameCode = i(d.IFrameExecutable)
	l.IFrameInstr = i(d.IFrameInstrPtr)
	l.IFrameOwner = i(d.IFrameOwner)
	l.IFrameIsEntry = -1
	l.IFrameLocalsplus = i(d.IFrameLocalsplus)
	l.FrameObjLocalsplus = -1
	l.CodeLocalsplusnames = i(d.CodeLocalsplusnames)
	l.CodeLocalspluskinds = i(d.CodeLocalspluskinds)
	l.CodeSize = i(d.CodeSize)
	l.CodeFilename = i(d.CodeFilename)
	l.CodeName = i(d.CodeName)
	l.CodeQualname = i(d.CodeQualname)
	l.CodeLinetable = i(d.CodeLinetable)
	l.CodeFirstLineno = i(d.CodeFirstLineno)
	l.CodeCodeAdaptive = i(d.CodeCodeAdaptive)
	l.ObjectType = i(d.ObjectType)
	l.TupleItem = i(d.TupleItem)
	l.TupleSize = i(d.TupleSize)
	l.BytesSize = i(d.BytesSize)
	l.BytesSval = i(d.BytesSval)
	l.UnicodeState = i(d.UnicodeState)
	l.UnicodeLength = i(d.UnicodeLength)
	l.ASCIISize = i(d.UnicodeASCIISize)
	return l
}

// UnsupportedError says the interpreter's version or build is not one this
// package can read.
type UnsupportedError struct {
	Version string
	Reason  string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("python: unsupported version %s: %s", e.Version, e.Reason)
}

// FormatHexVersion renders PY_VERSION_HEX as "3.12.1" (or "3.13.0rc2").
func FormatHexVersion(v uint32) string {
	s := fmt.Sprintf("%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff)
	level, serial := v>>4&0xf, v&0xf
	switch level {
	case 0xa:
		s += fmt.Sprintf("a%d", serial)
	case 0xb:
		s += fmt.Sprintf("b%d", serial)
	case 0xc:
		s += fmt.Sprintf("rc%d", serial)
	}
	return s
}
