// Command gen reads the DWARF of real CPython builds and writes the struct
// layout table internal/python/offsets_gen.go.
//
// Usage (from internal/python, via go generate):
//
//	go run ./internal/gen -o offsets_gen.go /root/.pyenv/versions/3.8.18/lib/libpython3.8.so.1.0 ...
//
// Each input is a libpython (or a statically linked python executable) with
// DWARF, or a stripped one whose separate debug file is found by its build ID
// under one of the -debugdir roots (ROOT/.build-id/xx/rest.debug, as gdb looks
// for it under /usr/lib/debug). The version is taken from the file name's "3.X"
// and from the PY_VERSION string found in .rodata; the pointer size from the ELF
// class, the machine and the byte order from the ELF header. One table entry is
// written per input and keyed by its minor version range, pointer size, machine (""
// for x86_64 builds, whose entries serve every little-endian LP64 machine without its
// own) and byte order. A field that the build does not have is written as -1.
package main

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/coredig/coredig/internal/dwarfvar"
)

// field names one int64 of the Layout struct and where its value comes from:
// the first struct name (typedef or tag) that exists, then the first dotted
// member path inside it that resolves. kind selects what is emitted.
type field struct {
	name    string
	structs []string
	paths   []string
	kind    int
}

const (
	kOffset  = iota // byte offset of the member
	kSizeof         // byte size of the struct itself (paths unused)
	kBitPos         // bit position of a bitfield member relative to its containing storage unit at the offset given by the previous kOffset field
	kBitSize        // width in bits of a bitfield member
)

var (
	runtime  = []string{"_PyRuntimeState", "pyruntimestate"}
	interp   = []string{"PyInterpreterState", "_is"}
	tstate   = []string{"PyThreadState", "_ts"}
	gil      = []string{"_gil_runtime_state"}
	cframe   = []string{"_PyCFrame"}
	frameObj = []string{"PyFrameObject", "_frame"}
	iframe   = []string{"_PyInterpreterFrame"}
	code     = []string{"PyCodeObject"}
	ascii    = []string{"PyASCIIObject"}
	compact  = []string{"PyCompactUnicodeObject"}
	bytesObj = []string{"PyBytesObject"}
	tuple    = []string{"PyTupleObject"}
	object   = []string{"PyObject", "_object"}
)

var fields = []field{
	{"RuntimeSize", runtime, nil, kSizeof},
	{"RuntimeInterpretersHead", runtime, []string{"interpreters.head"}, kOffset},
	{"RuntimeInterpretersMain", runtime, []string{"interpreters.main"}, kOffset},
	{"RuntimeTstateCurrent", runtime, []string{"gilstate.tstate_current", "tstate_current"}, kOffset},
	{"RuntimeFinalizing", runtime, []string{"_finalizing", "finalizing"}, kOffset},
	{"RuntimeFinalizingID", runtime, []string{"_finalizing_id"}, kOffset},
	{"RuntimeGIL", runtime, []string{"ceval.gil"}, kOffset},
	{"RuntimeGCCollecting", runtime, []string{"gc.collecting"}, kOffset},

	{"InterpSize", interp, nil, kSizeof},
	{"InterpNext", interp, []string{"next"}, kOffset},
	{"InterpID", interp, []string{"id"}, kOffset},
	{"InterpThreadsHead", interp, []string{"threads.head", "tstate_head"}, kOffset},
	{"InterpGILPtr", interp, []string{"ceval.gil"}, kOffset},
	{"InterpGCCollecting", interp, []string{"gc.collecting"}, kOffset},
	{"InterpFinalizing", interp, []string{"_finalizing"}, kOffset},

	{"RuntimeGILDropRequest", runtime, []string{"ceval.gil_drop_request"}, kOffset},
	{"InterpGILDropRequest", interp, []string{"ceval.gil_drop_request"}, kOffset},
	{"TstateEvalBreaker", tstate, []string{"eval_breaker"}, kOffset},

	{"GILLocked", gil, []string{"locked"}, kOffset},
	{"GILLastHolder", gil, []string{"last_holder"}, kOffset},

	{"TstateSize", tstate, nil, kSizeof},
	{"TstateNext", tstate, []string{"next"}, kOffset},
	{"TstateInterp", tstate, []string{"interp"}, kOffset},
	{"TstateFrame", tstate, []string{"frame"}, kOffset},
	{"TstateCFrame", tstate, []string{"cframe"}, kOffset},
	{"TstateCurrentFrame", tstate, []string{"current_frame"}, kOffset},
	{"TstateThreadID", tstate, []string{"thread_id"}, kOffset},
	{"TstateNativeThreadID", tstate, []string{"native_thread_id"}, kOffset},
	{"CFrameCurrentFrame", cframe, []string{"current_frame"}, kOffset},

	{"FrameObjBack", frameObj, []string{"f_back"}, kOffset},
	{"FrameObjCode", frameObj, []string{"f_code"}, kOffset},
	{"FrameObjLasti", frameObj, []string{"f_lasti"}, kOffset},
	{"FrameObjLineno", frameObj, []string{"f_lineno"}, kOffset},
	{"FrameObjTrace", frameObj, []string{"f_trace"}, kOffset},
	{"FrameObjLocalsplus", frameObj, []string{"f_localsplus"}, kOffset},

	{"IFrameSize", iframe, nil, kSizeof},
	{"IFramePrevious", iframe, []string{"previous"}, kOffset},
	{"IFrameCode", iframe, []string{"f_executable", "f_code"}, kOffset},
	{"IFrameInstr", iframe, []string{"instr_ptr", "prev_instr"}, kOffset},
	{"IFrameOwner", iframe, []string{"owner"}, kOffset},
	{"IFrameIsEntry", iframe, []string{"is_entry"}, kOffset},
	{"IFrameLocalsplus", iframe, []string{"localsplus"}, kOffset},

	{"CodeSize", code, nil, kSizeof},
	{"CodeName", code, []string{"co_name"}, kOffset},
	{"CodeQualname", code, []string{"co_qualname"}, kOffset},
	{"CodeFilename", code, []string{"co_filename"}, kOffset},
	{"CodeFirstLineno", code, []string{"co_firstlineno"}, kOffset},
	{"CodeLnotab", code, []string{"co_lnotab"}, kOffset},
	{"CodeLinetable", code, []string{"co_linetable"}, kOffset},
	{"CodeCodeAdaptive", code, []string{"co_code_adaptive"}, kOffset},
	{"CodeFirstTraceable", code, []string{"_co_firsttraceable"}, kOffset},
	{"CodeVarnames", code, []string{"co_varnames"}, kOffset},
	{"CodeNlocals", code, []string{"co_nlocals"}, kOffset},
	{"CodeLocalsplusnames", code, []string{"co_localsplusnames"}, kOffset},
	{"CodeLocalspluskinds", code, []string{"co_localspluskinds"}, kOffset},

	{"ObjectType", object, []string{"ob_type"}, kOffset},
	{"ASCIISize", ascii, nil, kSizeof},
	{"CompactUnicodeSize", compact, nil, kSizeof},
	{"UnicodeLength", ascii, []string{"length"}, kOffset},
	{"UnicodeState", ascii, []string{"state"}, kOffset},
	{"UnicodeKindShift", ascii, []string{"state.kind"}, kBitPos},
	{"UnicodeKindBits", ascii, []string{"state.kind"}, kBitSize},
	{"UnicodeCompactShift", ascii, []string{"state.compact"}, kBitPos},
	{"UnicodeASCIIShift", ascii, []string{"state.ascii"}, kBitPos},
	{"UnicodeReadyShift", ascii, []string{"state.ready"}, kBitPos},

	{"BytesSize", bytesObj, []string{"ob_base.ob_size"}, kOffset},
	{"BytesSval", bytesObj, []string{"ob_sval"}, kOffset},
	{"TupleSize", tuple, []string{"ob_base.ob_size"}, kOffset},
	{"TupleItem", tuple, []string{"ob_item"}, kOffset},
}

// types indexes the complete struct types of one binary by typedef and tag name.
type types map[string]*dwarf.StructType

func loadTypes(d *dwarf.Data) (types, error) {
	want := map[string]bool{}
	for _, f := range fields {
		for _, s := range f.structs {
			want[s] = true
		}
	}
	out := types{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagTypedef && e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if !want[name] || out[name] != nil {
			continue
		}
		t, err := d.Type(e.Offset)
		if err != nil {
			continue
		}
		for {
			td, ok := t.(*dwarf.TypedefType)
			if !ok {
				break
			}
			t = td.Type
		}
		st, ok := t.(*dwarf.StructType)
		if !ok || st.Incomplete || len(st.Field) == 0 {
			continue
		}
		out[name] = st
	}
	return out, nil
}

// resolve walks a dotted member path and returns the member's byte offset and
// the final member.
func resolve(st *dwarf.StructType, path string) (int64, *dwarf.StructField, bool) {
	var off int64
	var cur dwarf.Type = st
	var last *dwarf.StructField
	for _, part := range strings.Split(path, ".") {
		s, ok := dwarfvar.Strip(cur).(*dwarf.StructType)
		if !ok {
			return 0, nil, false
		}
		found := false
		for _, f := range s.Field {
			if f.Name == part {
				off += f.ByteOffset
				cur, last, found = f.Type, f, true
				break
			}
		}
		if !found {
			return 0, nil, false
		}
	}
	return off, last, true
}

// value returns field f's value in a build of the given byte order.
func value(ts types, f field, bigEndian bool) (int64, bool) {
	for _, sn := range f.structs {
		st := ts[sn]
		if st == nil {
			continue
		}
		if f.kind == kSizeof {
			return st.ByteSize, true
		}
		for _, p := range f.paths {
			off, m, ok := resolve(st, p)
			if !ok {
				continue
			}
			switch f.kind {
			case kOffset:
				return off, true
			case kBitSize:
				if m.BitSize == 0 {
					return 0, false
				}
				return m.BitSize, true
			case kBitPos:
				if m.BitSize == 0 {
					return 0, false
				}
				// DWARF 4+ DW_AT_data_bit_offset counts bits from the start of the
				// enclosing struct (state) in memory order. The walker wants the
				// shift of the field in the storage unit read as one integer (the
				// state's unsigned int): in a little-endian build the same number;
				// in a big-endian one (s390x: the ABI allocates bit fields from the
				// most significant bit) the count from the unit's other end.
				pos := m.DataBitOffset - m.ByteOffset*8
				if bigEndian {
					unit := 8 * m.Type.Size()
					if unit <= 0 || pos+m.BitSize > unit {
						return 0, false
					}
					pos = unit - pos - m.BitSize
				}
				return pos, true
			}
		}
	}
	return 0, false
}

var versionRE = regexp.MustCompile(`[^0-9.](3\.[0-9]+\.[0-9]+)\x00`)

func fileVersion(path string, f *elf.File) (string, error) {
	base := filepath.Base(path)
	m := regexp.MustCompile(`python(3\.[0-9]+)`).FindStringSubmatch(base)
	if m == nil {
		return "", fmt.Errorf("%s: no python3.X in file name", path)
	}
	sec := f.Section(".rodata")
	if sec == nil {
		return "", fmt.Errorf("%s: no .rodata", path)
	}
	data, err := sec.Data()
	if err != nil {
		return "", fmt.Errorf("%s: .rodata: %w", path, err)
	}
	for _, mm := range versionRE.FindAllSubmatch(data, -1) {
		if strings.HasPrefix(string(mm[1]), m[1]+".") {
			return string(mm[1]), nil
		}
	}
	return "", fmt.Errorf("%s: no %s.N version string in .rodata", path, m[1])
}

type entry struct {
	version string
	minor   int
	ptrSize int
	machine string // the architecture as internal/arch names it; "" for x86_64 builds
	big     bool   // a big-endian build
	source  string
	values  map[string]int64
}

// buildID returns the hex build ID of f from its .note.gnu.build-id section, or "".
func buildID(f *elf.File) string {
	sec := f.Section(".note.gnu.build-id")
	if sec == nil {
		return ""
	}
	b, err := sec.Data()
	if err != nil || len(b) < 16 {
		return ""
	}
	namesz, descsz := f.ByteOrder.Uint32(b[0:]), f.ByteOrder.Uint32(b[4:])
	start := 12 + (uint64(namesz)+3)&^3
	if start+uint64(descsz) > uint64(len(b)) {
		return ""
	}
	return fmt.Sprintf("%x", b[start:start+uint64(descsz)])
}

// debugFile finds the separate debug file of f by build ID under the roots.
// It returns the path and its name under the root.
func debugFile(f *elf.File, roots []string) (path, rel string, ok bool) {
	id := buildID(f)
	if len(id) < 4 {
		return "", "", false
	}
	for _, r := range roots {
		rel := filepath.Join(".build-id", id[:2], id[2:]+".debug")
		if _, err := os.Stat(filepath.Join(r, rel)); err == nil {
			return filepath.Join(r, rel), rel, true
		}
	}
	return "", "", false
}

func load(path string, debugRoots []string) (entry, error) {
	f, err := elf.Open(path)
	if err != nil {
		return entry{}, err
	}
	defer f.Close()
	ver, err := fileVersion(path, f)
	if err != nil {
		return entry{}, err
	}
	source := path
	dwarfFile := f
	if f.Section(".debug_info") == nil {
		dbg, rel, ok := debugFile(f, debugRoots)
		if !ok {
			return entry{}, fmt.Errorf("%s: no DWARF and no debug file for build ID %s under %s", path, buildID(f), strings.Join(debugRoots, ", "))
		}
		df, err := elf.Open(dbg)
		if err != nil {
			return entry{}, err
		}
		defer df.Close()
		dwarfFile, source = df, path+" with its debug file "+rel
	}
	d, err := dwarfFile.DWARF()
	if err != nil {
		return entry{}, fmt.Errorf("%s: DWARF: %w", path, err)
	}
	ts, err := loadTypes(d)
	if err != nil {
		return entry{}, fmt.Errorf("%s: DWARF types: %w", path, err)
	}
	e := entry{version: ver, source: source, ptrSize: 8, values: map[string]int64{}, big: f.ByteOrder == binary.BigEndian}
	if f.Class == elf.ELFCLASS32 {
		e.ptrSize = 4
	}
	// x86_64 builds make the shared LP64 entries (Machine ""); any other build an
	// entry of its own machine.
	switch f.Machine {
	case elf.EM_X86_64:
	case elf.EM_386:
		e.machine = "i386"
	case elf.EM_ARM:
		e.machine = "arm"
	case elf.EM_PPC64:
		e.machine = "ppc64"
		if !e.big {
			e.machine = "ppc64le"
		}
	case elf.EM_AARCH64:
		e.machine = "aarch64"
	case elf.EM_S390:
		e.machine = "s390"
		if e.ptrSize == 8 {
			e.machine = "s390x"
		}
	default:
		e.machine = strings.ToLower(strings.TrimPrefix(f.Machine.String(), "EM_"))
	}
	e.minor, _ = strconv.Atoi(strings.Split(ver, ".")[1])
	for _, fl := range fields {
		v, ok := value(ts, fl, e.big)
		if !ok {
			v = -1
		}
		e.values[fl.name] = v
	}
	return e, nil
}

func main() {
	out := flag.String("o", "offsets_gen.go", "output file")
	debugDirs := flag.String("debugdir", "/usr/lib/debug", "colon-separated roots searched for separate debug files by build ID")
	flag.Parse()
	var roots []string
	for _, r := range strings.Split(*debugDirs, ":") {
		if r != "" {
			roots = append(roots, r)
		}
	}
	var entries []entry
	for _, p := range flag.Args() {
		matches, err := filepath.Glob(p)
		if err != nil || len(matches) == 0 {
			log.Fatalf("gen: %s: no such file", p)
		}
		for _, m := range matches {
			e, err := load(m, roots)
			if err != nil {
				log.Fatalf("gen: %v", err)
			}
			entries = append(entries, e)
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].ptrSize != entries[j].ptrSize {
			return entries[i].ptrSize > entries[j].ptrSize
		}
		if entries[i].machine != entries[j].machine {
			return entries[i].machine < entries[j].machine
		}
		return entries[i].minor < entries[j].minor
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/gen from the DWARF of CPython builds; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "package python\n\n")
	fmt.Fprintf(&b, "// generatedLayouts holds one entry per CPython minor version and pointer size, each\n// read from the DWARF of the named build. -1 means the build has no such field.\n")
	fmt.Fprintf(&b, "var generatedLayouts = []Layout{\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "{\n")
		fmt.Fprintf(&b, "MinVersion: 0x03%02x0000, MaxVersion: 0x03%02xffff,\n", e.minor, e.minor)
		fmt.Fprintf(&b, "Source: %q,\n", "DWARF of "+e.source+" (CPython "+e.version+")")
		fmt.Fprintf(&b, "PtrSize: %d,\n", e.ptrSize)
		if e.machine != "" {
			fmt.Fprintf(&b, "Machine: %q,\n", e.machine)
		}
		if e.big {
			fmt.Fprintf(&b, "BigEndian: true,\n")
		}
		for _, fl := range fields {
			fmt.Fprintf(&b, "%s: %d,\n", fl.name, e.values[fl.name])
		}
		fmt.Fprintf(&b, "},\n")
	}
	fmt.Fprintf(&b, "}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatalf("gen: gofmt: %v", err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatalf("gen: %v", err)
	}
}
