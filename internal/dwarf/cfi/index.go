package cfi

import (
	"fmt"
	"sort"
)

// hdrTable is the binary search table of .eh_frame_hdr (LSB 5.0 §10.6.2).
type hdrTable struct {
	table   []byte // count entries of 2*size bytes
	tabAddr uint64 // address of table[0]
	enc     uint8
	size    int
	count   int
}

func parseHdr(cfg *Config) (hdrTable, error) {
	var h hdrTable
	t := &Table{cfg: *cfg}
	r := &reader{t: t, b: cfg.Hdr, end: len(cfg.Hdr)}
	fail := func(err error, what string, args ...any) (hdrTable, error) {
		return hdrTable{}, &FormatError{Section: EHFrame, Offset: uint64(r.off), What: ".eh_frame_hdr " + fmt.Sprintf(what, args...), Err: err}
	}
	version := r.u8()
	ptrEnc := r.u8()
	countEnc := r.u8()
	tabEnc := r.u8()
	if r.err != nil {
		return fail(r.err, "header")
	}
	if version != 1 {
		return fail(ErrUnsupported, "version %d", version)
	}
	bases := ptrBases{sectionAddr: cfg.HdrAddr, data: cfg.HdrAddr}
	ehPtr, ind := r.encoded(ptrEnc, cfg.PtrSize, bases)
	if ind || r.err != nil {
		return fail(r.err, "eh_frame_ptr")
	}
	if ehPtr != cfg.Addr {
		return fail(nil, "eh_frame_ptr %#x is not the section address %#x", ehPtr, cfg.Addr)
	}
	if countEnc == DW_EH_PE_omit || tabEnc == DW_EH_PE_omit {
		return fail(ErrUnsupported, "no search table")
	}
	count, _ := r.encoded(countEnc, cfg.PtrSize, bases)
	if r.err != nil {
		return fail(r.err, "fde_count")
	}
	switch tabEnc & 0x0f {
	case DW_EH_PE_udata2, DW_EH_PE_sdata2:
		h.size = 2
	case DW_EH_PE_udata4, DW_EH_PE_sdata4:
		h.size = 4
	case DW_EH_PE_udata8, DW_EH_PE_sdata8:
		h.size = 8
	case DW_EH_PE_absptr:
		h.size = cfg.PtrSize
	default:
		return fail(ErrUnsupported, "table encoding %#x", tabEnc)
	}
	if tabEnc&DW_EH_PE_indirect != 0 || tabEnc&0x70 == DW_EH_PE_aligned {
		return fail(ErrUnsupported, "table encoding %#x", tabEnc)
	}
	avail := uint64(len(cfg.Hdr)-r.off) / uint64(2*h.size)
	if count > avail {
		return fail(ErrTruncated, "fde_count %d but room for %d entries", count, avail)
	}
	h.count = int(count)
	h.table = cfg.Hdr[r.off : r.off+h.count*2*h.size]
	h.tabAddr = cfg.HdrAddr + uint64(r.off)
	h.enc = tabEnc
	return h, nil
}

// entry decodes table entry i: initial location and FDE address.
func (t *Table) hdrEntry(i int) (loc, fde uint64) {
	h := &t.hdr
	r := &reader{t: t, b: h.table, off: i * 2 * h.size, end: len(h.table)}
	bases := ptrBases{sectionAddr: h.tabAddr, data: t.cfg.HdrAddr}
	loc, _ = r.encoded(h.enc, t.cfg.PtrSize, bases)
	fde, _ = r.encoded(h.enc, t.cfg.PtrSize, bases)
	return loc, fde
}

// FDEForPC returns the FDE covering pc, or an error wrapping ErrNoFDE when there is none.
func (t *Table) FDEForPC(pc uint64) (*FDE, error) {
	if t.hdr.count > 0 {
		n := t.hdr.count
		i := sort.Search(n, func(i int) bool {
			loc, _ := t.hdrEntry(i)
			return loc > pc
		}) - 1
		if i < 0 {
			return nil, fmt.Errorf("pc %#x: %w", pc, ErrNoFDE)
		}
		_, addr := t.hdrEntry(i)
		if addr < t.cfg.Addr || addr-t.cfg.Addr >= uint64(len(t.cfg.Data)) {
			return nil, &FormatError{Section: EHFrame, Offset: uint64(i), What: fmt.Sprintf(".eh_frame_hdr entry %d points to %#x outside .eh_frame", i, addr)}
		}
		f, err := t.fdeAt(addr - t.cfg.Addr)
		if err != nil {
			return nil, err
		}
		if pc < f.Begin || pc >= f.End {
			return nil, fmt.Errorf("pc %#x: %w", pc, ErrNoFDE)
		}
		return f, nil
	}
	idx, err := t.buildIndex()
	if err != nil {
		return nil, err
	}
	i := sort.Search(len(idx), func(i int) bool { return idx[i].begin > pc }) - 1
	// Entries may nest or overlap (rare); look back a few for one that covers pc.
	for k := 0; i >= 0 && k < 8; i, k = i-1, k+1 {
		if pc < idx[i].end {
			return t.fdeAt(idx[i].off)
		}
	}
	return nil, fmt.Errorf("pc %#x: %w", pc, ErrNoFDE)
}

// buildIndex walks the section once and sorts its FDEs by initial location. Malformed
// FDEs are skipped and counted; an entry whose length is unreadable ends the walk.
func (t *Table) buildIndex() ([]indexEntry, error) {
	t.mu.Lock()
	if t.built {
		idx, err := t.index, t.indexErr
		t.mu.Unlock()
		return idx, err
	}
	t.mu.Unlock()

	var idx []indexEntry
	skipped := 0
	var walkErr error
	err := t.walk(func(h header) bool {
		f, err := t.parseFDE(h)
		if err != nil {
			skipped++
			return true
		}
		if f.End > f.Begin {
			idx = append(idx, indexEntry{begin: f.Begin, end: f.End, off: f.Offset})
		}
		return true
	})
	if err != nil && len(idx) == 0 {
		walkErr = err
	}
	sort.SliceStable(idx, func(i, j int) bool { return idx[i].begin < idx[j].begin })

	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.built {
		t.index, t.indexErr, t.skipped, t.built = idx, walkErr, skipped, true
	}
	return t.index, t.indexErr
}

// walk calls fn for every FDE header in section order. It stops at an .eh_frame zero
// terminator, at the end of the section, or at an unreadable length (returned).
func (t *Table) walk(fn func(h header) bool) error {
	var off uint64
	for off < uint64(len(t.cfg.Data)) {
		h, err := t.header(off)
		if err != nil {
			return err
		}
		if h.zero {
			if t.cfg.Section == EHFrame {
				return nil
			}
			off = h.next
			continue
		}
		if !h.isCIE && !fn(h) {
			return nil
		}
		if h.next <= off {
			return t.errorf(off, nil, "entry does not advance")
		}
		off = h.next
	}
	return nil
}

// FDEs calls fn for each well-formed FDE in section order until fn returns false, and
// returns the first format error met (after visiting the rest).
func (t *Table) FDEs(fn func(*FDE) bool) error {
	var first error
	err := t.walk(func(h header) bool {
		f, err := t.parseFDE(h)
		if err != nil {
			if first == nil {
				first = err
			}
			return true
		}
		return fn(f)
	})
	if first != nil {
		return first
	}
	return err
}

// RowForPC returns the rules in force at pc.
func (t *Table) RowForPC(pc uint64) (Row, error) {
	f, err := t.FDEForPC(pc)
	if err != nil {
		return Row{}, err
	}
	return t.Row(f, pc)
}
