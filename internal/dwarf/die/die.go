// Package die reads debugging information entries through debug/dwarf's Reader with one
// guard it lacks: an end to runs of null entries that cannot be real.
//
// debug/dwarf reads an abbreviation code as a ULEB128. When the last bytes of a unit
// all have the continuation bit set, it returns 0 without consuming them and without an
// error, so Reader.Next returns a null entry for ever and never moves on: a loop over
// a unit's entries, however capped, spends its whole cap on one forged unit (a fuzzed
// 414-byte unit cost 8 s). Real units hold one null entry per level of nesting that
// ends, at most a few hundred in a row.
package die

import (
	"debug/dwarf"
	"errors"
)

// MaxNulls is the longest run of null entries Reader passes on.
const MaxNulls = 1024

// ErrNullRun is returned after MaxNulls null entries in a row.
var ErrNullRun = errors.New("more than 1024 null entries in a row: the unit's data does not decode (an unterminated abbreviation code)")

// Reader is a dwarf.Reader whose Next ends runs of null entries.
type Reader struct {
	*dwarf.Reader
	nulls int
}

// NewReader returns d's reader, guarded.
func NewReader(d *dwarf.Data) *Reader { return &Reader{Reader: d.Reader()} }

// Next returns the next entry, as dwarf.Reader.Next does, or ErrNullRun.
func (r *Reader) Next() (*dwarf.Entry, error) {
	e, err := r.Reader.Next()
	if err != nil || e == nil || e.Tag != 0 {
		r.nulls = 0
		return e, err
	}
	if r.nulls++; r.nulls > MaxNulls {
		return nil, ErrNullRun
	}
	return e, nil
}

// Seek moves to off, as dwarf.Reader.Seek does, and starts the count anew.
func (r *Reader) Seek(off dwarf.Offset) {
	r.nulls = 0
	r.Reader.Seek(off)
}
