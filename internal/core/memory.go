package core

import (
	"errors"
	"fmt"
	"sort"
)

// MemErrorKind says why memory could not be read.
type MemErrorKind int

const (
	// Unmapped: no segment of the core covers the address; the process had nothing there.
	Unmapped MemErrorKind = iota + 1
	// NotDumped: the address was mapped but the kernel did not write its contents (filesz
	// is 0 or shorter than memsz, as for file-backed text), and no verified file supplied it.
	NotDumped
	// Truncated: the bytes were written but the core file ends before them.
	Truncated
	// ReadFailed: reading the core (or a backing file) failed.
	ReadFailed
)

func (k MemErrorKind) String() string {
	switch k {
	case Unmapped:
		return "unmapped"
	case NotDumped:
		return "not dumped"
	case Truncated:
		return "cut off by truncation"
	case ReadFailed:
		return "read failed"
	}
	return "unknown"
}

// MemError is returned by ReadAt for the first byte that could not be read.
type MemError struct {
	Addr uint64
	Kind MemErrorKind
	Err  error // underlying error for ReadFailed, or the backing file's reason
}

func (e *MemError) Error() string {
	s := fmt.Sprintf("memory at %#x: %s", e.Addr, e.Kind)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *MemError) Unwrap() error { return e.Err }

// IsMemError reports whether err is a *MemError of the given kind.
func IsMemError(err error, k MemErrorKind) bool {
	var me *MemError
	return errors.As(err, &me) && me.Kind == k
}

// Backing supplies the bytes of file-backed mappings the kernel did not dump, from files
// whose build-id was verified against the core. ReadBacked returns a non-nil error with
// the reason when it cannot (no file, build-id mismatch, ...).
type Backing interface {
	ReadBacked(p []byte, addr uint64) (int, error)
}

// SetBacking installs the provider of not-dumped file-backed bytes.
func (c *Core) SetBacking(b Backing) { c.backing = b }

// segmentIndex returns the index of the segment containing addr, or -1.
func (c *Core) segmentIndex(addr uint64) int {
	i := sort.Search(len(c.Segments), func(i int) bool { return c.Segments[i].End() > addr })
	if i < len(c.Segments) && c.Segments[i].Vaddr <= addr {
		return i
	}
	return -1
}

// SegmentFor returns the PT_LOAD segment containing addr, or nil.
func (c *Core) SegmentFor(addr uint64) *Segment {
	if i := c.segmentIndex(addr); i >= 0 {
		return &c.Segments[i]
	}
	return nil
}

// ReadAt reads len(p) bytes of process memory at addr. It returns the number of bytes read
// and, when that is less than len(p), a *MemError for the first byte it could not read.
func (c *Core) ReadAt(p []byte, addr uint64) (int, error) {
	n := 0
	for n < len(p) {
		a := addr + uint64(n)
		if a < addr { // wrapped
			return n, &MemError{Addr: a, Kind: Unmapped}
		}
		i := c.segmentIndex(a)
		if i < 0 {
			// Some writers (gdb's gcore) leave read-only file mappings out of the
			// program headers altogether; the backing knows the NT_FILE mappings.
			if c.backing != nil {
				k := len(p) - n
				if j := sort.Search(len(c.Segments), func(j int) bool { return c.Segments[j].Vaddr > a }); j < len(c.Segments) {
					k = int(min(uint64(k), c.Segments[j].Vaddr-a))
				}
				m, _ := c.backing.ReadBacked(p[n:n+k], a)
				if m > 0 {
					n += m
					continue
				}
			}
			return n, &MemError{Addr: a, Kind: Unmapped}
		}
		s := &c.Segments[i]
		rel := a - s.Vaddr
		want := min(uint64(len(p)-n), s.Memsz-rel)
		switch {
		case rel < s.Present:
			k := min(want, s.Present-rel)
			m, err := c.r.ReadAt(p[n:n+int(k)], int64(s.Off+rel))
			n += m
			if uint64(m) < k {
				return n, &MemError{Addr: addr + uint64(n), Kind: ReadFailed, Err: err}
			}
		case rel < s.Filesz:
			return n, &MemError{Addr: a, Kind: Truncated}
		default:
			// Mapped, not in the file: try the verified backing file.
			k := int(want)
			if c.backing == nil {
				return n, &MemError{Addr: a, Kind: NotDumped}
			}
			m, err := c.backing.ReadBacked(p[n:n+k], a)
			n += m
			if m < k {
				return n, &MemError{Addr: addr + uint64(n), Kind: NotDumped, Err: err}
			}
		}
	}
	return n, nil
}

// ReadFull reads exactly len(p) bytes or returns the reason it could not.
func (c *Core) ReadFull(p []byte, addr uint64) error {
	_, err := c.ReadAt(p, addr)
	return err
}

// ReadPtr reads a pointer-sized word.
func (c *Core) ReadPtr(addr uint64) (uint64, error) {
	var b [8]byte
	n := c.Arch.PtrSize
	if err := c.ReadFull(b[:n], addr); err != nil {
		return 0, err
	}
	return c.Arch.Word(b[:n]), nil
}

// ReadCString reads a NUL-terminated string of at most max bytes. A string that reaches
// max without a NUL is returned with truncated set.
func (c *Core) ReadCString(addr uint64, max int) (s string, truncated bool, err error) {
	var out []byte
	buf := make([]byte, 64)
	for len(out) < max {
		// Do not cross a page boundary in one read: the next page may be unreadable.
		chunk := min(len(buf), max-len(out), int(4096-(addr+uint64(len(out)))%4096))
		k, err := c.ReadAt(buf[:chunk], addr+uint64(len(out)))
		for i := 0; i < k; i++ {
			if buf[i] == 0 {
				return string(append(out, buf[:i]...)), false, nil
			}
		}
		out = append(out, buf[:k]...)
		if err != nil {
			return string(out), false, err
		}
	}
	return string(out), true, nil
}

// Truncated reports whether the core file is shorter than its headers say.
func (c *Core) Truncated() bool { return c.Size < c.ExpectedSize }
