//go:build linux

package testcore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrPipePattern is returned for a core_pattern that sends cores to a
// program instead of a file.
var ErrPipePattern = errors.New("core_pattern pipes cores to a program")

// ErrEmptyPattern is returned for an empty core_pattern (no core is written).
var ErrEmptyPattern = errors.New("core_pattern is empty")

// maxPatternLen bounds the pattern accepted; the kernel's own limit is
// CORENAME_MAX_SIZE (128) bytes.
const maxPatternLen = 4096

// coreGlob turns a core_pattern into a filepath.Glob pattern matching the
// core file the kernel writes for a process with the given pid, following
// fs/coredump.c format_corename: %p is the pid (as seen in the process's pid
// namespace), other specifiers (host pid, tid, time, uid, hostname, exe
// name...) become "*", "%%" is "%", an unknown specifier and a trailing lone
// "%" expand to nothing, and ".<pid>" is appended when usesPID is set and the
// pattern has no %p. A relative result is relative to the crashing
// process's working directory.
func coreGlob(pattern string, usesPID bool, pid int) (string, error) {
	pattern = strings.TrimRight(pattern, "\n")
	if len(pattern) > maxPatternLen {
		return "", fmt.Errorf("core_pattern of %d bytes is longer than %d", len(pattern), maxPatternLen)
	}
	if pattern == "" {
		return "", ErrEmptyPattern
	}
	if pattern[0] == '|' {
		return "", fmt.Errorf("%w: %q", ErrPipePattern, pattern)
	}
	var b strings.Builder
	pidInPattern := false
	lastStar := false
	star := func() {
		if !lastStar {
			b.WriteByte('*')
		}
		lastStar = true
	}
	lit := func(s string) {
		for i := 0; i < len(s); i++ {
			switch c := s[i]; c {
			case '*', '?', '[', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			default:
				b.WriteByte(c)
			}
		}
		lastStar = false
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' {
			lit(pattern[i : i+1])
			continue
		}
		i++
		if i >= len(pattern) {
			break
		}
		switch pattern[i] {
		case '%':
			lit("%")
		case 'p':
			pidInPattern = true
			lit(strconv.Itoa(pid))
		case 'P', 'i', 'I', 'u', 'g', 'd', 's', 't', 'h', 'e', 'E', 'c', 'C', 'f', 'F':
			star()
		default:
			// Unknown specifiers expand to nothing in format_corename.
		}
	}
	if !pidInPattern && usesPID {
		lit("." + strconv.Itoa(pid))
	}
	return b.String(), nil
}
