package cfi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// builder assembles CFI bytes little-endian.
type builder struct{ b []byte }

func (w *builder) u8(v ...byte) *builder { w.b = append(w.b, v...); return w }
func (w *builder) u16(v uint16) *builder { w.b = binary.LittleEndian.AppendUint16(w.b, v); return w }
func (w *builder) u32(v uint32) *builder { w.b = binary.LittleEndian.AppendUint32(w.b, v); return w }
func (w *builder) u64(v uint64) *builder { w.b = binary.LittleEndian.AppendUint64(w.b, v); return w }

// entry64 wraps body in a 64-bit DWARF length.
func entry64(body []byte) []byte {
	w := &builder{}
	w.u32(0xffffffff).u64(uint64(len(body)))
	return append(w.b, body...)
}

// A version 4 .debug_frame with 64-bit lengths and every DW_CFA instruction.
func synthDebugFrame() []byte {
	cie := &builder{}
	cie.u64(^uint64(0)). // CIE id (64-bit)
				u8(4).u8(0).   // version, augmentation ""
				u8(8, 0).      // address size, segment selector size
				u8(4).u8(0x78) // code align 4, data align -8
	cie.u8(30) // return address column (uleb)
	cie.u8(DW_CFA_def_cfa, 31, 0)
	fde := &builder{}
	fde.u64(0).u64(0x1000).u64(0x100)                                                                 // CIE pointer, initial location, range
	fde.u8(DW_CFA_advance_loc|1, DW_CFA_def_cfa_offset, 16, DW_CFA_offset|29, 2, DW_CFA_offset|30, 1) // 0x1004
	fde.u8(DW_CFA_advance_loc1, 2, DW_CFA_remember_state, DW_CFA_def_cfa_register, 29,                // 0x100c
		DW_CFA_val_offset, 19, 2, DW_CFA_register, 20, 21, DW_CFA_undefined, 22, DW_CFA_same_value, 23)
	fde.u8(DW_CFA_advance_loc2).u16(4).u8(DW_CFA_restore_state) // 0x101c
	fde.u8(DW_CFA_advance_loc4).u32(8)                          // 0x103c
	fde.u8(DW_CFA_def_cfa_sf, 31, 0x7c, DW_CFA_offset_extended_sf, 19, 0x7d,
		DW_CFA_GNU_negative_offset_extended, 20, 1, DW_CFA_val_offset_sf, 21, 1,
		DW_CFA_GNU_args_size, 16, DW_CFA_AArch64_negate_ra_state)
	fde.u8(DW_CFA_advance_loc|1, DW_CFA_restore|29, DW_CFA_restore_extended, 30, // 0x1040
		DW_CFA_def_cfa_expression, 2, 0x8f, 16, DW_CFA_expression, 19, 1, 0x30,
		DW_CFA_val_expression, 20, 1, 0x9c)
	fde.u8(DW_CFA_set_loc).u64(0x1080).u8(DW_CFA_offset_extended, 19, 5, DW_CFA_def_cfa, 31, 48,
		DW_CFA_def_cfa_offset_sf, 0x7a, DW_CFA_nop, DW_CFA_nop)
	out := entry64(cie.b)
	return append(out, entry64(fde.b)...)
}

func fmtRow(r Row) string {
	s := fmt.Sprintf("[%#x,%#x) ", r.Start, r.End)
	if r.CFA.Kind == CFAExpression {
		s += fmt.Sprintf("cfa=exp%x", r.CFA.Expr)
	} else {
		s += fmt.Sprintf("cfa=r%d%+d", r.CFA.Reg, r.CFA.Offset)
	}
	for _, rr := range r.Rules {
		if rr.Rule.Kind == Unspecified {
			continue
		}
		s += fmt.Sprintf(" r%d=%s", rr.Reg, rr.Rule.Kind)
		switch rr.Rule.Kind {
		case Offset, ValOffset:
			s += fmt.Sprintf("%+d", rr.Rule.Offset)
		case Register:
			s += fmt.Sprintf("(r%d)", rr.Rule.Reg)
		case Expression, ValExpression:
			s += fmt.Sprintf("(%x)", rr.Rule.Expr)
		}
	}
	if r.RAMangled {
		s += " ra-signed"
	}
	if r.ArgsSize != 0 {
		s += fmt.Sprintf(" args=%d", r.ArgsSize)
	}
	return s
}

func TestSynthDebugFrameV4(t *testing.T) {
	tab, err := New(Config{Section: DebugFrame, Data: synthDebugFrame(), PtrSize: 8, Order: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pc   uint64
		want string
	}{
		{0x1000, "[0x1000,0x1004) cfa=r31+0"},
		{0x1003, "[0x1000,0x1004) cfa=r31+0"},
		{0x1004, "[0x1004,0x100c) cfa=r31+16 r29=offset-16 r30=offset-8"},
		{0x100c, "[0x100c,0x101c) cfa=r29+16 r19=val_offset-16 r20=register(r21) r22=undefined r23=same_value r29=offset-16 r30=offset-8"},
		{0x101c, "[0x101c,0x103c) cfa=r31+16 r29=offset-16 r30=offset-8"},
		{0x103c, "[0x103c,0x1040) cfa=r31+32 r19=offset+24 r20=offset+8 r21=val_offset-8 r29=offset-16 r30=offset-8 ra-signed args=16"},
		{0x1040, "[0x1040,0x1080) cfa=exp8f10 r19=expression(30) r20=val_expression(9c) r21=val_offset-8 ra-signed args=16"},
		{0x10ff, "[0x1080,0x1100) cfa=r31+48 r19=offset-40 r20=val_expression(9c) r21=val_offset-8 ra-signed args=16"},
	} {
		row, err := tab.RowForPC(tc.pc)
		if err != nil {
			t.Errorf("pc %#x: %v", tc.pc, err)
			continue
		}
		if got := fmtRow(row); got != tc.want {
			t.Errorf("pc %#x:\n got %s\nwant %s", tc.pc, got, tc.want)
		}
	}
	row, _ := tab.RowForPC(0x1000)
	if c := row.FDE.CIE; c.Version != 4 || c.AddrSize != 8 || c.CodeAlign != 4 || c.DataAlign != -8 || c.RA != 30 || !c.is64 {
		t.Errorf("CIE %+v", c)
	}
	// def_cfa_offset_sf at 0x1080 is factored: -6 * -8 = 48, same as def_cfa's 48.
	if _, err := tab.RowForPC(0x1100); !errors.Is(err, ErrNoFDE) {
		t.Errorf("pc past the FDE: %v", err)
	}
}

func TestEncodedPointers(t *testing.T) {
	tab := &Table{cfg: Config{Order: binary.LittleEndian, PtrSize: 8}}
	bases := ptrBases{sectionAddr: 0x10000, text: 0x20000, data: 0x30000, fn: 0x40000}
	for _, tc := range []struct {
		name     string
		enc      uint8
		bytes    []byte
		at       int // offset of the field
		ptr      int
		want     uint64
		indirect bool
		err      bool
	}{
		{"absptr", DW_EH_PE_absptr, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0, 8, 0x0807060504030201, false, false},
		{"absptr 4", DW_EH_PE_absptr, []byte{1, 2, 3, 4}, 0, 4, 0x04030201, false, false},
		{"signed 4", DW_EH_PE_signed, []byte{0xfe, 0xff, 0xff, 0xff}, 0, 4, 0xfffffffe, false, false},
		{"uleb", DW_EH_PE_uleb128, []byte{0xe5, 0x8e, 0x26}, 0, 8, 624485, false, false},
		{"sleb", DW_EH_PE_sleb128, []byte{0x7f}, 0, 8, ^uint64(0), false, false},
		{"udata2", DW_EH_PE_udata2, []byte{0xff, 0xff}, 0, 8, 0xffff, false, false},
		{"sdata2", DW_EH_PE_sdata2, []byte{0xff, 0xff}, 0, 8, ^uint64(0), false, false},
		{"udata4", DW_EH_PE_udata4, []byte{0xff, 0xff, 0xff, 0xff}, 0, 8, 0xffffffff, false, false},
		{"sdata4 pcrel", DW_EH_PE_sdata4 | DW_EH_PE_pcrel, []byte{0, 0, 0, 0, 0xf0, 0xff, 0xff, 0xff}, 4, 8, 0x10004 - 16, false, false},
		{"udata8", DW_EH_PE_udata8, []byte{1, 0, 0, 0, 0, 0, 0, 0x80}, 0, 8, 0x8000000000000001, false, false},
		{"sdata8 datarel", DW_EH_PE_sdata8 | DW_EH_PE_datarel, []byte{0x10, 0, 0, 0, 0, 0, 0, 0}, 0, 8, 0x30010, false, false},
		{"udata4 textrel", DW_EH_PE_udata4 | DW_EH_PE_textrel, []byte{0x10, 0, 0, 0}, 0, 8, 0x20010, false, false},
		{"udata4 funcrel", DW_EH_PE_udata4 | DW_EH_PE_funcrel, []byte{0x10, 0, 0, 0}, 0, 8, 0x40010, false, false},
		{"aligned", DW_EH_PE_aligned, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0}, 3, 8, 0x11223344, false, false},
		{"indirect pcrel sdata4", DW_EH_PE_indirect | DW_EH_PE_pcrel | DW_EH_PE_sdata4, []byte{8, 0, 0, 0}, 0, 8, 0x10008, true, false},
		{"truncated", DW_EH_PE_udata4, []byte{1, 2}, 0, 8, 0, false, true},
		{"bad format", 0x07, []byte{1, 2, 3, 4}, 0, 8, 0, false, true},
		{"bad application", 0x60 | DW_EH_PE_udata4, []byte{1, 2, 3, 4}, 0, 8, 0, false, true},
	} {
		r := &reader{t: tab, b: tc.bytes, off: tc.at, end: len(tc.bytes)}
		got, ind := r.encoded(tc.enc, tc.ptr, bases)
		if tc.err {
			if r.err == nil {
				t.Errorf("%s: no error", tc.name)
			}
			continue
		}
		if r.err != nil || got != tc.want || ind != tc.indirect {
			t.Errorf("%s: %#x indirect=%v err=%v, want %#x indirect=%v", tc.name, got, ind, r.err, tc.want, tc.indirect)
		}
	}
	r := &reader{t: tab, b: []byte{1}, end: 1}
	if v, _ := r.encoded(DW_EH_PE_omit, 8, bases); v != 0 || r.off != 0 {
		t.Errorf("omit read %d bytes", r.off)
	}
}

func TestMalformed(t *testing.T) {
	good := synthDebugFrame()
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"length past the end", good[:len(good)-1], ErrTruncated},
		{"cut in the length", good[:3], ErrTruncated},
	} {
		tab, err := New(Config{Section: DebugFrame, Data: tc.data, PtrSize: 8})
		if err != nil {
			t.Fatal(err)
		}
		_, err = tab.RowForPC(0x1000)
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want a *FormatError wrapping %v", tc.name, err, tc.want)
		}
	}
	// An unknown opcode is reported with its section offset.
	bad := synthDebugFrame()
	i := len(bad) - 2 // the trailing DW_CFA_nop
	bad[i] = 0x3f
	tab, _ := New(Config{Section: DebugFrame, Data: bad, PtrSize: 8})
	_, err := tab.RowForPC(0x10ff)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != uint64(i) || !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown opcode at %#x: %v", i, err)
	}
	// Rows before the bad instruction are still readable.
	if _, err := tab.RowForPC(0x1000); err != nil {
		t.Errorf("row before the bad instruction: %v", err)
	}
	if _, err := New(Config{Data: good, PtrSize: 3}); err == nil {
		t.Error("pointer size 3 accepted")
	}
}

// glibc's __restore_rt has its own CIE with the "S" augmentation.
func TestSignalFrameAugmentation(t *testing.T) {
	libc := mustExist(t, "/lib/x86_64-linux-gnu/libc.so.6")
	tab, _ := openTable(t, libc, ".eh_frame", true)
	n := 0
	tab.FDEs(func(f *FDE) bool {
		if f.CIE.SignalFrame {
			n++
			if f.CIE.Augmentation != "zRS" {
				t.Errorf("signal frame CIE augmentation %q", f.CIE.Augmentation)
			}
		}
		return true
	})
	if n != 1 {
		t.Errorf("%d signal-frame FDEs in libc, want 1 (__restore_rt)", n)
	}
}

// libstdc++'s "zPLR" CIE carries a personality routine (indirect, pcrel) and LSDAs.
func TestPersonalityAndLSDA(t *testing.T) {
	lib := mustExist(t, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6")
	compareWithReadelf(t, lib, ".eh_frame", true)
	tab, _ := openTable(t, lib, ".eh_frame", true)
	withLSDA := 0
	tab.FDEs(func(f *FDE) bool {
		if f.CIE.Augmentation == "zPLR" {
			if !f.CIE.HasPersonality || !f.CIE.PersonalityIndirect || f.CIE.Personality == 0 {
				t.Errorf("CIE %#x: personality %#x indirect=%v", f.CIE.Offset, f.CIE.Personality, f.CIE.PersonalityIndirect)
				return false
			}
			if f.HasLSDA {
				withLSDA++
			}
		}
		return true
	})
	if withLSDA < 100 {
		t.Errorf("%d FDEs with an LSDA in libstdc++", withLSDA)
	}
}
