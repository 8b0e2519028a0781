package python

// Line table decoders. Each maps a byte offset into the bytecode (addrq, as
// PyCode_Addr2Line takes it) to a source line, or -1 when the instruction has
// no line. They follow Objects/codeobject.c of the version named; the tables
// are input from a core, so every read is bounds-checked and the work is
// linear in len(table).

// LineFromLnotab decodes the CPython 3.8/3.9 co_lnotab: pairs of (unsigned
// byte offset delta, signed line delta), as PyCode_Addr2Line in 3.8.
func LineFromLnotab(tab []byte, firstLine, addrq int) int {
	line, addr := firstLine, 0
	for i := 0; i+1 < len(tab); i += 2 {
		addr += int(tab[i])
		if addr > addrq {
			break
		}
		line += int(int8(tab[i+1]))
	}
	return line
}

// LineFromLinetable310 decodes the CPython 3.10 co_linetable: pairs of
// (unsigned byte offset delta, signed line delta, -128 meaning "no line"),
// as _PyCode_CheckLineNumber with PyLineTable_NextAddressRange in 3.10.
func LineFromLinetable310(tab []byte, firstLine, addrq int) int {
	if addrq < 0 {
		return firstLine
	}
	computed, start, end, line := firstLine, 0, 0, -1
	for i := 0; i+1 < len(tab); i += 2 {
		start = end
		end += int(tab[i])
		if d := int8(tab[i+1]); d == -128 {
			line = -1
		} else {
			computed += int(d)
			line = computed
		}
		if start != end && start <= addrq && addrq < end {
			return line
		}
	}
	return -1
}

// Location table entry codes (Include/cpython/code.h, _PyCodeLocationInfoKind).
const (
	locShortMax  = 9
	locOneLine0  = 10
	locOneLine1  = 11
	locOneLine2  = 12
	locNoColumns = 13
	locLong      = 14
	locNone      = 15
)

// LineFromLocationTable decodes the CPython 3.11+ location table
// (Objects/locations.md): entries start with a byte that has bit 7 set,
// bits 3-6 the code and bits 0-2 the length in code units minus one. The
// line delta is in the entry (codes 10-12), a signed varint (13, 14) or zero.
func LineFromLocationTable(tab []byte, firstLine, addrq int) int {
	if addrq < 0 {
		return firstLine
	}
	computed, end := firstLine, 0
	for i := 0; i < len(tab); {
		b := tab[i]
		code := int(b>>3) & 15
		var delta int
		switch code {
		case locNoColumns, locLong:
			delta = signedVarint(tab, i+1)
		case locOneLine1:
			delta = 1
		case locOneLine2:
			delta = 2
		}
		computed += delta
		line := computed
		if code == locNone {
			line = -1
		}
		start := end
		end += (int(b&7) + 1) * 2 // sizeof(_Py_CODEUNIT)
		if start <= addrq && addrq < end {
			return line
		}
		// Skip to the next entry start (a byte with bit 7 set).
		for i++; i < len(tab) && tab[i]&0x80 == 0; i++ {
		}
	}
	return -1
}

// varint reads the location table's unsigned varint at tab[i:]: 6-bit
// chunks, least significant first, bit 6 set on all but the last. Reads past
// the end give 0; shifts are capped so garbage cannot overflow.
func varint(tab []byte, i int) uint32 {
	var v uint32
	for shift := 0; i < len(tab) && shift < 32; shift += 6 {
		b := tab[i]
		v |= uint32(b&63) << shift
		if b&64 == 0 {
			break
		}
		i++
	}
	return v
}

func signedVarint(tab []byte, i int) int {
	u := varint(tab, i)
	if u&1 != 0 {
		return -int(u >> 1)
	}
	return int(u >> 1)
}
