// Package dwarfvar answers, from DWARF, what a crashing instruction was working on: the
// variables in scope at a pc with their locations there, the type of a global, the
// field of a structure at a byte offset ("handlers[6].tripped"), and a variable's value
// in a frame, formatted as gdb prints C values (Target.Value).
//
// Locations come from DW_AT_location as an expression or a location list (DWARF 5
// .debug_loclists, DWARF 4 .debug_loc); types from debug/dwarf. Every walk is bounded,
// and malformed input gives an error or no answer, never a panic.
package dwarfvar

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/coredig/coredig/internal/dwarf/die"
	"strconv"
	"strings"
	"sync"
)

// Limits for hostile DWARF.
const (
	maxScopeDIEs  = 1 << 16 // DIEs walked inside one compile unit
	maxListEnts   = 1 << 14 // entries of one location list
	maxFieldHops  = 32      // nested structures and arrays followed for a field
	maxGlobalCUs  = 4096    // compile units searched for a global by name
	maxGlobalDIEs = 1 << 20 // DIEs read in all during that search
)

// Source gives a Reader its parsed DWARF. A dwarfsym.Index is one: it parses the
// abbreviation tables of the units a question needs rather than of every unit.
type Source interface {
	// Data returns parsed DWARF that decodes the units holding the .debug_info offsets
	// offs (DIEs of other units may not decode in it).
	Data(offs ...dwarf.Offset) (*dwarf.Data, error)
	// AllData returns parsed DWARF that decodes every unit, for scans of all units.
	AllData() (*dwarf.Data, error)
	// Type reads the type at off; it must be safe for Readers on several goroutines
	// that share the Source (debug/dwarf caches types in a Data without a lock).
	Type(off dwarf.Offset) (dwarf.Type, error)
}

// Reader reads variables and types from one module's DWARF.
type Reader struct {
	src   Source
	order binary.ByteOrder
	info  []byte // .debug_info, for the unit headers' versions
	addr  []byte // .debug_addr (DWARF 5 indexed addresses)

	// The location list sections are read from file on first use, with read.
	file     *elf.File
	read     func(s *elf.Section, limit uint64) ([]byte, error)
	listOnce sync.Once
	// units, when set, names the candidate units for a pc (see UseUnitIndex).
	units    func(pc uint64) ([]dwarf.Offset, bool)
	loclists []byte // .debug_loclists (DWARF 5)
	loc      []byte // .debug_loc (DWARF 4)
	// addrSize is the size of a target address in the location lists and .debug_addr:
	// 4 in a 32-bit ELF file (i386, 32-bit ARM), else 8.
	addrSize int
}

// maxListSection bounds a location list section read from file.
const maxListSection = 256 << 20

// New reads variables from the parsed DWARF of src (a dwarfsym.Index, which may be
// shared with other Readers on other goroutines) with its raw .debug_info and
// .debug_addr; the location lists come from f when a variable needs them, read with read
// (nil: (*elf.Section).Data).
func New(src Source, info, addr []byte, order binary.ByteOrder, f *elf.File, read func(s *elf.Section, limit uint64) ([]byte, error)) *Reader {
	if read == nil {
		read = func(s *elf.Section, _ uint64) ([]byte, error) { return s.Data() }
	}
	addrSize := 8
	if f != nil && f.Class == elf.ELFCLASS32 {
		addrSize = 4
	}
	return &Reader{src: src, info: info, addr: addr, order: order, file: f, read: read, addrSize: addrSize}
}

// UseUnitIndex gives the reader an index of the units' address ranges (a
// dwarfsym.Index's UnitsAt): finding the unit that holds a pc then reads the DIEs of the
// candidate units only, not of every unit before it. The first candidate in section
// order whose ranges hold the pc is the unit a scan would have found; when the index
// says it is not complete, the reader scans as without it.
func (r *Reader) UseUnitIndex(units func(pc uint64) ([]dwarf.Offset, bool)) {
	r.units = units
}

// lists loads the location list sections once.
func (r *Reader) lists() {
	r.listOnce.Do(func() {
		if r.file == nil {
			return
		}
		for name, dst := range map[string]*[]byte{".debug_loclists": &r.loclists, ".debug_loc": &r.loc} {
			for _, n := range []string{name, ".zdebug_" + name[len(".debug_"):]} {
				if s := r.file.Section(n); s != nil && s.Type != elf.SHT_NOBITS && s.Size <= maxListSection {
					if b, err := r.read(s, maxListSection); err == nil {
						*dst = b
						break
					}
				}
			}
		}
	})
}

// Var is a variable or parameter in scope at a pc.
type Var struct {
	Name string
	Type dwarf.Type
	// Expr is its location expression valid at the pc; nil when it has none there
	// (optimized out).
	Expr []byte
	// Param is set for a formal parameter.
	Param bool
	// Const holds the value's bytes (target order) when DWARF gives it as
	// DW_AT_const_value instead of a location: a constant the compiler folded.
	Const []byte
	// Inline is how many inlined calls enclose the variable inside the function: 0
	// for the function's own, Scope.Inlines for the innermost inlined call's.
	Inline int
}

// Scope is what is visible at a pc inside a function.
type Scope struct {
	Function string
	// FrameBase is the function's DW_AT_frame_base expression.
	FrameBase []byte
	// Vars are innermost scope first.
	Vars []Var
	// Inlines is the depth of inlined calls at the pc (0 when none).
	Inlines int
}

// ScopeAt returns the variables visible at pc (a link-time address) in the innermost
// concrete function holding it, with their locations at pc.
func (r *Reader) ScopeAt(pc uint64) (*Scope, error) {
	cu, err := r.unitFor(pc)
	if err != nil {
		return nil, err
	}
	d, err := r.src.Data(cu.Offset)
	if err != nil {
		return nil, err
	}
	rd := die.NewReader(d)
	rd.Seek(cu.Offset)
	if _, err := rd.Next(); err != nil {
		return nil, err
	}
	base, _ := cu.Val(dwarf.AttrLowpc).(uint64)
	lbase, _ := cu.Val(dwarf.AttrLoclistsBase).(int64)
	abase, _ := cu.Val(dwarf.AttrAddrBase).(int64)
	u := unitCtx{base: base, loclistsBase: uint64(lbase), addrBase: uint64(abase), version: r.unitVersion(cu)}

	var sc *Scope
	// One level per open DIE with children: in says the DIE holds pc (the unit always
	// does), idx the scope (in scopes) whose variables its children are, or -1; inline
	// how many inlined calls enclose it inside the function.
	type level struct {
		in          bool
		idx, inline int
	}
	stack := []level{{in: true, idx: -1}}
	var scopes [][]Var
	for n := 0; n < maxScopeDIEs; n++ {
		e, err := rd.Next()
		if err != nil {
			return sc, err
		}
		if e == nil {
			break
		}
		if e.Tag == 0 {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(stack) == 0 || top.idx >= 0 && stack[len(stack)-1].idx < 0 && sc != nil {
				break // the function holding pc is closed: done
			}
			continue
		}
		parent := stack[len(stack)-1]
		lv := level{idx: -1, inline: parent.inline}
		switch e.Tag {
		case dwarf.TagSubprogram, dwarf.TagLexDwarfBlock, dwarf.TagInlinedSubroutine:
			if parent.in && containsPC(d, e, pc) {
				lv.in = true
				switch e.Tag {
				case dwarf.TagSubprogram:
					fb, _ := e.Val(dwarf.AttrFrameBase).([]byte)
					sc = &Scope{Function: r.name(e), FrameBase: fb}
					scopes, lv.inline = nil, 0
				case dwarf.TagInlinedSubroutine:
					lv.inline++
					if sc != nil && lv.inline > sc.Inlines {
						sc.Inlines = lv.inline
					}
				}
				lv.idx = len(scopes)
				scopes = append(scopes, nil)
			}
		case dwarf.TagNamespace, dwarf.TagModule:
			lv.in = parent.in && len(stack) < 64
		case dwarf.TagVariable, dwarf.TagFormalParameter:
			if parent.idx >= 0 && parent.idx < len(scopes) {
				v := r.variable(e, pc, u)
				v.Inline = parent.inline
				scopes[parent.idx] = append(scopes[parent.idx], v)
			}
		}
		if e.Children {
			if !lv.in {
				rd.SkipChildren()
				continue
			}
			stack = append(stack, lv)
		}
	}
	if sc == nil {
		return nil, fmt.Errorf("no function holds %#x in its unit's DWARF", pc)
	}
	for i := len(scopes) - 1; i >= 0; i-- {
		sc.Vars = append(sc.Vars, scopes[i]...)
	}
	return sc, nil
}

// origin follows DW_AT_abstract_origin (an inlined or out-of-line instance names its
// variables and functions there) to the DIE that carries attribute a.
func (r *Reader) origin(e *dwarf.Entry, a dwarf.Attr) *dwarf.Entry {
	for i := 0; i < 4 && e != nil; i++ {
		if e.Val(a) != nil {
			return e
		}
		off, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
		if !ok {
			off, ok = e.Val(dwarf.AttrSpecification).(dwarf.Offset)
		}
		if !ok {
			return nil
		}
		d, err := r.src.Data(off)
		if err != nil {
			return nil
		}
		rd := die.NewReader(d)
		rd.Seek(off)
		next, err := rd.Next()
		if err != nil || next == nil || next.Offset != off {
			return nil
		}
		e = next
	}
	return nil
}

func (r *Reader) name(e *dwarf.Entry) string {
	if o := r.origin(e, dwarf.AttrName); o != nil {
		s, _ := o.Val(dwarf.AttrName).(string)
		return s
	}
	return ""
}

func (r *Reader) variable(e *dwarf.Entry, pc uint64, u unitCtx) Var {
	v := Var{Param: e.Tag == dwarf.TagFormalParameter, Name: r.name(e)}
	if o := r.origin(e, dwarf.AttrType); o != nil {
		if off, ok := o.Val(dwarf.AttrType).(dwarf.Offset); ok {
			v.Type, _ = r.src.Type(off)
		}
	}
	f := e.AttrField(dwarf.AttrLocation)
	if f == nil {
		if cv := e.Val(dwarf.AttrConstValue); cv != nil {
			v.Const = r.constBytes(cv, v.Type)
		}
		return v
	}
	switch f.Class {
	case dwarf.ClassExprLoc:
		v.Expr, _ = f.Val.([]byte)
	case dwarf.ClassLocListPtr:
		if off, ok := f.Val.(int64); ok {
			v.Expr = r.locListAt(uint64(off), pc, u, false)
		}
	case dwarf.ClassLocList:
		if idx, ok := f.Val.(int64); ok {
			v.Expr = r.locListAt(uint64(idx), pc, u, true)
		}
	}
	return v
}

// constBytes turns a DW_AT_const_value (an integer or a block) into the value's bytes.
func (r *Reader) constBytes(cv any, t dwarf.Type) []byte {
	switch x := cv.(type) {
	case []byte:
		return x
	case int64:
		size := int64(8)
		if t != nil && t.Size() > 0 && t.Size() < 8 {
			size = t.Size()
		}
		b := make([]byte, 8)
		r.order.PutUint64(b, uint64(x))
		if r.order == binary.BigEndian {
			return b[8-size:]
		}
		return b[:size]
	}
	return nil
}

// containsPC says whether the ranges of e, a DIE that d decodes, hold pc.
func containsPC(d *dwarf.Data, e *dwarf.Entry, pc uint64) bool {
	ranges, err := d.Ranges(e)
	if err != nil {
		return false
	}
	for _, rg := range ranges {
		if pc >= rg[0] && pc < rg[1] {
			return true
		}
	}
	return false
}

// unitFor finds the compile unit whose ranges hold pc.
func (r *Reader) unitFor(pc uint64) (*dwarf.Entry, error) {
	if r.units != nil {
		offs, complete := r.units(pc)
		for _, off := range offs {
			d, err := r.src.Data(off)
			if err != nil {
				continue
			}
			rd := die.NewReader(d)
			rd.Seek(off)
			if e, err := rd.Next(); err == nil && e != nil && containsPC(d, e, pc) {
				return e, nil
			}
		}
		if complete {
			return nil, fmt.Errorf("no compile unit holds %#x", pc)
		}
	}
	d, err := r.src.AllData()
	if err != nil {
		return nil, err
	}
	if e, err := d.Reader().SeekPC(pc); err == nil {
		return e, nil
	} else if !errors.Is(err, dwarf.ErrUnknownPC) {
		return nil, err
	}
	return nil, fmt.Errorf("no compile unit holds %#x", pc)
}

// unitVersion reads the DWARF version of the unit whose DIE is cu from its header,
// which debug/dwarf does not expose: the header ends where the unit DIE starts, its
// version 2 bytes after the 4-byte length (32-bit DWARF), and it is 11 bytes long
// before DWARF 5, 12 bytes from DWARF 5 on.
func (r *Reader) unitVersion(cu *dwarf.Entry) int {
	at := func(back int) int {
		i := int(cu.Offset) - back
		if i < 0 || i+2 > len(r.info) {
			return 0
		}
		return int(r.order.Uint16(r.info[i:]))
	}
	if at(8) == 5 {
		return 5
	}
	if v := at(7); v >= 2 && v <= 4 {
		return v
	}
	if r.lists(); len(r.loc) == 0 {
		return 5
	}
	return 4
}

// Global finds the type of a global variable by name: first among the top-level
// variables of the unit that holds pc (where a declaration names its type even when it
// is defined elsewhere), then in the other units.
func (r *Reader) Global(pc uint64, name string) (*Var, error) {
	budget := maxGlobalDIEs
	if cu, err := r.unitFor(pc); err == nil {
		if v := r.globalIn(cu.Offset, name, &budget); v != nil {
			return v, nil
		}
	}
	d, err := r.src.AllData()
	if err != nil {
		return nil, err
	}
	rd := die.NewReader(d)
	for i := 0; i < maxGlobalCUs; i++ {
		cu, err := rd.Next()
		if err != nil {
			return nil, err
		}
		if cu == nil {
			break
		}
		if budget <= 0 {
			return nil, fmt.Errorf("global variable %s not found within the DWARF search budget", name)
		}
		if cu.Tag == dwarf.TagCompileUnit || cu.Tag == dwarf.TagPartialUnit {
			if v := r.globalIn(cu.Offset, name, &budget); v != nil {
				return v, nil
			}
		}
		rd.SkipChildren()
	}
	return nil, fmt.Errorf("no global variable %s in DWARF", name)
}

func (r *Reader) globalIn(cuOff dwarf.Offset, name string, budget *int) *Var {
	d, err := r.src.Data(cuOff)
	if err != nil {
		return nil
	}
	rd := die.NewReader(d)
	rd.Seek(cuOff)
	cu, err := rd.Next()
	if err != nil || cu == nil || !cu.Children {
		return nil
	}
	for n := 0; n < maxScopeDIEs && *budget > 0; n++ {
		*budget--
		e, err := rd.Next()
		if err != nil || e == nil || e.Tag == 0 {
			return nil
		}
		if e.Tag == dwarf.TagVariable {
			if s, _ := e.Val(dwarf.AttrName).(string); s == name {
				if off, ok := e.Val(dwarf.AttrType).(dwarf.Offset); ok {
					if t, err := r.src.Type(off); err == nil {
						return &Var{Name: name, Type: t}
					}
				}
			}
		}
		if e.Children {
			rd.SkipChildren()
		}
	}
	return nil
}

// Strip removes typedefs and qualifiers.
func Strip(t dwarf.Type) dwarf.Type {
	for i := 0; i < maxFieldHops && t != nil; i++ {
		switch x := t.(type) {
		case *dwarf.TypedefType:
			t = x.Type
		case *dwarf.QualType:
			t = x.Type
		default:
			return t
		}
	}
	return t
}

// Pointee returns what a pointer type points to, nil when t is not a pointer.
func Pointee(t dwarf.Type) dwarf.Type {
	if p, ok := Strip(t).(*dwarf.PtrType); ok {
		return p.Type
	}
	return nil
}

// TypeName names a type as C writes it ("struct signal_state *", "int * volatile").
func TypeName(t dwarf.Type) string {
	return cName(t, 0)
}

func cName(t dwarf.Type, depth int) string {
	if t == nil || depth > maxFieldHops {
		return "?"
	}
	switch x := t.(type) {
	case *dwarf.PtrType:
		if x.Type == nil {
			return "void *"
		}
		if fn, ok := Strip(x.Type).(*dwarf.FuncType); ok {
			return funcDecl(fn, "(*)", depth)
		}
		inner := cName(x.Type, depth+1)
		if strings.Contains(inner, ".") && !strings.ContainsAny(inner, " (") {
			return "*" + inner // a Go type ("main.T"): Go writes the pointer first
		}
		if strings.HasSuffix(inner, "*") {
			return inner + "*"
		}
		return inner + " *"
	case *dwarf.QualType:
		if _, ok := x.Type.(*dwarf.PtrType); ok {
			return cName(x.Type, depth+1) + " " + x.Qual
		}
		inner := cName(x.Type, depth+1)
		if strings.HasPrefix(inner, x.Qual+" ") {
			return inner // a const array of const elements reads "const T [n]" in C
		}
		return x.Qual + " " + inner
	case *dwarf.TypedefType:
		return x.Name
	case *dwarf.ArrayType:
		n := ""
		if x.Count >= 0 {
			n = strconv.FormatInt(x.Count, 10)
		}
		return cName(x.Type, depth+1) + " [" + n + "]"
	case *dwarf.FuncType:
		return funcDecl(x, "", depth)
	case *dwarf.VoidType:
		return "void"
	case *dwarf.EnumType:
		if x.EnumName != "" {
			return "enum " + x.EnumName
		}
		return "enum"
	}
	return t.String()
}

// funcDecl writes a function type around a declarator: "int (*)(int, char **)".
func funcDecl(fn *dwarf.FuncType, declarator string, depth int) string {
	ret := "void"
	if fn.ReturnType != nil {
		ret = cName(fn.ReturnType, depth+1)
	}
	params := make([]string, 0, len(fn.ParamType))
	for _, p := range fn.ParamType {
		params = append(params, cName(p, depth+1))
	}
	if len(params) == 0 {
		params = []string{"void"}
	}
	if declarator != "" {
		declarator = " " + declarator
	}
	return ret + declarator + "(" + strings.Join(params, ", ") + ")"
}

// FieldPath names the member of t at byte offset off: ".handlers[6].tripped", "[3]",
// or "" for offset 0 of a scalar. ok is false when off lies outside t or in padding.
func FieldPath(t dwarf.Type, off int64) (path string, ok bool) {
	var b strings.Builder
	for hop := 0; hop < maxFieldHops; hop++ {
		t = Strip(t)
		if t == nil || off < 0 {
			return "", false
		}
		size := t.Size()
		if size > 0 && off >= size {
			return "", false
		}
		switch x := t.(type) {
		case *dwarf.StructType:
			var hit *dwarf.StructField
			var hitOff int64
			for _, f := range x.Field {
				fo, fs := f.ByteOffset, f.Type.Size()
				if f.BitSize > 0 {
					// A bit-field: DWARF 5 places it by DW_AT_data_bit_offset.
					bit := f.DataBitOffset
					if bit == 0 {
						bit = f.ByteOffset*8 + f.BitOffset
					}
					fo, fs = bit/8, (bit%8+f.BitSize+7)/8
				}
				if off >= fo && (off < fo+fs || fs <= 0 && off == fo) {
					hit, hitOff = f, fo
					break
				}
			}
			if hit == nil {
				return b.String(), false
			}
			if hit.Name != "" {
				b.WriteString("." + hit.Name)
			}
			off -= hitOff
			if hit.BitSize > 0 {
				return b.String(), true // no finer place inside a bit-field
			}
			t = hit.Type
		case *dwarf.ArrayType:
			es := x.Type.Size()
			if es <= 0 {
				return b.String(), false
			}
			fmt.Fprintf(&b, "[%d]", off/es)
			off %= es
			t = x.Type
		default:
			if off == 0 {
				return b.String(), true
			}
			return b.String(), false
		}
	}
	return b.String(), false
}
