package python

import (
	"errors"
	"strings"
	"testing"
)

// strImage writes one compact str object of the given kind at imageBase.
func strImage(l Layout, kind int, ascii bool, length int, data []byte) *imageProcess {
	img := make([]byte, 0x1000)
	state := uint32(kind)<<l.UnicodeKindShift | 1<<l.UnicodeCompactShift
	if ascii {
		state |= 1 << l.UnicodeASCIIShift
	}
	order := layoutOrder(l)
	order.PutUint32(img[l.UnicodeState:], state)
	if l.PtrSize == 4 {
		order.PutUint32(img[l.UnicodeLength:], uint32(length))
	} else {
		order.PutUint64(img[l.UnicodeLength:], uint64(length))
	}
	at := l.CompactUnicodeSize
	if ascii {
		at = l.ASCIISize
	}
	copy(img[at:], data)
	return layoutProcess(l, img)
}

// short cuts an image to 256 bytes.
func short(p *imageProcess) *imageProcess {
	p.img = p.img[:256]
	return p
}

func TestCompactStrKinds(t *testing.T) {
	for _, l := range generatedLayouts {
		order := layoutOrder(l)
		ucs2, ucs4 := make([]byte, 4), make([]byte, 4)
		order.PutUint16(ucs2, 0x3bb) // "λλ" U+03BB
		order.PutUint16(ucs2[2:], 0x3bb)
		order.PutUint32(ucs4, 0x1f60d) // U+1F60D
		tests := []struct {
			name   string
			p      *imageProcess
			want   string
			errHas string
		}{
			{"ascii", strImage(l, 1, true, 3, []byte("abc")), "abc", ""},
			{"latin1", strImage(l, 1, false, 2, []byte{0xe9, 0x74}), "ét", ""},
			{"ucs2", strImage(l, 2, false, 2, ucs2), "λλ", ""},
			{"ucs4", strImage(l, 4, false, 1, ucs4), "\U0001F60D", ""},
			{"capped", strImage(l, 1, true, 5000, []byte(strings.Repeat("x", 2000))), strings.Repeat("x", MaxStringLen) + "…", ""},
			{"bad kind", strImage(l, 3, false, 1, nil), "", "bad str kind 3"},
			{"past the image", short(strImage(l, 1, true, 1000, nil)), "", "of 1000 bytes mapped"},
		}
		for _, tt := range tests {
			got, err := (mem{m: tt.p, ptr: l.PtrSize, order: tt.p.ByteOrder()}).str(&l, imageBase, "test str")
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("%s %s: err %v, want one containing %q", l.Source, tt.name, err, tt.errHas)
				}
				continue
			}
			if err != nil || got != tt.want {
				t.Errorf("%s %s: %q, %v; want %q", l.Source, tt.name, got, err, tt.want)
			}
		}
	}
}

func TestReadErrorSaysWhere(t *testing.T) {
	p := &imageProcess{base: imageBase, img: make([]byte, 16)}
	_, err := (mem{m: p, ptr: 8}).u64("PyThreadState.next", imageBase+12)
	var re *ReadError
	if !errors.As(err, &re) || re.What != "PyThreadState.next" || re.Addr != imageBase+12 {
		t.Fatalf("err %v, want a ReadError for PyThreadState.next at %#x", err, imageBase+12)
	}
	if want := "python: reading PyThreadState.next at 0x10000c: address 0x10000c: only 4 of 8 bytes mapped"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
