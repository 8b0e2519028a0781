package python

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Bounds of the locals read for a frame.
const (
	MaxLocals     = 64 // variables per frame
	maxLocalNames = 4096
	maxIntDigits  = 64 // 30-bit digits of an int shown in full (1920 bits)
	maxReprBytes  = 64 // bytes of a str or bytes value shown
)

// Local is one local variable of a Python frame.
type Local struct {
	Name  string
	Type  string // the value's type name ("int", "str", "list")
	Value string // as repr() would show it for simple values, else "<list, 3 items, at 0x...>"
	Err   error  // the value could not be read
}

// localsplus kinds (Include/internal/pycore_code.h, 3.11+).
const (
	coFastHidden = 0x10
	coFastCell   = 0x40
	coFastFree   = 0x80
)

// localNames reads the names of a code object's locals: co_localsplusnames with their
// kinds (3.11+), or the first co_nlocals of co_varnames (3.8-3.10).
func (w *walker) localNames(code uint64) ([]string, []byte, error) {
	l, r := &w.l, w.r
	var namesOff int64
	var n int64 = -1
	switch {
	case l.CodeLocalsplusnames >= 0:
		namesOff = l.CodeLocalsplusnames
	case l.CodeVarnames >= 0 && l.CodeNlocals >= 0:
		namesOff = l.CodeVarnames
		nl, err := r.u32Field(code, l.CodeNlocals, "PyCodeObject.co_nlocals")
		if err != nil {
			return nil, nil, err
		}
		n = int64(int32(nl))
	default:
		return nil, nil, fmt.Errorf("locals are not read for this version")
	}
	tup, err := r.ptrField(code, namesOff, "PyCodeObject local names")
	if err != nil {
		return nil, nil, err
	}
	size, err := r.ptrField(tup, l.TupleSize, "local names tuple size")
	if err != nil {
		return nil, nil, err
	}
	if int64(size) < 0 || size > maxLocalNames {
		return nil, nil, &CorruptError{What: "local names tuple", Addr: tup, Reason: fmt.Sprintf("size %d", int64(size))}
	}
	if n < 0 || n > int64(size) {
		n = int64(size)
	}
	names := make([]string, 0, n)
	for i := int64(0); i < n; i++ {
		p, err := r.ptrField(tup, l.TupleItem+int64(r.ptr)*i, "local name")
		if err != nil {
			return nil, nil, err
		}
		s, err := r.str(l, p, "local name")
		if err != nil {
			return nil, nil, err
		}
		names = append(names, s)
	}
	var kinds []byte
	if l.CodeLocalspluskinds >= 0 {
		kb, err := r.ptrField(code, l.CodeLocalspluskinds, "PyCodeObject.co_localspluskinds")
		if err == nil {
			kinds, _ = r.bytes(l, kb, int(n), "co_localspluskinds")
		}
	}
	return names, kinds, nil
}

// frameLocals reads the locals of a frame whose localsplus array starts at values.
func (w *walker) frameLocals(code, values uint64) ([]Local, error) {
	names, kinds, err := w.localNames(code)
	if err != nil {
		return nil, err
	}
	var out []Local
	for i, name := range names {
		if len(out) >= MaxLocals {
			break
		}
		var kind byte
		if i < len(kinds) {
			kind = kinds[i]
		}
		if kind&coFastHidden != 0 {
			continue // a comprehension's variable, hidden from locals()
		}
		obj, err := w.r.word("local value", values+uint64(w.r.ptr)*uint64(i))
		if err != nil {
			out = append(out, Local{Name: name, Err: err})
			continue
		}
		if w.l.minor() >= 14 {
			obj &^= 7 // a _PyStackRef: tag bits (Include/internal/pycore_stackref.h)
		}
		if obj == 0 {
			continue // not bound yet (or, before 3.11, an argument moved into a cell)
		}
		if kind&(coFastCell|coFastFree) != 0 {
			if t, _ := w.typeName(obj); t == "cell" {
				if obj, err = w.r.word("cell contents", obj+w.words(2)); err != nil || obj == 0 {
					out = append(out, Local{Name: name, Value: "<empty cell>", Err: err})
					continue
				}
			}
		}
		t, v, err := w.repr(obj)
		out = append(out, Local{Name: name, Type: t, Value: v, Err: err})
	}
	return out, nil
}

// words returns the size of n pointer-sized words. The object headers the locals are
// read through are made of words (Include/object.h): PyObject_HEAD is ob_refcnt and
// ob_type (2 words), PyObject_VAR_HEAD adds ob_size (3 words). So a cell's ob_ref, a
// float's ob_fval (a double, 4-byte aligned on i386), the ob_size of a list or tuple,
// a dict's ma_used, a set's fill and an int's size or lv_tag are at 2 words; a type's
// tp_name and an int's first digit at 3.
func (w *walker) words(n int) uint64 { return uint64(n * w.r.ptr) }

// typeName reads an object's type name (tp_name, right after PyObject_VAR_HEAD).
func (w *walker) typeName(obj uint64) (string, error) {
	typ, err := w.r.ptrField(obj, w.l.ObjectType, "ob_type")
	if err != nil {
		return "", err
	}
	p, err := w.r.word("tp_name", typ+w.words(3))
	if err != nil {
		return "", err
	}
	b, err := w.r.read("tp_name", p, 64)
	if err != nil {
		// The name may sit near the end of a mapping: a short read is enough.
		if b, err = w.r.read("tp_name", p, 16); err != nil {
			return "", err
		}
	}
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b), nil
}

// repr shows an object as Python's repr() would for None, bool, int, float, str and
// bytes; other objects by type, size and address.
func (w *walker) repr(obj uint64) (typ, val string, err error) {
	typ, err = w.typeName(obj)
	if err != nil {
		return "", "", err
	}
	r := w.r
	switch typ {
	case "NoneType":
		return typ, "None", nil
	case "bool":
		v, err := w.intValue(obj)
		if err != nil {
			return typ, "", err
		}
		if v.Sign() != 0 {
			return typ, "True", nil
		}
		return typ, "False", nil
	case "int":
		v, err := w.intValue(obj)
		if err != nil {
			return typ, "", err
		}
		return typ, v.String(), nil
	case "float":
		bits, err := r.u64("float value", obj+w.words(2))
		if err != nil {
			return typ, "", err
		}
		return typ, pyFloat(math.Float64frombits(bits)), nil
	case "str":
		s, err := r.str(&w.l, obj, "str value")
		if err != nil {
			return typ, "", err
		}
		return typ, pyQuote(s, maxReprBytes), nil
	case "bytes":
		b, err := r.bytes(&w.l, obj, maxReprBytes, "bytes value")
		if err != nil {
			return typ, "", err
		}
		return typ, pyBytes(b), nil
	case "list", "tuple", "dict", "set":
		n, err := r.ssize("size", obj+w.words(2)) // ob_size (list, tuple), ma_used (dict), fill (set)
		if err == nil && n >= 0 && n < 1<<40 {
			return typ, fmt.Sprintf("<%s, %d items, at %#x>", typ, n, obj), nil
		}
	}
	return typ, fmt.Sprintf("<%s object at %#x>", typ, obj), nil
}

// intValue reads a PyLongObject: 30-bit digits after the header (PYLONG_BITS_IN_DIGIT is
// 30 on 32-bit builds too from 3.11, the first 32-bit layout read), with the sign and
// count in ob_size (3.8-3.11) or in lv_tag (3.12+: count << 3 | sign, sign 0 positive,
// 1 zero, 2 negative).
func (w *walker) intValue(obj uint64) (*big.Int, error) {
	var n uint64
	neg := false
	if w.l.minor() >= 12 {
		tag, err := w.r.word("int size", obj+w.words(2))
		if err != nil {
			return nil, err
		}
		n, neg = tag>>3, tag&3 == 2
		if tag&3 == 1 {
			n = 0
		}
	} else {
		s, err := w.r.ssize("int size", obj+w.words(2))
		if err != nil {
			return nil, err
		}
		if s < 0 {
			s, neg = -s, true
		}
		n = uint64(s)
	}
	if n > maxIntDigits {
		return nil, fmt.Errorf("an int of %d digits", n)
	}
	v := new(big.Int)
	for i := int(n) - 1; i >= 0; i-- {
		d, err := w.r.u32("int digit", obj+w.words(3)+4*uint64(i))
		if err != nil {
			return nil, err
		}
		v.Lsh(v, 30)
		v.Or(v, big.NewInt(int64(d&(1<<30-1))))
	}
	if neg {
		v.Neg(v)
	}
	return v, nil
}

// pyFloat formats a float as Python's repr does: shortest round trip, ".0" for whole
// numbers, exponent from 1e16.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if a := math.Abs(f); a != 0 && (a >= 1e16 || a < 1e-4) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Python writes 1e+16, not 1e+16 with a padded exponent: the same; but 1e-05.
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyBytes writes bytes as Python's repr does: printable ASCII as is, the rest escaped.
func pyBytes(b []byte) string {
	var s strings.Builder
	s.WriteString("b'")
	for _, c := range b {
		switch {
		case c == '\\' || c == '\'':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c == '\n':
			s.WriteString(`\n`)
		case c == '\t':
			s.WriteString(`\t`)
		case c == '\r':
			s.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&s, `\x%02x`, c)
		default:
			s.WriteByte(c)
		}
	}
	s.WriteByte('\'')
	return s.String()
}

// pyQuote quotes a string as Python's repr does for printable text: single quotes
// unless the string has one and no double quote, backslash escapes otherwise.
func pyQuote(s string, max int) string {
	trunc := false
	if len(s) > max {
		s, trunc = s[:max], true
	}
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, "\"") {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, c := range s {
		switch {
		case c == rune(q) || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte(q)
	if trunc {
		b.WriteString("...")
	}
	return b.String()
}
