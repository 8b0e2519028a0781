package python

// The i386 entry is Debian's libpython3.11 (libpython3.11:i386); its DWARF is in
// Debian's python3.11-dbg:i386, which cannot be installed beside the amd64 python3.11
// (it needs python3.11:i386), so go generate expects its files unpacked under
// $HOME/.cache/coredig/python3.11-dbg-i386:
//
//	apt-get download python3.11-dbg:i386
//	dpkg -x python3.11-dbg_*_i386.deb $HOME/.cache/coredig/python3.11-dbg-i386
//
//go:generate go run ./internal/gen -o offsets_gen.go -debugdir /usr/lib/debug:$HOME/.cache/coredig/python3.11-dbg-i386/usr/lib/debug /root/.pyenv/versions/3.8.*/lib/libpython3.8.so.1.0 /root/.pyenv/versions/3.9.*/lib/libpython3.9.so.1.0 /root/.pyenv/versions/3.10.*/lib/libpython3.10.so.1.0 /root/.pyenv/versions/3.11.*/lib/libpython3.11.so.1.0 /root/.pyenv/versions/3.12.*/lib/libpython3.12.so.1.0 /root/.pyenv/versions/3.13.*/lib/libpython3.13.so.1.0 /usr/lib/i386-linux-gnu/libpython3.11.so.1.0

// Layout holds the byte offsets (and a few sizes and bit positions) of the
// CPython structures the walker reads. -1 means the field does not exist in
// that version. Field names say the structure and the member:
// Runtime* is _PyRuntimeState, Interp* PyInterpreterState, GIL* struct
// _gil_runtime_state, Tstate* PyThreadState, CFrame* _PyCFrame (3.11-3.12),
// FrameObj* PyFrameObject (3.8-3.10), IFrame* _PyInterpreterFrame (3.11+),
// Code* PyCodeObject, Unicode*/ASCIISize/CompactUnicodeSize the compact str
// layout (Include/cpython/unicodeobject.h), Bytes* PyBytesObject, Tuple*
// PyTupleObject.
type Layout struct {
	MinVersion, MaxVersion uint32 // PY_VERSION_HEX range this entry covers
	Source                 string // where the values came from
	PtrSize                int    // bytes of a pointer (and of Py_ssize_t) in the build: 8 or 4
	// Machine is the architecture a 32-bit entry was generated for, as internal/arch
	// names it ("i386"); "" for 64-bit entries. 32-bit ABIs disagree on the alignment of
	// 8-byte members (int64_t, double: 4 on i386 by the i386 psABI, 8 on ARM EABI), so
	// a 32-bit layout serves its own machine only; the 64-bit ABIs (x86_64, aarch64)
	// all align them to 8 and share one entry.
	Machine string

	RuntimeSize             int64
	RuntimeInterpretersHead int64
	RuntimeInterpretersMain int64
	RuntimeTstateCurrent    int64
	RuntimeFinalizing       int64
	RuntimeFinalizingID     int64
	RuntimeGIL              int64 // embedded struct _gil_runtime_state (3.8-3.11)
	RuntimeGCCollecting     int64 // 3.8 only; later in the interpreter

	InterpSize         int64
	InterpNext         int64
	InterpID           int64
	InterpThreadsHead  int64
	InterpGILPtr       int64 // ceval.gil pointer (3.12+)
	InterpGCCollecting int64
	InterpFinalizing   int64

	GILLocked     int64
	GILLastHolder int64
	// The GIL drop request a waiter sets when the holder keeps the GIL past the switch
	// interval: _PyRuntime.ceval.gil_drop_request (3.8-3.9),
	// PyInterpreterState.ceval.gil_drop_request (3.10-3.12), bit 0
	// (_PY_GIL_DROP_REQUEST_BIT) of the holder's PyThreadState.eval_breaker (3.13).
	RuntimeGILDropRequest int64
	InterpGILDropRequest  int64
	TstateEvalBreaker     int64

	TstateSize           int64
	TstateNext           int64
	TstateInterp         int64
	TstateFrame          int64
	TstateCFrame         int64
	TstateCurrentFrame   int64
	TstateThreadID       int64
	TstateNativeThreadID int64
	CFrameCurrentFrame   int64

	FrameObjBack   int64
	FrameObjCode   int64
	FrameObjLasti  int64
	FrameObjLineno int64
	FrameObjTrace  int64
	// FrameObjLocalsplus is f_localsplus: the locals, then cells and frees (3.8-3.10).
	FrameObjLocalsplus int64

	IFrameSize     int64
	IFramePrevious int64
	IFrameCode     int64
	IFrameInstr    int64
	IFrameOwner    int64
	IFrameIsEntry  int64
	// IFrameLocalsplus is localsplus: the values of co_localsplusnames (3.11+).
	IFrameLocalsplus int64

	CodeSize           int64
	CodeName           int64
	CodeQualname       int64
	CodeFilename       int64
	CodeFirstLineno    int64
	CodeLnotab         int64
	CodeLinetable      int64
	CodeCodeAdaptive   int64
	CodeFirstTraceable int64
	// CodeVarnames and CodeNlocals name the locals (3.8-3.10); CodeLocalsplusnames
	// and CodeLocalspluskinds name and classify every localsplus slot (3.11+).
	CodeVarnames        int64
	CodeNlocals         int64
	CodeLocalsplusnames int64
	CodeLocalspluskinds int64

	ObjectType          int64
	ASCIISize           int64
	CompactUnicodeSize  int64
	UnicodeLength       int64
	UnicodeState        int64
	UnicodeKindShift    int64
	UnicodeKindBits     int64
	UnicodeCompactShift int64
	UnicodeASCIIShift   int64
	UnicodeReadyShift   int64

	BytesSize int64
	BytesSval int64
	TupleSize int64
	TupleItem int64
}

// LayoutFor returns the generated layout covering hexVersion (PY_VERSION_HEX) for
// builds whose pointers are ptrSize bytes; for 4, machine names the architecture
// (see Layout.Machine).
func LayoutFor(hexVersion uint32, ptrSize int, machine string) (Layout, bool) {
	if ptrSize == 8 {
		machine = ""
	}
	for _, l := range generatedLayouts {
		if hexVersion >= l.MinVersion && hexVersion <= l.MaxVersion && l.PtrSize == ptrSize && l.Machine == machine {
			return l, true
		}
	}
	return Layout{}, false
}

// Frame owner values of _PyInterpreterFrame.owner (Include/internal/pycore_frame.h).
const (
	frameOwnedByGenerator = 1
	frameOwnedByCStack312 = 3 // 3.12, 3.13: FRAME_OWNED_BY_CSTACK
	frameOwnedByCStack314 = 4 // 3.14: FRAME_OWNED_BY_INTERPRETER is 3, CSTACK 4
)

func (l *Layout) minor() int { return int(l.MinVersion>>16) & 0xff }
