package ehabi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// prel31At encodes target as a prel31 word at address at.
func prel31At(target, at uint64) uint32 { return uint32(target-at) & 0x7fffffff }

// synthTable is an .ARM.exidx at 0x1000 whose .ARM.extab is at 0x3000, entries deliberately
// out of order:
//
//	0x2200 extab 0x3000: routine 1, one more word: 84 00 | b1 08 b0 b0
//	0x2000 inline 0x80a8b0b0: a8 b0 b0
//	0x2100 EXIDX_CANTUNWIND
//	0x2300 extab 0x3010: generic routine at 0x2500, one more word: a8 b0 b0 | 97 01 84 08
//	0x2400 extab 0x3020: routine 0 in extab: 97 a8 b0
//	0x2450 extab 0x3030: routine 3 (reserved)
//	0x2460 inline with routine 1 (not allowed inline)
func synthTable(t testing.TB) (*Table, stackMem) {
	t.Helper()
	const base = 0x1000
	type pair struct {
		fn   uint64
		word uint32 // 0: extab, given by extab
		tab  uint64
	}
	pairs := []pair{
		{fn: 0x2200, tab: 0x3000},
		{fn: 0x2000, word: 0x80a8b0b0},
		{fn: 0x2100, word: EXIDX_CANTUNWIND},
		{fn: 0x2300, tab: 0x3010},
		{fn: 0x2400, tab: 0x3020},
		{fn: 0x2450, tab: 0x3030},
		{fn: 0x2460, word: 0x8100b0b0},
	}
	data := make([]byte, 8*len(pairs))
	for i, p := range pairs {
		at := uint64(base + 8*i)
		binary.LittleEndian.PutUint32(data[8*i:], prel31At(p.fn, at))
		w := p.word
		if p.tab != 0 {
			w = prel31At(p.tab, at+4)
		}
		binary.LittleEndian.PutUint32(data[8*i+4:], w)
	}
	extab := words(0x3000,
		0x81018400, 0xb108b0b0, 0, 0, // routine 1, count 1
		prel31At(0x2500, 0x3010), 0x01a8b0b0, 0x97018408, 0, // generic, count 1
		0x8097a8b0, 0, 0, 0, // routine 0
		0x83000000, // routine 3
	)
	tab, err := New(Config{Data: data, Addr: base, Extab: extab})
	if err != nil {
		t.Fatal(err)
	}
	return tab, extab
}

func TestFind(t *testing.T) {
	tab, _ := synthTable(t)
	if tab.Len() != 7 {
		t.Fatalf("Len %d", tab.Len())
	}
	for _, tc := range []struct {
		pc    uint64
		start uint64
		index uint64 // address of the exidx entry
		extab uint64
		pers  int
		ops   []byte
	}{
		{0x2000, 0x2000, 0x1008, 0, 0, []byte{0xa8, 0xb0, 0xb0}},
		{0x20ff, 0x2000, 0x1008, 0, 0, []byte{0xa8, 0xb0, 0xb0}},
		{0x2201, 0x2200, 0x1000, 0x3000, 1, []byte{0x84, 0x00, 0xb1, 0x08, 0xb0, 0xb0}},
		{0x2300, 0x2300, 0x1018, 0x3010, Generic, []byte{0xa8, 0xb0, 0xb0, 0x97, 0x01, 0x84, 0x08}},
		{0x2404, 0x2400, 0x1020, 0x3020, 0, []byte{0x97, 0xa8, 0xb0}},
	} {
		e, err := tab.Find(tc.pc)
		if err != nil {
			t.Errorf("%#x: %v", tc.pc, err)
			continue
		}
		if e.Start != tc.start || e.Index != tc.index || e.Extab != tc.extab || e.Personality != tc.pers || !bytes.Equal(e.Ops, tc.ops) {
			t.Errorf("%#x: %+v, want start %#x index %#x extab %#x routine %d ops % x", tc.pc, e, tc.start, tc.index, tc.extab, tc.pers, tc.ops)
		}
		if tc.pers == Generic && e.Routine != 0x2500 {
			t.Errorf("%#x: generic routine at %#x, want 0x2500", tc.pc, e.Routine)
		}
	}
	if _, err := tab.Find(0x1fff); !errors.Is(err, ErrNoEntry) {
		t.Errorf("below the first function: %v", err)
	}
	if e, err := tab.Find(0x2180); !errors.Is(err, ErrCantUnwind) || e.Start != 0x2100 {
		t.Errorf("cantunwind: %+v %v", e, err)
	}
	var fe *FormatError
	if _, err := tab.Find(0x2450); !errors.Is(err, ErrPersonality) || !errors.As(err, &fe) || fe.Addr != 0x3030 {
		t.Errorf("routine 3: %v", err)
	}
	// The last entry covers everything above it.
	if _, err := tab.Find(0xffff0000); !errors.Is(err, ErrPersonality) || !errors.As(err, &fe) || fe.Addr != 0x1034 {
		t.Errorf("inline routine 1: %v", err)
	}
	// Without .ARM.extab only inline entries decode.
	tab2, _ := New(Config{Data: tab.cfg.Data, Addr: tab.cfg.Addr})
	if _, err := tab2.Find(0x2000); err != nil {
		t.Errorf("inline without extab: %v", err)
	}
	if _, err := tab2.Find(0x2200); !errors.As(err, &fe) || fe.Addr != 0x3000 {
		t.Errorf("extab entry without extab: %v", err)
	}
}

// A table read from process memory at its run-time address: the prel31 offsets do not
// depend on where it is, and Execute then gives the caller's registers.
func TestFindAndExecute(t *testing.T) {
	tab, _ := synthTable(t)
	// 0x2300's ops: pop {r4, lr}; finish.
	e, err := tab.Find(0x2300)
	if err != nil {
		t.Fatal(err)
	}
	s := state0()
	if err := Execute(e.Ops, &s, stack, nil); err != nil {
		t.Fatal(err)
	}
	if s.R[4] != 0x1004 || s.R[LR] != 0x1005 || s.R[PC] != 0x1005 || s.R[SP] != sp0+8 {
		t.Errorf("after % x: r4 %#x lr %#x pc %#x sp %#x", e.Ops, s.R[4], s.R[LR], s.R[PC], s.R[SP])
	}
}

func TestPrel31(t *testing.T) {
	for _, tc := range []struct {
		w    uint32
		at   uint64
		want uint64
	}{
		{0x00000010, 0x1000, 0x1010},
		{0x7ffffff0, 0x1000, 0xff0},          // -0x10
		{0xfffffff0, 0x1000, 0xff0},          // bit 31 is not part of the offset
		{0x40000000, 0x1000, 0xc0001000},     // -0x40000000 wraps in 32 bits
		{0x3fffffff, 0xf0000000, 0x2fffffff}, // wraps above 4 GiB
	} {
		if got := prel31(tc.w, tc.at); got != tc.want {
			t.Errorf("prel31(%#x at %#x) = %#x, want %#x", tc.w, tc.at, got, tc.want)
		}
	}
}
