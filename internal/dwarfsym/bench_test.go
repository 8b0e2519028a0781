package dwarfsym

import (
	"debug/elf"
	"testing"
)

// benchAddrs returns 1000 random addresses inside libpython's function symbols.
func benchAddrs(b *testing.B) (*elf.File, []uint64) {
	f, err := elf.Open(libpython)
	if err != nil {
		b.Fatalf("pyenv CPython 3.12.1 is this benchmark's input: %v", err)
	}
	b.Cleanup(func() { f.Close() })
	return f, textSample(b, f, 1000, 3)
}

// BenchmarkLibpythonCold: NewFromELF plus 1000 random lookups (every unit decoded fresh).
func BenchmarkLibpythonCold(b *testing.B) {
	f, addrs := benchAddrs(b)
	for b.Loop() {
		ix, err := NewFromELF(f, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range addrs {
			ix.Lookup(a)
		}
	}
}

// BenchmarkLibpythonWarm: 1000 random lookups on an Index whose cache holds them all.
func BenchmarkLibpythonWarm(b *testing.B) {
	f, addrs := benchAddrs(b)
	ix, err := NewFromELF(f, &Options{CacheBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range addrs {
		ix.Lookup(a)
	}
	for b.Loop() {
		for _, a := range addrs {
			ix.Lookup(a)
		}
	}
}

// BenchmarkLibpythonNew: building the unit table only.
func BenchmarkLibpythonNew(b *testing.B) {
	f, _ := benchAddrs(b)
	for b.Loop() {
		if _, err := NewFromELF(f, nil); err != nil {
			b.Fatal(err)
		}
	}
}
