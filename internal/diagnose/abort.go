package diagnose

import (
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MaxMessage bounds every message read from memory.
const MaxMessage = 4096

// ErrNoAbortMessage is returned when glibc's __abort_msg is NULL: abort() was called
// directly, not by assert or a glibc check.
var ErrNoAbortMessage = errors.New("__abort_msg is NULL")

// MessageError says why a message could not be read.
type MessageError struct {
	What string // "__abort_msg", "abort_msg_s"
	Addr uint64
	Err  error
}

func (e *MessageError) Error() string {
	return fmt.Sprintf("reading %s at %#x: %v", e.What, e.Addr, e.Err)
}

func (e *MessageError) Unwrap() error { return e.Err }

// AbortMessage reads glibc's abort message. addr is the address of the variable
// __abort_msg (a struct abort_msg_s pointer, from libc's symbol table plus its load
// bias); the struct is {unsigned int size; char msg[];} (glibc 2.26 and later), size
// being the whole allocation. Bytes are read in bounded chunks up to the NUL.
func AbortMessage(mem Memory, addr uint64) (string, error) {
	if mem == nil {
		return "", &MessageError{What: "__abort_msg", Addr: addr, Err: errors.New("no memory")}
	}
	var b [8]byte
	if n, err := mem.ReadAt(b[:], addr); n != 8 {
		return "", &MessageError{What: "__abort_msg", Addr: addr, Err: orShort(err)}
	}
	p := binary.LittleEndian.Uint64(b[:])
	if p == 0 {
		return "", ErrNoAbortMessage
	}
	var hdr [4]byte
	if n, err := mem.ReadAt(hdr[:], p); n != 4 {
		return "", &MessageError{What: "abort_msg_s", Addr: p, Err: orShort(err)}
	}
	size := uint64(binary.LittleEndian.Uint32(hdr[:]))
	limit := uint64(MaxMessage)
	if size > 4 && size-4 < limit {
		limit = size - 4
	}
	s, err := ReadCString(mem, p+4, int(limit))
	if err != nil {
		return "", &MessageError{What: "abort_msg_s.msg", Addr: p + 4, Err: err}
	}
	return s, nil
}

func orShort(err error) error {
	if err == nil {
		return errors.New("short read")
	}
	return err
}

// ReadCString reads a NUL-terminated string of at most max bytes at addr, in chunks
// that do not cross a page, so that a string ending just before unmapped memory reads.
func ReadCString(mem Memory, addr uint64, max int) (string, error) {
	if max <= 0 || max > MaxMessage {
		max = MaxMessage
	}
	var out []byte
	for len(out) < max {
		chunk := min(int(4096-(addr+uint64(len(out)))%4096), max-len(out), 256)
		buf := make([]byte, chunk)
		n, err := mem.ReadAt(buf, addr+uint64(len(out)))
		if i := indexByte(buf[:n], 0); i >= 0 {
			return string(append(out, buf[:i]...)), nil
		}
		out = append(out, buf[:n]...)
		if err != nil || n < chunk {
			return string(out), fmt.Errorf("string at %#x not terminated after %d bytes: %w", addr, len(out), orShort(err))
		}
	}
	return string(out), nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// Message is a recognised abort message.
type Message struct {
	Text  string
	Cause string // "assertion", "heap_corruption", "stack_smashing", "fortify", "python_fatal_error", "uncaught_exception", "" (other)
	// Assertion fields (glibc "prog: file:line: func: Assertion `expr' failed.").
	Program, File, Function, Expr string
	Line                          int
}

var assertRE = regexp.MustCompile("^(?:(.*?): )?(.+?):(\\d+): (.+?): Assertion `(.*)' failed\\.?\\s*$")

// glibcHeapChecks are the malloc_printerr messages of glibc malloc/malloc.c (2.26-2.40),
// matched as prefixes.
var glibcHeapChecks = []string{
	"malloc(): corrupted top size", "malloc(): memory corruption", "malloc(): unaligned tcache chunk detected",
	"malloc(): unaligned fastbin chunk detected", "malloc(): smallbin double linked list corrupted",
	"malloc(): corrupted unsorted chunks", "malloc(): unsorted double linked list corrupted",
	"malloc(): invalid size (unsorted)", "malloc(): invalid next size (unsorted)",
	"malloc(): mismatching next->prev_size (unsorted)", "malloc(): invalid next->prev_inuse (unsorted)",
	"malloc(): largebin double linked list corrupted", "malloc_consolidate(): invalid chunk size",
	"malloc_consolidate(): unaligned fastbin chunk detected",
	"free(): double free detected in tcache", "free(): invalid pointer", "free(): invalid size",
	"free(): too many chunks detected in tcache", "free(): unaligned chunk detected in tcache",
	"free(): invalid next size", "free(): corrupted unsorted chunks", "double free or corruption",
	"corrupted size vs. prev_size", "corrupted double-linked list", "munmap_chunk(): invalid pointer",
	"realloc(): invalid pointer", "realloc(): invalid old size", "realloc(): invalid next size",
	"tcache_thread_shutdown(): unaligned tcache chunk detected", "malloc(): corrupted",
	"free(): ", "corrupted ",
}

// ParseMessage recognises an abort message's kind and fields.
func ParseMessage(s string) Message {
	s = strings.TrimRight(s, "\n")
	m := Message{Text: s}
	if g := assertRE.FindStringSubmatch(s); g != nil {
		m.Cause, m.Program, m.File, m.Function, m.Expr = "assertion", g[1], g[2], g[4], g[5]
		fmt.Sscanf(g[3], "%d", &m.Line)
		return m
	}
	switch {
	case strings.Contains(s, "stack smashing detected"):
		m.Cause = "stack_smashing"
	case strings.Contains(s, "buffer overflow detected"):
		m.Cause = "fortify"
	case strings.HasPrefix(s, "Fatal Python error"):
		m.Cause = "python_fatal_error"
	case strings.HasPrefix(s, "terminate called after throwing"), strings.HasPrefix(s, "terminate called without an active exception"):
		m.Cause = "uncaught_exception"
	default:
		for _, p := range glibcHeapChecks {
			if strings.HasPrefix(s, p) {
				m.Cause = "heap_corruption"
				break
			}
		}
	}
	return m
}

// FindMessage reads a C string at each candidate address (register values, stack words,
// a function's string argument) and returns the first that is a recognised abort
// message (assertion, glibc heap check, stack smashing, Fatal Python error...). At most
// 256 candidates are tried.
func FindMessage(mem Memory, candidates []uint64) (Message, bool) {
	if mem == nil {
		return Message{}, false
	}
	for i, a := range candidates {
		if i >= 256 {
			break
		}
		if a < nullLimit {
			continue
		}
		s, err := ReadCString(mem, a, 512)
		if err != nil || len(s) < 8 || !printable(s) {
			continue
		}
		if m := ParseMessage(s); m.Cause != "" {
			return m, true
		}
	}
	return Message{}, false
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// libcInternal are the frames between abort() and the code that asked for it.
var libcInternal = map[string]bool{
	"abort": true, "raise": true, "gsignal": true, "__GI_raise": true, "__GI_abort": true, "__pthread_kill_implementation": true,
	"__pthread_kill_internal": true, "__GI___pthread_kill": true, "pthread_kill": true, "__pthread_kill": true,
	"__libc_message": true, "__libc_message_impl": true, "__libc_fatal": true, "malloc_printerr": true, "_int_free": true,
	"_int_malloc": true, "__GI___libc_free": true, "free": true, "__libc_free": true, "malloc": true, "__libc_malloc": true,
	"realloc": true, "__libc_realloc": true, "_int_realloc": true, "calloc": true, "__libc_calloc": true,
	"__assert_fail_base": true, "__assert_fail": true, "__GI___assert_fail": true, "__stack_chk_fail": true,
	"__fortify_fail": true, "__chk_fail": true, "malloc_consolidate": true, "_int_free_merge_chunk": true,
	"_int_free_create_chunk": true, "_int_free_maybe_consolidate": true, "tcache_double_free_verify": true,
	"__GI___libc_malloc": true, "__GI___libc_realloc": true, "cfree": true,
	"__kernel_vsyscall": true, // the i386 vDSO's system call entry, under raise's tgkill
}

// userCaller is the first frame that is not glibc's abort machinery.
func (f *Facts) userCaller() string {
	for i, fn := range f.Functions {
		if i >= 64 {
			break
		}
		if fn != "" && !libcInternal[fn] && !strings.HasPrefix(fn, "__GI_") && !strings.HasPrefix(fn, "__pthread_kill") {
			return fn
		}
	}
	return ""
}

func (f *Facts) hasFunc(pred func(string) bool) string {
	for i, fn := range f.Functions {
		if i >= 256 {
			break
		}
		if pred(fn) {
			return fn
		}
	}
	return ""
}

// raisedDirectly says the stack shows raise (or gsignal, pthread_kill) and no abort: the
// program sent itself SIGABRT, as elfutils' backtrace test does, and did not call abort().
func (f *Facts) raisedDirectly() bool {
	if len(f.Functions) == 0 {
		return false
	}
	aborted := f.hasFunc(func(s string) bool { return s == "abort" || s == "__abort" || s == "__GI_abort" }) != ""
	raised := f.hasFunc(func(s string) bool {
		return s == "raise" || s == "__raise" || s == "gsignal" || s == "__GI_raise" || s == "pthread_kill" || s == "__pthread_kill"
	}) != ""
	return raised && !aborted
}

func (f *Facts) abort(d *Diagnosis) {
	d.Kind = KindAbort
	m := ParseMessage(f.AbortMessage)
	if f.AbortMessage != "" {
		d.add("abort_message", "%s", m.Text)
	}
	caller := f.userCaller()
	by := ""
	if caller != "" {
		by = " called from " + caller
	}
	// Decide the cause from the message first, then from the stack.
	if m.Cause == "" {
		switch {
		case f.hasFunc(func(s string) bool {
			return s == "std::terminate()" || s == "std::terminate" || strings.Contains(s, "__verbose_terminate_handler") || s == "__cxa_throw" || strings.HasPrefix(s, "__cxxabiv1::__terminate")
		}) != "":
			m.Cause = "uncaught_exception"
		case f.hasFunc(func(s string) bool {
			return s == "Py_FatalError" || s == "_Py_FatalErrorFunc" || s == "_Py_FatalErrorFormat" || s == "fatal_error" && f.hasFunc(func(x string) bool { return strings.HasPrefix(x, "Py") || strings.HasPrefix(x, "_Py") }) != ""
		}) != "":
			m.Cause = "python_fatal_error"
		case f.hasFunc(func(s string) bool {
			return s == "runtime.crash" || s == "runtime.dieFromSignal" || s == "runtime.fatalpanic" || s == "runtime.fatalthrow"
		}) != "":
			m.Cause = "go_runtime"
		case f.hasFunc(isRustPanic) != "":
			m.Cause = "rust_panic"
		case f.hasFunc(func(s string) bool { return s == "os_abort" || s == "os_abort_impl" }) != "":
			m.Cause = "python_os_abort"
		case f.hasFunc(func(s string) bool { return s == "__stack_chk_fail" }) != "":
			m.Cause = "stack_smashing"
		case f.hasFunc(func(s string) bool { return s == "malloc_printerr" }) != "":
			m.Cause = "heap_corruption"
		case f.hasFunc(func(s string) bool { return s == "__assert_fail" || s == "__assert_fail_base" }) != "":
			m.Cause = "assertion"
		}
	}
	// The first frame outside glibc's abort names who asked for it, except where a
	// runtime's own abort path stands between (Go's runtime.raise, Rust's
	// abort_internal): those say where instead.
	if caller != "" && m.Cause != "go_runtime" && m.Cause != "rust_panic" {
		d.add("caller", "%s", caller)
	}
	if m.Cause != "" {
		d.add("cause", "%s", m.Cause)
	}
	switch m.Cause {
	case "assertion":
		if m.Expr != "" {
			d.add("assertion", "%s", m.Expr)
			d.add("assert_file", "%s", m.File)
			d.add("assert_line", "%d", m.Line)
			d.add("assert_function", "%s", m.Function)
			d.Summary = fmt.Sprintf("Assertion `%s' failed in %s at %s:%d.", m.Expr, m.Function, m.File, m.Line)
		} else {
			d.Summary = fmt.Sprintf("An assert() failed%s; its message was not found in memory.", by)
		}
	case "heap_corruption":
		if m.Text != "" {
			d.add("heap_check", "%s", m.Text)
			d.Summary = fmt.Sprintf("glibc detected heap corruption: \"%s\"%s; memory was freed twice, written out of bounds or used after free.", m.Text, by)
		} else {
			d.Summary = fmt.Sprintf("glibc's malloc detected heap corruption (malloc_printerr)%s; its message was not found in memory.", by)
		}
	case "stack_smashing":
		d.Summary = fmt.Sprintf("Stack buffer overflow detected by the stack protector (__stack_chk_fail)%s: a local array was written past its end.", by)
	case "fortify":
		d.Summary = fmt.Sprintf("Buffer overflow detected by _FORTIFY_SOURCE (\"%s\")%s.", m.Text, by)
	case "uncaught_exception":
		if f.ExceptionType != "" {
			d.add("exception_type", "%s", f.ExceptionType)
			d.Summary = fmt.Sprintf("Uncaught C++ exception of type %s: std::terminate() called abort().", f.ExceptionType)
		} else {
			d.Summary = fmt.Sprintf("std::terminate() called abort()%s: an uncaught C++ exception, a throw from a noexcept function or destructor, or a joinable std::thread destroyed.", by)
		}
	case "python_fatal_error":
		if m.Text != "" {
			d.Summary = fmt.Sprintf("CPython aborted with Py_FatalError: \"%s\".", m.Text)
		} else {
			d.Summary = fmt.Sprintf("CPython aborted with Py_FatalError%s; its message (printed to stderr) was not found in memory.", by)
		}
	case "go_runtime":
		d.Summary = "The Go runtime aborted the process after a fatal panic or throw (GOTRACEBACK=crash); its message went to stderr."
	case "rust_panic":
		f.rustPanic(d)
	case "python_os_abort":
		d.Summary = "Python code called os.abort()."
	default:
		if m.Text != "" {
			d.Summary = fmt.Sprintf("abort()%s with the message \"%s\".", by, m.Text)
		} else if f.raisedDirectly() {
			d.Summary = "raise(SIGABRT) was called directly, not abort(), with no message recorded."
			if caller != "" {
				d.Summary = fmt.Sprintf("%s called raise(SIGABRT) directly, not abort(), with no message recorded.", caller)
			}
		} else {
			d.Summary = fmt.Sprintf("abort()%s, with no message recorded.", strings.Replace(by, " called", " was called", 1))
			if by == "" {
				d.Summary = "abort() was called, with no message recorded."
			}
		}
	}
}
