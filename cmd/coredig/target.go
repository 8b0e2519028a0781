package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/coredig/coredig/internal/capture"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/input"
)

// target is what a CORE argument names: a core file, or a live process by PID.
type target struct {
	core     *core.Core
	src      *input.Source // zero value for a live process
	warnings []string
	close    func()
}

// exitPermission is the exit status when ptrace is refused.
const exitPermission = exitBad

// open opens a core file, or, when arg is a number and no file has that name, stops the
// process with that PID for the time of the analysis.
func (st *state) open(arg string) (*target, error) {
	if pid, err := strconv.Atoi(arg); err == nil && pid > 0 {
		if _, serr := os.Stat(arg); errors.Is(serr, os.ErrNotExist) {
			return openLive(pid)
		}
	}
	src, err := input.Open(arg, input.Options{KeepPartial: true, Stdin: st.stdin})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	c, err := core.NewCore(src, src.Size(), arg)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return &target{core: c, src: src, close: func() { src.Close() }}, nil
}

// openLive analyses a live process in place: the snapshot's core is read lazily, its
// memory from the stopped process, which runs again when the analysis is done.
func openLive(pid int) (*target, error) {
	s, err := capture.Attach(pid)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("process %d", pid)
	c, err := core.NewCore(s.Image, s.Image.Size(), name)
	if err != nil {
		s.Detach()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &target{core: c, src: &input.Source{Path: name, Method: "live process (stopped during the analysis)"},
		warnings: s.Warnings, close: func() { s.Detach() }}, nil
}
