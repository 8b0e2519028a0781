package python

// The i386, ppc64le, s390x and arm entries are Debian's libpython3.11 of those
// architectures. Their DWARF is in Debian's python3.11-dbg:ARCH, which cannot be
// installed beside the amd64 python3.11 (it needs python3.11:ARCH), so go generate
// expects its files unpacked under $HOME/.cache/coredig/python3.11-dbg-ARCH:
//
//	apt-get download python3.11-dbg:i386   # and :ppc64el, :s390x, :armhf
//	dpkg -x python3.11-dbg_*_i386.deb $HOME/.cache/coredig/python3.11-dbg-i386
//
// The libraries themselves are the multiarch ones scripts/deps.sh installs, except
// s390x's: bookworm-security has no s390x build of the amd64 python3.11's version, so
// libpython3.11:s390x (which Multi-Arch: same ties to that version) cannot be
// installed, and go generate reads bookworm's (3.11.2-6+deb12u8, as is its
// python3.11-dbg:s390x), unpacked by scripts/python-s390x.sh.
//
//go:generate go run ./internal/gen -o offsets_gen.go -debugdir /usr/lib/debug:$HOME/.cache/coredig/python3.11-dbg-i386/usr/lib/debug:$HOME/.cache/coredig/python3.11-dbg-ppc64el/usr/lib/debug:$HOME/.cache/coredig/python3.11-dbg-s390x/usr/lib/debug:$HOME/.cache/coredig/python3.11-dbg-armhf/usr/lib/debug /root/.pyenv/versions/3.8.*/lib/libpython3.8.so.1.0 /root/.pyenv/versions/3.9.*/lib/libpython3.9.so.1.0 /root/.pyenv/versions/3.10.*/lib/libpython3.10.so.1.0 /root/.pyenv/versions/3.11.*/lib/libpython3.11.so.1.0 /root/.pyenv/versions/3.12.*/lib/libpython3.12.so.1.0 /root/.pyenv/versions/3.13.*/lib/libpython3.13.so.1.0 /usr/lib/i386-linux-gnu/libpython3.11.so.1.0 /usr/lib/powerpc64le-linux-gnu/libpython3.11.so.1.0 $HOME/.cache/coredig/python3.11-s390x/usr/lib/s390x-linux-gnu/libpython3.11.so.1.0 /usr/lib/arm-linux-gnueabihf/libpython3.11.so.1.0

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
	// Machine is the architecture the entry was generated for, as internal/arch names
	// it ("i386", "ppc64le"); "" for the entries generated from x86_64 builds, which
	// serve every little-endian LP64 machine that has no entry of its own (aarch64
	// reads them; the LP64 ABIs all align 8-byte members to 8 and make CPython's
	// structures alike). 32-bit ABIs disagree on the alignment of 8-byte members
	// (int64_t, double: 4 on i386 by the i386 psABI, 8 on ARM EABI), so a 32-bit layout
	// serves its own machine only.
	Machine string
	// BigEndian: the build is big-endian (s390x). Bit fields are then allocated from
	// the most significant bit of their unit, so the Unicode*Shift values differ from a
	// little-endian build's; a big-endian process is read with big-endian entries only.
	BigEndian bool

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

// LayoutFor returns the generated layout covering hexVersion (PY_VERSION_HEX) for a
// process of the given pointer size, machine (see Layout.Machine) and byte order: the
// machine's own entry when there is one, else, for a little-endian 64-bit process, the
// shared LP64 entry.
func LayoutFor(hexVersion uint32, ptrSize int, machine string, bigEndian bool) (Layout, bool) {
	var shared *Layout
	for i, l := range generatedLayouts {
		if hexVersion < l.MinVersion || hexVersion > l.MaxVersion || l.PtrSize != ptrSize || l.BigEndian != bigEndian {
			continue
		}
		switch {
		case l.Machine == machine && machine != "":
			return l, true
		case l.Machine == "" && ptrSize == 8 && shared == nil:
			shared = &generatedLayouts[i]
		}
	}
	if shared != nil {
		return *shared, true
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
