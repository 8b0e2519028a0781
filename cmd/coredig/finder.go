package main

import (
	"fmt"
	"strings"

	"github.com/coredig/coredig/internal/buildid"
	"github.com/coredig/coredig/internal/debuginfod"
	"github.com/coredig/coredig/internal/diagnose"
	"github.com/coredig/coredig/internal/symbolize"
)

// locatorFinder adapts a buildid.Locator (sysroot, --search index, debug directories,
// debuginfod) to the symbolize.Finder the module table uses. When a sysroot is set and a
// file is not under it, the host path is tried last: the executable of a qemu-user core
// lives on the host. The module table rejects files of the wrong architecture or
// build-id, so the fallback cannot substitute a host library for a guest one silently.
type locatorFinder struct {
	L *buildid.Locator
}

// FindExecutable implements symbolize.Finder.
func (f locatorFinder) FindExecutable(name string, id []byte) (string, []symbolize.Attempt) {
	if name == "" || name[0] == '[' {
		return "", nil
	}
	path, trail := f.L.FindExecutable(name, id)
	out := convert(trail, "executable")
	if path == "" && f.L.Sysroot != "" {
		host := &buildid.Locator{DebugDirs: f.L.DebugDirs}
		p, t := host.FindExecutable(name, id)
		out = append(out, convert(t, "executable (host path outside the sysroot)")...)
		path = p
	}
	return path, out
}

// FindDebug implements symbolize.Finder.
func (f locatorFinder) FindDebug(path string, id []byte, link string, crc uint32) (string, []symbolize.Attempt) {
	p, trail := f.L.FindDebug(path, id, link, crc)
	return p, convert(trail, "debug")
}

func convert(trail []buildid.Attempt, what string) []symbolize.Attempt {
	out := make([]symbolize.Attempt, 0, len(trail))
	for _, a := range trail {
		w := what
		if a.Source != "" {
			w += " via " + a.Source
		}
		out = append(out, symbolize.Attempt{Path: a.Path, What: w, Result: a.Result, OK: a.OK})
	}
	return out
}

// symbolizeOptions are the module table's options from the flags: where files and debug
// files are looked for (--sysroot, --search, --debuginfod or $DEBUGINFOD_URLS).
func (st *state) symbolizeOptions() symbolize.Options {
	loc := &buildid.Locator{Sysroot: st.sysroot, Search: st.search}
	if st.debuginfod != "" {
		loc.Debuginfod = debuginfod.New(strings.Fields(st.debuginfod), debuginfod.Options{})
	} else if c := debuginfod.FromEnv(debuginfod.Options{}); c != nil {
		loc.Debuginfod = c
	}
	return symbolize.Options{Finder: locatorFinder{L: loc}, AllowMismatch: st.allowMismatch}
}

// rules are the built-in known-pattern rules with --rules added, or nil for the built-in
// ones alone.
func (st *state) rules() ([]diagnose.Rule, error) {
	if st.rulesFile == "" {
		return nil, nil
	}
	user, err := diagnose.LoadRules(st.rulesFile)
	if err != nil {
		return nil, usageError{fmt.Errorf("--rules: %w", err)}
	}
	return append(diagnose.DefaultRules(), user...), nil
}
