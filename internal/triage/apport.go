package triage

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Bounds of an apport report.
const (
	maxApportFields   = 4096    // fields kept
	maxApportValue    = 1 << 20 // bytes of a text value kept
	maxApportKey      = 256     // bytes of a key
	apportCoreDumpKey = "CoreDump"
)

// Apport is an apport crash report (/var/crash/*.crash).
type Apport struct {
	// Fields are the text fields (ProblemType, Date, ExecutablePath, Signal, ...);
	// binary fields are not kept.
	Fields map[string]string
	// CoreSize is the decompressed size of the CoreDump field written out, -1 when
	// the report has none.
	CoreSize int64
}

// ApportError is a malformed apport report: what is wrong and at which line.
type ApportError struct {
	Line int
	Msg  string
	Err  error
}

func (e *ApportError) Error() string {
	s := fmt.Sprintf("apport report, line %d: %s", e.Line, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ApportError) Unwrap() error { return e.Err }

// ReadApport reads an apport report, the RFC 822-like format of apport's
// problem_report.py: "Key: value" lines, continuation lines starting with a space, and
// binary values written as "Key: base64" followed by continuation lines each holding the
// base64 of one block of a gzip stream (older apport: zlib). The CoreDump value is
// decompressed into core, at most maxCore bytes (an error past that); core may be nil to
// skip it. Text values are kept up to 1 MiB each, at most 4096 fields.
func ReadApport(r io.Reader, core io.Writer, maxCore int64) (*Apport, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	a := &Apport{Fields: map[string]string{}, CoreSize: -1}
	line := 0
	for {
		first, err := readLine(br, maxApportKey+maxApportValue)
		if err == io.EOF && len(first) == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return a, &ApportError{Line: line + 1, Msg: "reading", Err: err}
		}
		line++
		if len(first) == 0 {
			continue
		}
		if first[0] == ' ' || first[0] == '\t' {
			return a, &ApportError{Line: line, Msg: "continuation line without a field"}
		}
		key, value, ok := bytes.Cut(first, []byte(":"))
		if !ok || len(key) == 0 || len(key) > maxApportKey || !validKey(key) {
			return a, &ApportError{Line: line, Msg: fmt.Sprintf("not a \"Key: value\" line: %.40q", first)}
		}
		value = bytes.TrimPrefix(value, []byte(" "))
		k := string(key)
		if string(value) == "base64" {
			v := &base64Lines{br: br, line: &line}
			if k == apportCoreDumpKey && core != nil && a.CoreSize < 0 {
				n, err := decompressCore(v, core, maxCore)
				a.CoreSize = n
				if err != nil {
					return a, &ApportError{Line: line, Msg: "CoreDump", Err: err}
				}
			}
			// Whatever is left of this value (another binary field, or an unused one).
			if _, err := io.Copy(io.Discard, v); err != nil {
				return a, &ApportError{Line: line, Msg: k, Err: err}
			}
			continue
		}
		var b strings.Builder
		b.Write(value)
		for {
			c, err := br.Peek(1)
			if err != nil || c[0] != ' ' {
				break
			}
			more, err := readLine(br, maxApportValue)
			line++
			if err != nil && err != io.EOF {
				return a, &ApportError{Line: line, Msg: "reading", Err: err}
			}
			if b.Len() < maxApportValue {
				b.WriteByte('\n')
				b.Write(more[1:])
			}
		}
		if len(a.Fields) < maxApportFields {
			a.Fields[k] = b.String()
		}
	}
	if len(a.Fields) == 0 {
		return a, &ApportError{Line: line, Msg: "no fields"}
	}
	return a, nil
}

// validKey reports whether a key is apport's: letters, digits, '.', '_' and '-'.
func validKey(k []byte) bool {
	for _, c := range k {
		if !(c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// readLine returns one line without its newline, keeping at most max bytes of it (the
// rest is read and dropped).
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(out) < max {
			out = append(out, chunk[:min(len(chunk), max-len(out))]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		out = bytes.TrimSuffix(out, []byte("\n"))
		out = bytes.TrimSuffix(out, []byte("\r"))
		return out, err
	}
}

// base64Lines reads the decoded bytes of a binary value: each continuation line is
// base64 on its own (apport encodes every compressed block separately, padding and all).
type base64Lines struct {
	br   *bufio.Reader
	line *int
	cur  io.Reader
	done bool
}

func (v *base64Lines) Read(p []byte) (int, error) {
	for {
		if v.cur != nil {
			n, err := v.cur.Read(p)
			if n > 0 {
				return n, nil
			}
			if err == io.EOF {
				v.cur = nil
				continue
			}
			if err != nil {
				return 0, fmt.Errorf("base64 at line %d: %w", *v.line, err)
			}
			continue
		}
		if v.done {
			return 0, io.EOF
		}
		c, err := v.br.Peek(1)
		if err != nil || c[0] != ' ' {
			v.done = true
			return 0, io.EOF
		}
		v.br.ReadByte()
		*v.line++
		v.cur = base64.NewDecoder(base64.StdEncoding, &lineBytes{br: v.br})
	}
}

// lineBytes reads the rest of one line, and ends at its newline (consumed).
type lineBytes struct {
	br  *bufio.Reader
	end bool
}

func (l *lineBytes) Read(p []byte) (int, error) {
	if l.end {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) {
		c, err := l.br.ReadByte()
		if err != nil {
			l.end = true
			break
		}
		if c == '\n' {
			l.end = true
			break
		}
		p[n] = c
		n++
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// errTooBig is a CoreDump larger than allowed.
var errTooBig = errors.New("the core is larger than the limit")

// decompressCore writes the decompressed CoreDump to w: gzip (apport since 2.0), or a
// zlib stream (earlier versions).
func decompressCore(r io.Reader, w io.Writer, max int64) (int64, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err == io.EOF {
		return 0, errors.New("empty CoreDump")
	}
	if err != nil {
		return 0, err
	}
	var zr io.Reader
	switch {
	case magic[0] == 0x1f && magic[1] == 0x8b:
		g, err := gzip.NewReader(br)
		if err != nil {
			return 0, fmt.Errorf("gzip: %w", err)
		}
		g.Multistream(false)
		zr = g
	case magic[0]&0x0f == 8:
		z, err := zlib.NewReader(br)
		if err != nil {
			return 0, fmt.Errorf("zlib: %w", err)
		}
		zr = z
	default:
		return 0, fmt.Errorf("CoreDump is neither gzip nor zlib (starts %#x %#x)", magic[0], magic[1])
	}
	n, err := io.Copy(w, io.LimitReader(zr, max+1))
	if err != nil {
		return n, fmt.Errorf("decompressing: %w", err)
	}
	if n > max {
		return n, fmt.Errorf("%w (%d bytes)", errTooBig, max)
	}
	return n, nil
}
