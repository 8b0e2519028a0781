package triage

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Bounds of a --known file.
const (
	maxKnownLine    = 64 << 10
	maxKnownEntries = 1 << 20
)

// KnownError is a bad line of a --known file.
type KnownError struct {
	Line int
	Msg  string
}

func (e *KnownError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseKnown reads a --known file: one signature text a line, optionally followed by a
// tab and a note (an issue link). Blank lines and lines starting with '#' are skipped;
// spaces around the signature and the note are trimmed. It returns signature -> note
// ("" when none); a signature listed twice keeps its first note.
func ParseKnown(r io.Reader) (map[string]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxKnownLine)
	known := map[string]string{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(strings.TrimSpace(text), "#") {
			continue
		}
		sig, note, _ := strings.Cut(text, "\t")
		sig, note = strings.TrimSpace(sig), strings.TrimSpace(note)
		if sig == "" {
			return nil, &KnownError{Line: line, Msg: "a note without a signature"}
		}
		if len(known) >= maxKnownEntries {
			return nil, &KnownError{Line: line, Msg: fmt.Sprintf("more than %d signatures", maxKnownEntries)}
		}
		if _, dup := known[sig]; !dup {
			known[sig] = note
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &KnownError{Line: line + 1, Msg: err.Error()}
	}
	return known, nil
}
