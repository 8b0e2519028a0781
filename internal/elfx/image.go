package elfx

import (
	"debug/elf"
	"io"
)

// MaxImageNoteBytes caps how much of one PT_NOTE segment of a binary is read to find its
// build-id (real ones are well under a kilobyte).
const MaxImageNoteBytes = 64 << 10

// Image is what coredig needs from a binary's program headers: its type, loadable segments,
// dynamic segment and build-id. It can be read from a file or from a core's memory.
type Image struct {
	Header  *Header
	Progs   []Prog
	BuildID []byte // nil when there is none (or it could not be read)
}

// ReadImage reads the header, program headers and build-id note of an ELF image.
// A build-id note that cannot be read leaves BuildID nil; it is not an error.
func ReadImage(r io.ReaderAt) (*Image, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	progs, err := ReadProgs(r, h)
	if err != nil {
		return nil, err
	}
	im := &Image{Header: h, Progs: progs}
	for _, p := range progs {
		if p.Type != elf.PT_NOTE || p.Filesz == 0 || p.Filesz > MaxImageNoteBytes {
			continue
		}
		buf := make([]byte, p.Filesz)
		if n, _ := r.ReadAt(buf, int64(p.Off)); uint64(n) < p.Filesz {
			continue
		}
		notes, _ := ParseNotes(buf, h.ByteOrder, int64(p.Off))
		if id := BuildID(notes); id != nil {
			im.BuildID = append([]byte(nil), id...)
			break
		}
	}
	return im, nil
}

// FirstLoad returns the PT_LOAD with the lowest file offset, the one that maps the ELF
// header, and whether there is one.
func (im *Image) FirstLoad() (Prog, bool) {
	var best Prog
	found := false
	for _, p := range im.Progs {
		if p.Type == elf.PT_LOAD && (!found || p.Off < best.Off) {
			best, found = p, true
		}
	}
	return best, found
}

// Prog returns the first program header of type t.
func (im *Image) Prog(t elf.ProgType) (Prog, bool) {
	for _, p := range im.Progs {
		if p.Type == t {
			return p, true
		}
	}
	return Prog{}, false
}

// LoadBias computes the difference between run-time and link-time addresses of a module,
// given that file offset fileOff of the module is mapped at run-time address start. It
// finds the PT_LOAD segment containing fileOff and returns
// start - (p.Vaddr + (fileOff - p.Off)), the rule that holds for PIE executables,
// non-PIE executables (bias 0) and shared libraries alike. ok is false when no PT_LOAD
// covers fileOff.
func LoadBias(progs []Prog, start, fileOff uint64) (bias uint64, ok bool) {
	for _, p := range progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		// Segments are mapped from page-aligned offsets; allow the page before p.Off.
		lo := p.Off &^ 0xfff
		if fileOff >= lo && fileOff < p.Off+max(p.Filesz, 1) {
			return start - (p.Vaddr - (p.Off - fileOff)), true
		}
	}
	return 0, false
}
