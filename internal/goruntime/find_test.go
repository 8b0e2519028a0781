package goruntime

import (
	"errors"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// Find looks for runtime.allgs only in modules the Go linker built.
func TestFindModules(t *testing.T) {
	allgs := map[string]uint64{"runtime.allgs": 0x1000}
	for _, tc := range []struct {
		name    string
		modules []Module
		err     string // prefix
	}{
		{"no modules", nil, "not a Go program"},
		{"C module defining runtime.allgs", []Module{newModule(allgs, ".text", ".data")}, "not a Go program"},
		{"Go module without runtime.allgs", []Module{newModule(nil, ".text", ".gopclntab")}, "not a Go program"},
		{"module without a file", []Module{fakeModule{syms: allgs}}, "not a Go program"},
		// Found: the made-up file has no DWARF, which is the next thing Find reads.
		{".gopclntab", []Module{newModule(allgs, ".text", ".gopclntab")}, "no DWARF for runtime.g: "},
		{".go.buildinfo", []Module{newModule(nil, ".gopclntab"), newModule(allgs, ".go.buildinfo")}, "no DWARF for runtime.g: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newFake()
			p.modules = tc.modules
			rt, err := Find(p, arch.AMD64)
			if rt != nil || err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Fatalf("runtime %v, error %v; want %q", rt, err, tc.err)
			}
			if notGo := tc.err == "not a Go program"; errors.Is(err, ErrNotGo) != notGo {
				t.Errorf("errors.Is(%v, ErrNotGo) = %v", err, !notGo)
			}
		})
	}
}
