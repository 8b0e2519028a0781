package ehabi

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzExidx decodes an arbitrary .ARM.exidx with an arbitrary .ARM.extab behind it, finds
// the entry of a pc and runs its opcodes on a small stack. Nothing may panic, every error
// must be one of the package's, and a successful run must leave vsp and the return address
// known. Seeds: the first entries of Debian's armhf libc (compact routines 0 and 1, a
// generic routine, EXIDX_CANTUNWIND) and the synthetic table of TestFind.
func FuzzExidx(f *testing.F) {
	tab, _ := openExidx(f, armhfLibc)
	exidx, addr := tab.cfg.Data, tab.cfg.Addr
	mem := tab.cfg.Extab.(fileMemory)
	seen := map[int]bool{}
	for _, e := range tab.entries {
		ent, err := tab.Find(e.start)
		kind := ent.Personality
		if err != nil {
			kind = 9
		}
		if seen[kind] || len(seen) >= 4 {
			continue
		}
		seen[kind] = true
		// Four index entries from this one, and the 64 bytes of .ARM.extab it points to
		// (at extab 0 when it is inline).
		lo := int(e.off)
		hi := min(lo+32, len(exidx))
		var extab []byte
		extabAddr := ent.Extab
		if ent.Extab != 0 {
			extab = make([]byte, 64)
			n, _ := mem.ReadAt(extab, ent.Extab)
			extab = extab[:n]
		}
		f.Add(exidx[lo:hi], addr+uint64(lo), extab, extabAddr, e.start+2, uint32(0x40800000))
	}
	synth, extab := synthTable(f)
	for _, pc := range []uint64{0x2000, 0x2200, 0x2300, 0x2400} {
		f.Add(synth.cfg.Data, synth.cfg.Addr, extab.b, extab.base, pc, uint32(sp0))
	}
	f.Fuzz(func(t *testing.T, exidx []byte, addr uint64, extab []byte, extabAddr uint64, pc uint64, sp uint32) {
		tab, err := New(Config{Data: exidx, Addr: addr, Extab: stackMem{base: extabAddr, b: extab}})
		if err != nil {
			t.Fatalf("New: %v", err) // only an oversized section is refused
		}
		e, err := tab.Find(pc)
		if err != nil {
			var fe *FormatError
			if !errors.Is(err, ErrNoEntry) && !errors.Is(err, ErrCantUnwind) && !errors.As(err, &fe) {
				t.Fatalf("Find: unexpected error %T %v", err, err)
			}
			return
		}
		if len(e.Ops) > 3+4*maxExtabWords {
			t.Fatalf("%d opcode bytes", len(e.Ops))
		}
		fuzzExecute(t, e.Ops, sp)
	})
}

// FuzzUnwindOpcodes runs arbitrary opcodes on a frame whose stack holds 256 words.
func FuzzUnwindOpcodes(f *testing.F) {
	for _, ops := range [][]byte{
		{0x97, 0x01, 0x84, 0x08}, // GCC Thumb-2 -O0: vsp = r7; vsp += 8; pop {r7, lr}
		{0x02, 0xaf, 0xb0},       // libc: vsp += 12; pop {r4-r11, lr}
		{0x0c, 0x3f, 0x84, 0x00, 0xb0, 0xb0},
		{0xb1, 0x08, 0x84, 0x00},
		{0xb2, 0x81, 0x01, 0xc9, 0x03, 0xd1, 0xa8},
		{0x8f, 0xff}, // pop r4-r15, sp among them
		{0xc2, 0xc6, 0x21, 0xc7, 0x03, 0xb3, 0x12, 0xb9},
		{0x80, 0x00},
	} {
		f.Add(ops, uint32(sp0))
	}
	f.Fuzz(func(t *testing.T, ops []byte, sp uint32) {
		fuzzExecute(t, ops, sp)
	})
}

func fuzzExecute(t *testing.T, ops []byte, sp uint32) {
	ws := make([]byte, 256*4)
	for i := 0; i < 256; i++ {
		binary.LittleEndian.PutUint32(ws[4*i:], 0x40800000+uint32(i)*4)
	}
	mem := stackMem{base: 0x40800000, b: ws}
	s := state0()
	s.R[SP], s.R[7] = sp, sp+8
	err := Execute(ops, &s, mem, nil)
	if err != nil {
		var oe *OpError
		if !errors.As(err, &oe) || oe.Off < 0 || oe.Off > len(ops) {
			t.Fatalf("Execute: %T %v", err, err)
		}
		if !errors.Is(err, ErrSpare) && !errors.Is(err, ErrCantUnwind) && !errors.Is(err, ErrTruncated) &&
			!errors.Is(err, ErrRegister) && !errors.As(err, new(*StackError)) && oe.Op != 0xb2 {
			t.Fatalf("Execute: unexpected error %v", err)
		}
		return
	}
	if s.Known&(1<<SP|1<<PC) != 1<<SP|1<<PC || s.Set&(1<<SP|1<<PC) != 1<<SP|1<<PC {
		t.Fatalf("after % x: known %#04x set %#04x", ops, s.Known, s.Set)
	}
}
