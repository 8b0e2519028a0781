package dwarfsym

import (
	"path/filepath"
	"strings"
	"testing"
)

// compareAll looks up every byte address of every sized function symbol named in only
// (or all when only is nil) and compares all frames with addr2line.
func compareAll(t *testing.T, path string, only map[string]bool) int {
	ix, f := openIndex(t, path)
	var addrs []uint64
	for _, s := range textFuncs(t, f) {
		if only != nil && !only[s.Name] {
			continue
		}
		for a := s.Value; a < s.Value+s.Size; a++ {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		t.Fatalf("%s: no addresses to compare", path)
	}
	compareSample(t, ix, f, path, addrs)
	return len(addrs)
}

func TestO0MatchesAddr2line(t *testing.T) {
	bin := compile(t, "gcc", "inline.c", "-O0", "-g")
	n := compareAll(t, bin, map[string]bool{"main": true, "outer": true, "quiet": true, "helper": true})
	t.Logf("%d addresses agree", n)

	ix, f := openIndex(t, bin)
	main, _ := symbolAddr(t, f, "main")
	fr, err := ix.Lookup(main)
	if err != nil {
		t.Fatal(err)
	}
	wantLine := markerLine(t, "inline.c", "MAIN_OPEN") - 1 // "int main(...)" precedes the brace
	if len(fr) != 1 || fr[0].Function != "main" || filepath.Base(fr[0].File) != "inline.c" || fr[0].Inlined || fr[0].Entry != main {
		t.Fatalf("Lookup(main=%#x) = %+v", main, fr)
	}
	if fr[0].Line != wantLine && fr[0].Line != wantLine+1 {
		t.Fatalf("main line %d, want %d (signature) or %d (brace)", fr[0].Line, wantLine, wantLine+1)
	}
	// A static function is named from DWARF.
	quiet, _ := symbolAddr(t, f, "quiet")
	fr, err = ix.Lookup(quiet + 4)
	if err != nil || len(fr) != 1 || fr[0].Function != "quiet" || fr[0].Entry != quiet {
		t.Fatalf("Lookup(quiet+4) = %+v, %v", fr, err)
	}
}

func TestO2InlineChain(t *testing.T) {
	bin := compile(t, "gcc", "inline.c", "-O2", "-g")
	compareAll(t, bin, nil)

	ix, f := openIndex(t, bin)
	outer, size := symbolAddr(t, f, "outer")
	body := markerLine(t, "inline.c", "HELPER_BODY")
	call := markerLine(t, "inline.c", "CALL_SITE")
	found := false
	for a := outer; a < outer+size; a++ {
		fr, err := ix.Lookup(a)
		if err != nil {
			t.Fatalf("Lookup(%#x): %v", a, err)
		}
		if len(fr) == 2 && fr[0].Function == "helper" && fr[0].Inlined && fr[0].Line == body {
			if fr[1].Function != "outer" || fr[1].Inlined || fr[1].Line != call ||
				filepath.Base(fr[0].File) != "inline.c" || filepath.Base(fr[1].File) != "inline.c" || fr[1].Entry != outer {
				t.Fatalf("Lookup(%#x) = %+v, want helper inline.c:%d inside outer inline.c:%d", a, fr, body, call)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("no address of outer has helper (inline.c:%d) inlined at inline.c:%d", body, call)
	}
}

func TestCxxDemangledInlines(t *testing.T) {
	bin := compile(t, "g++", "widget.cc", "-O2", "-g")
	compareAll(t, bin, map[string]bool{"main": true, "_ZNK6shapes6WidgetIlE7computeERKSt6vectorIlSaIlEE": true})

	ix, f := openIndex(t, bin)
	const mangled = "_ZNK6shapes6WidgetIlE7computeERKSt6vectorIlSaIlEE"
	start, size := symbolAddr(t, f, mangled)
	body := markerLine(t, "widget.cc", "SCALED_BODY")
	call := markerLine(t, "widget.cc", "COMPUTE_CALL")
	found := false
	for a := start; a < start+size; a++ {
		fr, _ := ix.Lookup(a)
		last := fr[len(fr)-1]
		if last.Function != "shapes::Widget<long>::compute(std::vector<long, std::allocator<long> > const&) const" || last.LinkageName != mangled {
			t.Fatalf("Lookup(%#x) concrete frame %+v", a, last)
		}
		if len(fr) == 2 && fr[0].Line == body && strings.HasPrefix(fr[0].Function, "shapes::Widget<long>::scaled(long) const") && fr[1].Line == call {
			found = true
		}
	}
	if !found {
		t.Fatalf("no address of compute shows scaled (line %d) inlined at line %d", body, call)
	}
}

func TestUnknownPC(t *testing.T) {
	bin := compile(t, "gcc", "inline.c", "-O0", "-g")
	ix, _ := openIndex(t, bin)
	fr, err := ix.Lookup(0x10)
	if err == nil || fr != nil {
		t.Fatalf("Lookup(0x10) = %v, %v; want ErrUnknownPC", fr, err)
	}
}

// UnitsAt names the unit that debug/dwarf's SeekPC finds by reading every unit's DIE, for
// every range start, middle and last byte of the program (gcc's units, crt files
// included), and nothing outside them.
func TestUnitsAtMatchesSeekPC(t *testing.T) {
	bin := compile(t, "gcc", "inline.c", "-O2", "-g")
	ix, _ := openIndex(t, bin)
	if len(ix.spans) == 0 {
		t.Fatal("no spans")
	}
	d, err := ix.AllData()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ix.spans {
		for _, pc := range []uint64{s.lo, s.lo + (s.hi-s.lo)/2, s.hi - 1} {
			e, err := d.Reader().SeekPC(pc)
			if err != nil {
				t.Fatalf("SeekPC(%#x): %v", pc, err)
			}
			offs, complete := ix.UnitsAt(pc)
			if !complete || len(offs) == 0 || offs[0] != e.Offset {
				t.Errorf("UnitsAt(%#x) = %v, %v; SeekPC found the unit DIE at %#x", pc, offs, complete, e.Offset)
			}
		}
	}
	if offs, complete := ix.UnitsAt(1); len(offs) != 0 || !complete {
		t.Errorf("UnitsAt(1) = %v, %v; want none, complete", offs, complete)
	}
}
