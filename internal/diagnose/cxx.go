package diagnose

import (
	"encoding/binary"
	"strings"

	"github.com/ianlancetaylor/demangle"
)

// Itanium C++ ABI exception objects as libstdc++ lays them out (libsupc++/unwind-cxx.h,
// LP64: x86_64 and aarch64): a __cxa_exception header whose last member is the
// _Unwind_Exception, the thrown object right after it. The unwind header starts with
// exception_class, "GNUCC++\0" for a primary exception ("GNUCC++\x01" for a dependent
// one, from std::rethrow_exception); the header's first member is the std::type_info *.
const (
	gxxPrimaryClass   = 0x474e5543432b2b00
	gxxDependentClass = 0x474e5543432b2b01
	cxaUnwindOffset   = 80 // offsetof(__cxa_exception, unwindHeader)
	unwindHeaderSize  = 32 // sizeof(_Unwind_Exception), 16-byte aligned
)

// Exception is a C++ exception object found in memory.
type Exception struct {
	Type        string // demangled: "std::runtime_error"
	MangledType string // the type_info name: "St13runtime_error"
	Object      uint64 // address of the thrown object
}

// FindException looks for a libstdc++ exception object through each candidate address
// (typically the words of the crashing thread's stack, where __cxa_throw,
// _Unwind_RaiseException and __cxa_call_terminate keep pointers to the unwind header or
// the thrown object). At most 65536 candidates are tried.
func FindException(mem Memory, candidates []uint64) (Exception, bool) {
	if mem == nil {
		return Exception{}, false
	}
	seen := map[uint64]bool{}
	for i, c := range candidates {
		if i >= 1<<16 {
			break
		}
		if c < nullLimit || c%8 != 0 || seen[c] {
			continue
		}
		seen[c] = true
		for _, ue := range []uint64{c, c - unwindHeaderSize} {
			cls, ok := readU64(mem, ue)
			if !ok || cls != gxxPrimaryClass && cls != gxxDependentClass {
				continue
			}
			hdr := ue - cxaUnwindOffset
			if cls == gxxDependentClass {
				// __cxa_dependent_exception: primaryException sits where the thrown
				// object pointer would be; follow it to the primary's header.
				p, ok := readU64(mem, ue-8*3)
				if !ok || p < unwindHeaderSize+cxaUnwindOffset {
					continue
				}
				hdr = p - unwindHeaderSize - cxaUnwindOffset
			}
			ti, ok := readU64(mem, hdr)
			if !ok || ti < nullLimit {
				continue
			}
			namePtr, ok := readU64(mem, ti+8)
			if !ok || namePtr < nullLimit {
				continue
			}
			name, err := ReadCString(mem, namePtr, 1024)
			if err != nil || name == "" || !printable(name) {
				continue
			}
			name = strings.TrimPrefix(name, "*")
			return Exception{Type: demangleType(name), MangledType: name, Object: hdr + cxaUnwindOffset + unwindHeaderSize}, true
		}
	}
	return Exception{}, false
}

// demangleType turns a type_info name ("St13runtime_error") into C++ ("std::runtime_error").
func demangleType(name string) string {
	const prefix = "typeinfo name for "
	if s, err := demangle.ToString("_ZTS" + name); err == nil && strings.HasPrefix(s, prefix) {
		return strings.TrimPrefix(s, prefix)
	}
	return name
}

func readU64(mem Memory, addr uint64) (uint64, bool) {
	var b [8]byte
	if n, err := mem.ReadAt(b[:], addr); err != nil || n != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b[:]), true
}
