package goruntime

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"github.com/coredig/coredig/internal/dwarf/die"

	"github.com/coredig/coredig/internal/arch"
)

// ErrNotGo says the process is not a Go program: no module the Go linker built defines
// runtime.allgs.
var ErrNotGo = errors.New("not a Go program")

// Process is the program the runtime is read from.
type Process interface {
	// ReadAt reads memory at a run-time address; when n < len(p) the error says why.
	ReadAt(p []byte, addr uint64) (int, error)
	// Modules lists the mapped modules whose files could be opened, in load order.
	Modules() []Module
	// FuncStart returns the run-time address of the function that contains pc; false
	// when no function symbol covers pc.
	FuncStart(pc uint64) (uint64, bool)
}

// Module is one mapped ELF file of the process.
type Module interface {
	// ELF is the module's file.
	ELF() *elf.File
	// Symbol returns the run-time address of one of the module's symbols.
	Symbol(name string) (uint64, bool)
}

// Runtime is what is known of a Go program's runtime: where its goroutine list is and
// how its structures are laid out, from the program's symbols and DWARF.
type Runtime struct {
	p    Process
	arch *arch.Arch

	allgs uint64 // address of runtime.allgs
	// waitReasons is the address of runtime.waitReasonStrings ([N]string), 0 if absent.
	waitReasons uint64
	nWaitReason int64
	// version is runtime.buildVersion's address, 0 if absent.
	version uint64
	g       map[string]int64 // runtime.g field offsets
	gobuf   map[string]int64 // runtime.gobuf field offsets
	m       map[string]int64 // runtime.m field offsets
	panic   map[string]int64 // runtime._panic field offsets; nil when DWARF has none

	mod Module      // the module that defines the runtime
	dw  *dwarf.Data // its DWARF
	// wl is what waits read, from a second pass over the DWARF on first use (wait.go).
	wl    *waitLayout
	wlErr error
}

// Find finds the Go runtime in the process; ErrNotGo when it is not a Go program.
func Find(p Process, a *arch.Arch) (*Runtime, error) {
	// Only a module the Go linker built holds the runtime: it has .go.buildinfo (Go
	// 1.18+) or .gopclntab. Looking there first keeps other processes from loading
	// every module's symbol table for nothing.
	var m Module
	var allgs uint64
	for _, x := range p.Modules() {
		f := x.ELF()
		if f == nil || f.Section(".go.buildinfo") == nil && f.Section(".gopclntab") == nil {
			continue
		}
		if addr, ok := x.Symbol("runtime.allgs"); ok {
			m, allgs = x, addr
			break
		}
	}
	if m == nil {
		return nil, ErrNotGo
	}
	d, err := elfDWARF(m.ELF())
	if err != nil {
		return nil, fmt.Errorf("no DWARF for runtime.g: %w", err)
	}
	l, err := readLayout(d)
	if err != nil {
		return nil, err
	}
	rt := &Runtime{p: p, arch: a, allgs: allgs, g: l.g, gobuf: l.gobuf, m: l.m, panic: l.panic, mod: m, dw: d}
	for _, f := range []string{"goid", "atomicstatus", "sched", "_panic", "sig", "sigcode0", "sigcode1", "sigpc"} {
		if _, ok := rt.g[f]; !ok {
			return nil, fmt.Errorf("runtime.g has no field %s in DWARF", f)
		}
	}
	for _, f := range []string{"sp", "pc"} {
		if _, ok := rt.gobuf[f]; !ok {
			return nil, fmt.Errorf("runtime.gobuf has no field %s in DWARF", f)
		}
	}
	if addr, ok := m.Symbol("runtime.waitReasonStrings"); ok && l.nWaitReason > 0 {
		rt.waitReasons, rt.nWaitReason = addr, l.nWaitReason
	}
	if addr, ok := m.Symbol("runtime.buildVersion"); ok {
		rt.version = addr
	}
	return rt, nil
}

// Version is runtime.buildVersion ("go1.22.1"), "" when it cannot be read.
func (rt *Runtime) Version() string {
	if rt.version == 0 {
		return ""
	}
	return rt.goString(rt.version)
}

// layout is what the DWARF says of the runtime's structures.
type layout struct {
	g, gobuf, m map[string]int64 // member offsets of runtime.g, runtime.gobuf, runtime.m
	panic       map[string]int64 // and of runtime._panic
	nWaitReason int64            // len(runtime.waitReasonStrings), 0 if not found
}

// readLayout reads the member offsets of runtime.g, runtime.gobuf, runtime.m and
// runtime._panic, and the length of the runtime.waitReasonStrings array, in one pass over
// the DWARF.
func readLayout(d *dwarf.Data) (*layout, error) {
	want := map[string]bool{"runtime.g": true, "runtime.gobuf": true, "runtime.m": true, "runtime._panic": true}
	out := map[string]map[string]int64{}
	var wrLen int64
	r := die.NewReader(d)
	for len(out) < len(want) || wrLen == 0 {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading DWARF: %w", err)
		}
		if e == nil {
			break
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if e.Tag == dwarf.TagVariable && name == "runtime.waitReasonStrings" {
			if t, ok := e.Val(dwarf.AttrType).(dwarf.Offset); ok {
				if ty, err := d.Type(t); err == nil {
					if at, ok := ty.(*dwarf.ArrayType); ok {
						wrLen = at.Count
					}
				}
			}
		}
		if e.Tag != dwarf.TagStructType || !want[name] || out[name] != nil {
			if e.Tag != dwarf.TagCompileUnit && e.Children {
				r.SkipChildren()
			}
			continue
		}
		out[name] = members(r, e)
	}
	if out["runtime.g"] == nil {
		return nil, errors.New("no runtime.g in DWARF")
	}
	return &layout{g: out["runtime.g"], gobuf: out["runtime.gobuf"], m: out["runtime.m"], panic: out["runtime._panic"], nWaitReason: wrLen}, nil
}

// elfDWARF is f.DWARF with the standard library's panics on hostile sections turned
// into errors (golang/go#75516, an open slice-bounds panic in debug/elf's DWARF; the
// same family coredig's fuzzing found in debug/dwarf's line reader).
func elfDWARF(f *elf.File) (d *dwarf.Data, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("debug/elf: %v", r)
		}
	}()
	return f.DWARF()
}
