package die

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"testing"
)

// forged is a DWARF 4 unit with one compile-unit DIE and then two bytes with the
// continuation bit set: debug/dwarf reads them as abbreviation code 0 without moving.
func forged(t *testing.T) *dwarf.Data {
	t.Helper()
	abbrev := []byte{1, 0x11, 0, 0, 0, 0} // code 1: DW_TAG_compile_unit, no children, no attributes
	body := []byte{4, 0, 0, 0, 0, 0, 8, 1, 0x80, 0x80}
	info := binary.LittleEndian.AppendUint32(nil, uint32(len(body)))
	d, err := dwarf.New(abbrev, nil, nil, append(info, body...), nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNullRun(t *testing.T) {
	d := forged(t)
	// The premise: debug/dwarf alone never ends.
	raw := d.Reader()
	if e, err := raw.Next(); err != nil || e == nil || e.Tag != dwarf.TagCompileUnit {
		t.Fatalf("first entry %+v, %v", e, err)
	}
	for i := 0; i < 5000; i++ {
		if e, err := raw.Next(); err != nil || e == nil || e.Tag != 0 {
			t.Fatalf("entry %d: %+v, %v: debug/dwarf moved on, the guard is no longer needed", i, e, err)
		}
	}

	r := NewReader(d)
	if e, err := r.Next(); err != nil || e.Tag != dwarf.TagCompileUnit {
		t.Fatalf("first entry %+v, %v", e, err)
	}
	n := 0
	for {
		e, err := r.Next()
		if err != nil {
			if !errors.Is(err, ErrNullRun) {
				t.Fatalf("after %d nulls: %v", n, err)
			}
			break
		}
		if e == nil || e.Tag != 0 {
			t.Fatalf("entry %+v after %d nulls", e, n)
		}
		n++
	}
	if n != MaxNulls {
		t.Errorf("%d null entries before the error, want %d", n, MaxNulls)
	}
	// Seek starts the count anew.
	r.Seek(0)
	if e, err := r.Next(); err != nil || e.Tag != dwarf.TagCompileUnit {
		t.Fatalf("after Seek: %+v, %v", e, err)
	}
}
