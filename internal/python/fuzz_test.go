package python

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// imageProcess is a Process over one synthetic memory image, for the walker
// fuzz target: _PyRuntime at the image start, Py_Version in a separate word.
type imageProcess struct {
	base    uint64
	img     []byte
	version uint32
	ptr     int    // pointer size; 0 means 8
	machine string // for machine-specific layouts
	big     bool   // a big-endian process (s390x)
}

const (
	imageBase   = 0x100000
	versionAddr = 0x8000
)

func (p *imageProcess) ReadAt(b []byte, addr uint64) (int, error) {
	if addr == versionAddr && len(b) <= 8 {
		// Py_Version is an unsigned long: a word in the process's byte order.
		var v [8]byte
		if p.PtrSize() == 4 {
			p.ByteOrder().PutUint32(v[:], p.version)
		} else {
			p.ByteOrder().PutUint64(v[:], uint64(p.version))
		}
		return copy(b, v[:]), nil
	}
	if addr < p.base || addr-p.base >= uint64(len(p.img)) {
		return 0, fmt.Errorf("address %#x unmapped", addr)
	}
	n := copy(b, p.img[addr-p.base:])
	if n < len(b) {
		return n, fmt.Errorf("address %#x: only %d of %d bytes mapped", addr, n, len(b))
	}
	return n, nil
}

func (p *imageProcess) Symbol(name string) (uint64, bool) {
	switch name {
	case "_PyRuntime":
		return p.base, true
	case "Py_Version":
		return versionAddr, true
	}
	return 0, false
}

func (p *imageProcess) Threads() []OSThread {
	return []OSThread{{TID: 4242, FSBase: 0x7000}}
}

func (p *imageProcess) Machine() string { return p.machine }

func (p *imageProcess) ByteOrder() binary.ByteOrder {
	if p.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// layoutOrder is the byte order of l's build.
func layoutOrder(l Layout) binary.ByteOrder {
	if l.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// layoutProcess is an imageProcess of img for a process l serves.
func layoutProcess(l Layout, img []byte) *imageProcess {
	return &imageProcess{base: imageBase, img: img, version: l.MinVersion | 0xf0, ptr: l.PtrSize, machine: l.Machine, big: l.BigEndian}
}

func (p *imageProcess) PtrSize() int {
	if p.ptr == 0 {
		return 8
	}
	return p.ptr
}

// buildImage lays out one interpreter with one thread state holding the
// GIL and one Python frame in function "abc" of file "xyz.py", line 2, for
// the given layout. It is the fuzz seed and the walker's unit test input.
func buildImage(l Layout) []byte {
	img := make([]byte, 0x4000)
	order := layoutOrder(l)
	// put writes a word; put32 a 32-bit field (an int, or the str state's bit fields).
	put := func(off uint64, off2 int64, v uint64) {
		if off2 >= 0 && int(off)+int(off2)+l.PtrSize <= len(img) {
			if l.PtrSize == 4 {
				order.PutUint32(img[int(off)+int(off2):], uint32(v))
			} else {
				order.PutUint64(img[int(off)+int(off2):], v)
			}
		}
	}
	put32 := func(off uint64, off2 int64, v uint32) {
		if off2 >= 0 && int(off)+int(off2)+4 <= len(img) {
			order.PutUint32(img[int(off)+int(off2):], v)
		}
	}
	const (
		interp = 0x1000
		gil    = 0x2e00
		tstate = 0x3000
		cframe = 0x3200
		frame  = 0x3300
		code   = 0x3400
		name   = 0x3600
		file   = 0x3680
		table  = 0x3800
	)
	a := func(off uint64) uint64 { return imageBase + off }
	put(0, l.RuntimeInterpretersHead, a(interp))
	put(0, l.RuntimeInterpretersMain, a(interp))
	gilAt := uint64(gil)
	if l.RuntimeGIL >= 0 {
		gilAt = uint64(l.RuntimeGIL)
	} else {
		put(interp, l.InterpGILPtr, a(gil))
	}
	put32(gilAt, l.GILLocked, 1)
	put(gilAt, l.GILLastHolder, a(tstate))
	put(interp, l.InterpThreadsHead, a(tstate))
	put(tstate, l.TstateInterp, a(interp))
	put(tstate, l.TstateThreadID, 0x7000)
	switch {
	case l.IFrameSize < 0:
		put(tstate, l.TstateFrame, a(frame))
		put(frame, l.FrameObjCode, a(code))
		lasti := uint64(2) // 3.8/3.9: a byte offset
		if l.minor() == 10 {
			lasti = 1 // 3.10: code units
		}
		put32(frame, l.FrameObjLasti, uint32(lasti))
	default:
		if l.TstateCurrentFrame >= 0 {
			put(tstate, l.TstateCurrentFrame, a(frame))
		} else {
			put(tstate, l.TstateCFrame, a(cframe))
			put(cframe, l.CFrameCurrentFrame, a(frame))
		}
		put(frame, l.IFrameCode, a(code))
		put(frame, l.IFrameInstr, a(code)+uint64(l.CodeCodeAdaptive)+2)
	}
	put(code, l.CodeName, a(name))
	put(code, l.CodeQualname, a(name))
	put(code, l.CodeFilename, a(file))
	put32(code, l.CodeFirstLineno, 1)
	tabOff := l.CodeLinetable
	var tab []byte
	switch {
	case l.CodeLnotab >= 0:
		tabOff, tab = l.CodeLnotab, []byte{2, 1} // offset 2 -> line 2
	case l.minor() == 10:
		tab = []byte{2, 0, 2, 1}
	default:
		tab = []byte{0x80 | 13<<3, 0, 0x80 | 11<<3, 0, 0}
	}
	put(code, tabOff, a(table))
	put(table, l.BytesSize, uint64(len(tab)))
	copy(img[table+uint64(l.BytesSval):], tab)
	str := func(at uint64, s string) {
		state := uint32(1)<<l.UnicodeKindShift | 1<<l.UnicodeCompactShift | 1<<l.UnicodeASCIIShift
		if l.UnicodeReadyShift >= 0 {
			state |= 1 << l.UnicodeReadyShift
		}
		put32(at, l.UnicodeState, state)
		put(at, l.UnicodeLength, uint64(len(s)))
		copy(img[at+uint64(l.ASCIISize):], s)
	}
	str(name, "abc")
	str(file, "xyz.py")
	return img
}

func TestWalkSyntheticImage(t *testing.T) {
	for _, l := range generatedLayouts {
		name := FormatHexVersion(l.MinVersion)
		if l.PtrSize != 8 {
			name += fmt.Sprintf("-%dbit", 8*l.PtrSize)
		}
		t.Run(name, func(t *testing.T) {
			st, err := Analyze(layoutProcess(l, buildImage(l)))
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Interpreters) != 1 || len(st.Interpreters[0].Threads) != 1 {
				t.Fatalf("interpreters %+v", st.Interpreters)
			}
			th := st.Interpreters[0].Threads[0]
			want := "[{abc xyz.py 2 1 <nil>}]"
			var got []any
			for _, f := range th.Frames {
				got = append(got, struct {
					F, File  string
					L, First int
					Err      error
				}{f.Function, f.File, f.Line, f.FirstLine, f.Err})
			}
			if fmt.Sprint(got) != want || th.Err != nil {
				t.Errorf("frames %v (err %v), want %s", got, th.Err, want)
			}
			if th.TID != 4242 || !th.IsGILHolder || st.GILHolderTID == nil || *st.GILHolderTID != 4242 {
				t.Errorf("tid %d (%s) gil %v holder %v, want 4242 and GIL holder", th.TID, th.TIDSource, th.IsGILHolder, st.GILHolderTID)
			}
		})
	}
}

// TestWalkCycles makes every list point to itself: the walk must stop with
// a cycle error, not hang.
func TestWalkCycles(t *testing.T) {
	l, _ := LayoutFor(0x030c0000, 8, "", false)
	img := buildImage(l)
	binary.LittleEndian.PutUint64(img[0x1000+l.InterpNext:], imageBase+0x1000)
	binary.LittleEndian.PutUint64(img[0x3000+l.TstateNext:], imageBase+0x3000)
	binary.LittleEndian.PutUint64(img[0x3300+l.IFramePrevious:], imageBase+0x3300)
	st, err := Analyze(&imageProcess{base: imageBase, img: img, version: 0x030c01f0})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Interpreters) != 1 || len(st.Warnings) == 0 {
		t.Fatalf("interpreters %d warnings %q, want 1 and a cycle warning", len(st.Interpreters), st.Warnings)
	}
	th := st.Interpreters[0].Threads
	if len(th) != 1 || len(th[0].Frames) != 1 || th[0].Err == nil || st.Interpreters[0].Err == nil {
		t.Fatalf("threads %+v interp err %v: want one thread, one frame, cycle errors", th, st.Interpreters[0].Err)
	}
}

// FuzzWalk walks corrupted interpreter memory of every supported layout.
func FuzzWalk(f *testing.F) {
	for i, l := range generatedLayouts {
		f.Add(uint8(i), buildImage(l))
	}
	f.Fuzz(func(t *testing.T, which uint8, img []byte) {
		l := generatedLayouts[int(which)%len(generatedLayouts)]
		st, err := Analyze(layoutProcess(l, img))
		if err != nil {
			return
		}
		for _, in := range st.Interpreters {
			if len(in.Threads) > MaxThreads {
				t.Fatalf("%d threads", len(in.Threads))
			}
			for _, th := range in.Threads {
				if len(th.Frames) > MaxFrames {
					t.Fatalf("%d frames", len(th.Frames))
				}
			}
		}
	})
}
