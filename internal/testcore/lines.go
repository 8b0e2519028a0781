//go:build linux

package testcore

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// lineMarker introduces a marker name in a crasher source comment, as in
// "return p->field_at_0x60; /* LINE: deref */" or "# LINE: py_crash". It
// counts only right after a comment opener ("/* ", "// " or "# "), so that
// header comments can quote markers ("at \"LINE: deref\"").
const lineMarker = "LINE: "

var commentOpeners = []string{"/* ", "// ", "# "}

// maxMarkerLines bounds the number of lines scanned in one source file.
const maxMarkerLines = 100000

// parseLines returns the 1-based line number of every "LINE: name" marker in
// src. A name is the run of letters, digits and '_' after the marker. The
// same name twice is an error: a marker must say one line.
func parseLines(src []byte) (map[string]int, error) {
	out := make(map[string]int)
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if n > maxMarkerLines {
			return nil, fmt.Errorf("more than %d lines", maxMarkerLines)
		}
		line := sc.Text()
		rest, ok := markerRest(line)
		if !ok {
			continue
		}
		j := 0
		for j < len(rest) && isNameByte(rest[j]) {
			j++
		}
		if j == 0 {
			return nil, fmt.Errorf("line %d: %q has no name", n, lineMarker)
		}
		name := rest[:j]
		if prev, dup := out[name]; dup {
			return nil, fmt.Errorf("line %d: marker %q already on line %d", n, name, prev)
		}
		out[name] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("after line %d: %w", n, err)
	}
	return out, nil
}

// markerRest returns what follows the first "LINE: " that comes right
// after a comment opener.
func markerRest(line string) (string, bool) {
	for _, o := range commentOpeners {
		if i := strings.Index(line, o+lineMarker); i >= 0 {
			return line[i+len(o)+len(lineMarker):], true
		}
	}
	return "", false
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
