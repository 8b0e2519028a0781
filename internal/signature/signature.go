// Package signature names a crash so that the same bug gets the same name across runs,
// ASLR, machines and rebuilds with other compiler flags, and different bugs different
// names: the key by which triage groups many cores.
//
// A signature is a class and the top frames of the crashing thread. The class comes from
// the diagnosis: its kind (null_pointer_dereference, stack_overflow, ...) or, for an
// abort, what asked for it (an assertion and its expression, a heap check and its
// message, an uncaught C++ exception's type, a Rust panic's kind, a Go runtime panic and
// its fault). Messages are scrubbed of numbers and addresses. The frames are named as in
// Frames: machinery that never identifies a bug (raise, abort, __cxa_throw, Rust's panic
// path, the Go runtime, sanitizer runtimes, libc's string routines, the CPython
// interpreter's own frames, libffi and ctypes) is skipped for its caller, Python frames
// are "module.qualname", and names are normalized (Normalize) so that parameter lists,
// template arguments, clone suffixes and Rust hashes do not split one bug in two. No
// absolute address is ever part of a signature: a frame without a name is its module's
// base name and the link-time offset.
//
// Limits: a signature is as good as the stack. A frame found by scanning may be a stale
// return address; an unnamed frame's offset changes when its library is rebuilt; a crash
// in a stripped library without a symbol table is named by offsets.
package signature

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/coredig/coredig/internal/report"
)

// Depth is the number of frames in a signature.
const Depth = 3

// Of returns the signature of the report's crash: of the crashing thread (the first
// thread when none is marked, as in a snapshot of a live process). depth is the number
// of frames (Depth when 0).
func Of(r *report.Report, depth int) *report.Signature {
	if depth <= 0 {
		depth = Depth
	}
	var th *report.Thread
	for i := range r.Threads {
		if r.Threads[i].Crashed || r.CrashedTID != nil && r.Threads[i].TID == *r.CrashedTID {
			th = &r.Threads[i]
			break
		}
	}
	if th == nil && len(r.Threads) > 0 {
		th = &r.Threads[0]
	}
	s := &report.Signature{Class: Class(r.Diagnosis, r.Signal), Frames: []string{}}
	if r.Diagnosis != nil && r.Diagnosis.Kind == "killed_by_signal" {
		// Another process's signal lands wherever the program happens to be: that is
		// no place of its own. The signal and the program name it.
		s.Text = s.Class
		if prog := program(r.Process); prog != "" {
			s.Text += " in " + prog
		}
		return s
	}
	if r.Diagnosis != nil && hangKinds[r.Diagnosis.Kind] {
		s.Frames = hangFrames(r, depth)
	} else if th != nil {
		reraised := r.Diagnosis != nil && r.Diagnosis.Original != nil && r.Diagnosis.Evidence["cause"] != "go_runtime"
		frames := th.Frames
		if r.Diagnosis != nil && r.Diagnosis.Kind == "corrupted_rseq_area" {
			// The kernel's check stops the thread wherever it returns to user space,
			// often inside a C library call (a sleep, a read; on i386 the vDSO's
			// __kernel_vsyscall): that call is no place of the bug's, its caller is.
			for len(frames) > 0 && (isLibc(path.Base(frames[0].Module)) || isVDSO(path.Base(frames[0].Module))) {
				frames = frames[1:]
			}
		}
		s.Frames = Frames(frames, depth, reraised)
	}
	s.Text = Text(s.Class, s.Frames)
	if r.Diagnosis != nil && hangKinds[r.Diagnosis.Kind] && len(s.Frames) > 0 {
		s.Text = s.Class + " @ " + strings.Join(s.Frames, " | ") // threads side by side, not callers
	}
	if len(s.Frames) == 0 {
		// No frame could be named (no stack, or modules whose files are missing): the
		// program at least keeps different programs' crashes apart.
		if prog := program(r.Process); prog != "" {
			s.Text += " in " + prog
		}
	}
	return s
}

// hangKinds are the diagnoses of a hung process (package hangs).
var hangKinds = map[string]bool{"deadlock": true, "orphaned_lock": true, "gil_held": true, "blocked": true}

// hangFrames names a hang by where its threads blocked, not by the thread a watchdog's
// signal happened to land on: the functions of the threads in a deadlock's cycle, or
// of every thread and goroutine that waits, each once, sorted (thread ids and the order
// threads started in change from run to run), at most depth of them.
func hangFrames(r *report.Report, depth int) []string {
	inCycle := map[int]bool{}
	goCycle := map[uint64]bool{}
	for _, e := range r.Diagnosis.Cycle {
		if e.Goroutine != nil {
			goCycle[*e.Goroutine] = true
		} else {
			inCycle[e.TID] = true
		}
	}
	all := len(inCycle)+len(goCycle) == 0
	seen := map[string]bool{}
	var names []string
	add := func(w *report.Waiting) {
		if w == nil || w.Where == "" {
			return
		}
		fn, _, _ := strings.Cut(w.Where, " at ") // "thread_a at hang_abba.c:31": no line
		if fn = Normalize(fn); fn != "" && !seen[fn] {
			seen[fn] = true
			names = append(names, fn)
		}
	}
	for i := range r.Threads {
		if all || inCycle[r.Threads[i].TID] {
			add(r.Threads[i].Waiting)
		}
	}
	if r.Go != nil {
		for i := range r.Go.Goroutines {
			if all || goCycle[r.Go.Goroutines[i].ID] {
				add(r.Go.Goroutines[i].Waiting)
			}
		}
	}
	sort.Strings(names)
	if len(names) > depth {
		names = names[:depth]
	}
	if names == nil {
		names = []string{}
	}
	return names
}

// isLibc reports whether a module's base name is the C library's.
func isLibc(mod string) bool {
	return strings.HasPrefix(mod, "libc.so") || strings.HasPrefix(mod, "libc-")
}

// program is the base name of the executable, or the command name.
func program(p report.Process) string {
	if p.Executable != "" {
		return path.Base(p.Executable)
	}
	return p.Command
}

// Text joins a class and frames into the signature's one line: "class @ f1 < f2 < f3"
// (innermost first), or the class alone when no frame is known.
func Text(class string, frames []string) string {
	if len(frames) == 0 {
		return class
	}
	return class + " @ " + strings.Join(frames, " < ")
}

// Class names the kind of crash from the diagnosis, or from the signal alone.
func Class(d *report.Diagnosis, sig *report.Signal) string {
	signame := ""
	if sig != nil {
		signame = sig.Name
	}
	if d == nil {
		if signame == "" {
			return "unknown"
		}
		return "signal: " + signame
	}
	ev := d.Evidence
	with := func(class, detail string) string {
		if detail = Scrub(detail); detail != "" {
			return class + ": " + detail
		}
		return class
	}
	switch d.Kind {
	case "abort":
		switch cause := ev["cause"]; cause {
		case "assertion":
			return with("assertion_failed", ev["assertion"])
		case "heap_corruption":
			return with("heap_corruption", first(ev["heap_check"], ev["abort_message"]))
		case "uncaught_exception":
			return with("uncaught_exception", ev["exception_type"])
		case "rust_panic":
			return with("rust_panic", ev["panic"])
		case "go_runtime":
			return with("go_panic", goFault(ev["go_signal"]))
		case "python_fatal_error", "fortify":
			return with(cause, ev["abort_message"])
		case "":
			return with("abort", ev["abort_message"])
		default:
			return cause
		}
	case "killed_by_signal", "unknown", "reraised", "snapshot":
		if signame == "" {
			return d.Kind
		}
		return d.Kind + ": " + signame
	case "":
		return "unknown"
	}
	return d.Kind
}

func first(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// goFault describes the fault behind a Go runtime panic from the go_signal evidence
// ("SIGSEGV SEGV_MAPERR at 0x60 (goroutine 1)"): "nil pointer dereference" for a
// SIGSEGV in the first page, as the runtime's own message says, else the signal and
// code without the address and goroutine.
func goFault(s string) string {
	if s == "" || strings.HasPrefix(s, "unknown") {
		return ""
	}
	if i := strings.LastIndex(s, " (goroutine "); i >= 0 {
		s = s[:i]
	}
	desc, addr, hasAddr := strings.Cut(s, " at ")
	if hasAddr && strings.HasPrefix(desc, "SIGSEGV") {
		if v, err := strconv.ParseUint(strings.TrimPrefix(addr, "0x"), 16, 64); err == nil && v < 4096 {
			return "nil pointer dereference"
		}
	}
	return desc
}
