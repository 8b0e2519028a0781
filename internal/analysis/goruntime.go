package analysis

import (
	"debug/dwarf"
	"errors"
	"fmt"

	"github.com/coredig/coredig/internal/symbolize"
)

// maxGoroutines bounds the walk over runtime.allgs in a hostile core.
const maxGoroutines = 1 << 20

var errNotGo = errors.New("not a Go program")

// goRuntime is what coredig knows of a Go program's runtime: where its goroutine list is
// and how its structures are laid out, from the program's symbols and DWARF.
type goRuntime struct {
	allgs uint64
	// waitReasons is the address of runtime.waitReasonStrings ([N]string), 0 if absent.
	waitReasons uint64
	nWaitReason int64
	// version is runtime.buildVersion's address, 0 if absent.
	version uint64
	g       map[string]int64 // runtime.g field offsets
	gobuf   map[string]int64 // runtime.gobuf field offsets
	m       map[string]int64 // runtime.m field offsets
}

// goG is one goroutine as read from the core.
type goG struct {
	addr                                uint64
	goid                                uint64
	status                              uint32
	waitReason                          uint8
	schedPC, schedSP, schedBP, schedLR  uint64
	mProcID                             uint64 // the OS thread id running it, 0 if none
	sig                                 uint32
	sigcode0, sigcode1, sigpc, panicPtr uint64
}

// goRuntimeOf finds the Go runtime in the program, once.
func (a *Analysis) goRuntimeOf() (*goRuntime, error) {
	if a.goRT != nil || a.goRTErr != nil {
		return a.goRT, a.goRTErr
	}
	a.goRT, a.goRTErr = a.loadGoRuntime()
	return a.goRT, a.goRTErr
}

func (a *Analysis) loadGoRuntime() (*goRuntime, error) {
	// Only a module the Go linker built holds the runtime: it has .go.buildinfo (Go
	// 1.18+) or .gopclntab. Looking there first keeps other processes from loading
	// every module's symbol table for nothing.
	var m *symbolize.Module
	var allgs uint64
	for _, x := range a.Modules.Modules {
		f := x.ELF()
		if !x.Usable() || f.Section(".go.buildinfo") == nil && f.Section(".gopclntab") == nil {
			continue
		}
		if addr, ok := a.Modules.FindSymbolIn(x, "runtime.allgs"); ok {
			m, allgs = x, addr
			break
		}
	}
	if m == nil {
		return nil, errNotGo
	}
	d, err := m.ELF().DWARF()
	if err != nil {
		return nil, fmt.Errorf("no DWARF for runtime.g: %w", err)
	}
	rt := &goRuntime{allgs: allgs}
	structs, wrLen, err := goDWARF(d)
	if err != nil {
		return nil, err
	}
	rt.g, rt.gobuf, rt.m = structs["runtime.g"], structs["runtime.gobuf"], structs["runtime.m"]
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
	if addr, ok := a.Modules.FindSymbolIn(m, "runtime.waitReasonStrings"); ok && wrLen > 0 {
		rt.waitReasons, rt.nWaitReason = addr, wrLen
	}
	if addr, ok := a.Modules.FindSymbolIn(m, "runtime.buildVersion"); ok {
		rt.version = addr
	}
	return rt, nil
}

// goDWARF reads the member offsets of runtime.g, runtime.gobuf and runtime.m, and the
// length of the runtime.waitReasonStrings array, in one pass over the DWARF.
func goDWARF(d *dwarf.Data) (map[string]map[string]int64, int64, error) {
	want := map[string]bool{"runtime.g": true, "runtime.gobuf": true, "runtime.m": true}
	out := map[string]map[string]int64{}
	var wrLen int64
	r := d.Reader()
	for len(out) < len(want) || wrLen == 0 {
		e, err := r.Next()
		if err != nil {
			return nil, 0, fmt.Errorf("reading DWARF: %w", err)
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
		off := map[string]int64{}
		for e.Children {
			m, err := r.Next()
			if err != nil || m == nil || m.Tag == 0 {
				break
			}
			if o, ok := m.Val(dwarf.AttrDataMemberLoc).(int64); ok {
				if n, ok := m.Val(dwarf.AttrName).(string); ok {
					off[n] = o
				}
			}
			if m.Children {
				r.SkipChildren()
			}
		}
		out[name] = off
	}
	if out["runtime.g"] == nil {
		return nil, 0, errors.New("no runtime.g in DWARF")
	}
	return out, wrLen, nil
}

// goroutines reads every goroutine of runtime.allgs.
func (a *Analysis) goroutines(rt *goRuntime) ([]goG, error) {
	c := a.Core
	ps := uint64(c.Arch.PtrSize)
	// allgs is a []*g: pointer, length, capacity.
	base, err := c.ReadPtr(rt.allgs)
	if err != nil {
		return nil, fmt.Errorf("reading runtime.allgs: %w", err)
	}
	n, err := c.ReadPtr(rt.allgs + ps)
	if err != nil {
		return nil, fmt.Errorf("reading len(runtime.allgs): %w", err)
	}
	if n > maxGoroutines {
		return nil, fmt.Errorf("len(runtime.allgs) = %d is not believable", n)
	}
	word := func(g uint64, off int64) uint64 {
		v, _ := c.ReadPtr(g + uint64(off))
		return v
	}
	u32 := func(g uint64, off int64) uint32 {
		var b [4]byte
		if c.ReadFull(b[:], g+uint64(off)) != nil {
			return 0
		}
		return c.Arch.ByteOrder.Uint32(b[:])
	}
	out := make([]goG, 0, min(n, 4096))
	for i := uint64(0); i < n; i++ {
		g, err := c.ReadPtr(base + i*ps)
		if err != nil {
			return out, fmt.Errorf("reading runtime.allgs[%d]: %w", i, err)
		}
		if g == 0 {
			continue
		}
		var status [4]byte
		if c.ReadFull(status[:], g+uint64(rt.g["atomicstatus"])) != nil {
			continue
		}
		x := goG{addr: g, goid: word(g, rt.g["goid"]), status: c.Arch.ByteOrder.Uint32(status[:])}
		sched := rt.g["sched"]
		x.schedPC, x.schedSP = word(g, sched+rt.gobuf["pc"]), word(g, sched+rt.gobuf["sp"])
		if o, ok := rt.gobuf["bp"]; ok {
			x.schedBP = word(g, sched+o)
		}
		if o, ok := rt.gobuf["lr"]; ok {
			x.schedLR = word(g, sched+o)
		}
		if o, ok := rt.g["waitreason"]; ok {
			var b [1]byte
			if c.ReadFull(b[:], g+uint64(o)) == nil {
				x.waitReason = b[0]
			}
		}
		if o, ok := rt.g["m"]; ok {
			if m := word(g, o); m != 0 {
				if po, ok := rt.m["procid"]; ok {
					x.mProcID = word(m, po)
				}
			}
		}
		x.sig = u32(g, rt.g["sig"])
		x.sigcode0, x.sigcode1 = word(g, rt.g["sigcode0"]), word(g, rt.g["sigcode1"])
		x.sigpc, x.panicPtr = word(g, rt.g["sigpc"]), word(g, rt.g["_panic"])
		out = append(out, x)
	}
	return out, nil
}

// goStatusNames are runtime/runtime2.go's _G* states.
var goStatusNames = map[uint32]string{
	0: "idle", 1: "runnable", 2: "running", 3: "syscall", 4: "waiting", 6: "dead",
	8: "copystack", 9: "preempted",
}

// goStatus names a goroutine state; the _Gscan bit (0x1000) marks one being scanned.
func goStatus(s uint32) string {
	name, ok := goStatusNames[s&^0x1000]
	if !ok {
		name = fmt.Sprintf("status %d", s&^0x1000)
	}
	return name
}

// goWaitReason reads the text of a wait reason from runtime.waitReasonStrings.
func (a *Analysis) goWaitReason(rt *goRuntime, r uint8) string {
	if rt.waitReasons == 0 || int64(r) >= rt.nWaitReason {
		return ""
	}
	return a.goString(rt.waitReasons + uint64(r)*2*uint64(a.Core.Arch.PtrSize))
}

// goString reads a Go string header (pointer, length) at addr.
func (a *Analysis) goString(addr uint64) string {
	c := a.Core
	p, err1 := c.ReadPtr(addr)
	n, err2 := c.ReadPtr(addr + uint64(c.Arch.PtrSize))
	if err1 != nil || err2 != nil || n == 0 || n > 256 {
		return ""
	}
	b := make([]byte, n)
	if c.ReadFull(b, p) != nil {
		return ""
	}
	return string(b)
}
