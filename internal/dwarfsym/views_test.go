package dwarfsym

import (
	"debug/dwarf"
	"os/exec"
	"path/filepath"
	"testing"
)

// buildLTO links lto_a.c and lto_b.c with gcc -flto (GCC's link-time unit then refers to
// their early-debug units with DW_FORM_ref_addr: DW_AT_abstract_origin of the inlined
// scale and of helper's parameters) and lto_c.c compiled without LTO (a unit nothing
// refers to).
func buildLTO(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	run := func(args ...string) {
		if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %v (scripts/deps.sh installs gcc): %v\n%s", args, err, b)
		}
	}
	obj := filepath.Join(dir, "c.o")
	run("-O2", "-g", "-c", "-o", obj, filepath.Join("testdata", "lto_c.c"))
	out := filepath.Join(dir, "lto")
	run("-flto", "-O2", "-g", "-o", out, filepath.Join("testdata", "lto_a.c"), filepath.Join("testdata", "lto_b.c"), obj)
	return out
}

// A lookup decodes its unit and the units its references land in, and no other: in the
// LTO program, helper's unit (GCC's link-time unit) and the early-debug units of lto_a.c
// and lto_b.c it refers to, not lto_c.c's. The frames (scale inlined into helper, by
// names that live in the early-debug units) are addr2line's.
func TestViewsFollowCrossUnitReferences(t *testing.T) {
	path := buildLTO(t)
	ix, f := openIndex(t, path)
	if len(ix.units) != 4 {
		t.Fatalf("%d units, want 4 (link-time, lto_a.c, lto_b.c, lto_c.c)", len(ix.units))
	}
	if n, _ := ix.viewStats(); n != 0 {
		t.Fatalf("building the index decoded %d units in a view, want 0", n)
	}
	helper, size := symbolAddr(t, f, "helper.isra.0")
	var addrs []uint64
	for a := helper; a < helper+size; a++ {
		addrs = append(addrs, a)
	}
	compareSample(t, ix, f, path, addrs)
	fr, err := ix.Lookup(helper)
	if err != nil || len(fr) == 0 || fr[len(fr)-1].Function != "helper" {
		t.Fatalf("Lookup(helper.isra.0) = %+v, %v; want helper", fr, err)
	}
	inlined := false
	for _, a := range addrs {
		if fr, _ := ix.Lookup(a); len(fr) == 2 && fr[0].Function == "scale" && fr[0].Inlined && fr[1].Function == "helper" {
			inlined = true
		}
	}
	if !inlined {
		t.Error("no address of helper shows scale inlined")
	}
	if n, all := ix.viewStats(); n != 3 || all {
		t.Errorf("the view decodes %d units (all: %v), want 3: helper's and the two it refers to", n, all)
	}
	other, _ := symbolAddr(t, f, "other")
	if fr, err := ix.Lookup(other); err != nil || len(fr) == 0 || fr[len(fr)-1].Function != "other" {
		t.Fatalf("Lookup(other) = %+v, %v", fr, err)
	}
	if n, _ := ix.viewStats(); n != 4 {
		t.Errorf("after other, the view decodes %d units, want 4", n)
	}
}

// Types read through the Index are those of debug/dwarf on the whole sections, for every
// type DIE of every unit (the views' units are decoded from the same bytes).
func TestViewTypesMatchWholeData(t *testing.T) {
	for _, path := range []string{buildLTO(t), compile(t, "g++", "widget.cc", "-O2", "-g")} {
		ix, _ := openIndex(t, path)
		all, err := dwarf.New(ix.sec.Abbrev, nil, nil, ix.sec.Info, ix.sec.Line, nil, ix.sec.Ranges, ix.sec.Str)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range []struct {
			name string
			b    []byte
		}{{".debug_line_str", ix.sec.LineStr}, {".debug_str_offsets", ix.sec.StrOffsets}, {".debug_addr", ix.sec.Addr}, {".debug_rnglists", ix.sec.RngLists}} {
			if sec.b != nil {
				all.AddSection(sec.name, sec.b)
			}
		}
		r := all.Reader()
		n := 0
		for {
			e, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e == nil {
				break
			}
			switch e.Tag {
			case dwarf.TagBaseType, dwarf.TagPointerType, dwarf.TagStructType, dwarf.TagClassType, dwarf.TagTypedef, dwarf.TagConstType, dwarf.TagSubroutineType:
			default:
				continue
			}
			want, werr := all.Type(e.Offset)
			got, gerr := ix.Type(e.Offset)
			if (werr != nil) != (gerr != nil) || werr == nil && (got.String() != want.String() || got.Size() != want.Size()) {
				t.Errorf("%s: type at %#x: %v (%v), whole sections %v (%v)", filepath.Base(path), e.Offset, got, gerr, want, werr)
			}
			n++
		}
		if n < 10 {
			t.Errorf("%s: only %d types compared", filepath.Base(path), n)
		}
	}
}
