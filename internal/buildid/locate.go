package buildid

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// Sources of a candidate, as recorded in Attempt.Source.
const (
	SourcePath       = "path"         // the path named by the core, on this host
	SourceSysroot    = "sysroot"      // the path named by the core, under --sysroot
	SourceSearch     = "search"       // a --search directory indexed by build-id
	SourceBuildIDDir = "build-id-dir" // DEBUGDIR/.build-id/xx/yyyy.debug
	SourceDebuglink  = "debuglink"    // .gnu_debuglink name next to the binary or under DEBUGDIR
	SourceDebuginfod = "debuginfod"   // downloaded (or cached) by build-id
)

// Results of an attempt, as recorded in Attempt.Result. Detail follows the
// result after ": " when there is some (the build-id found, the error).
const (
	ResultMatch         = "build-id matches"
	ResultCRCMatch      = "debuglink CRC matches"
	ResultUnverified    = "accepted without verification (no build-id to compare)"
	ResultWrongBuildID  = "wrong build-id"
	ResultNoBuildID     = "no build-id"
	ResultNoDebugInfo   = "no debug info"
	ResultCRCMismatch   = "CRC mismatch"
	ResultNotFound      = "not found"
	ResultUnreadable    = "unreadable"
	ResultNotELF        = "not ELF"
	ResultNotConfigured = "not configured"
)

// Attempt is one candidate examined while looking for a file: where it
// was (Path), how it was found (Source, one of the Source* constants),
// and why it was accepted or rejected (Result, starting with one of the
// Result* constants).
type Attempt struct {
	Path   string `json:"path"`
	Source string `json:"source"`
	Result string `json:"result"`
	OK     bool   `json:"ok"`
}

// Fetcher downloads files by build-id; *debuginfod.Client implements it.
// Kind is "executable" or "debuginfo". It returns the local path of a
// verified file, or "", and the attempts it made either way.
type Fetcher interface {
	Fetch(buildID []byte, kind string) (string, []Attempt)
}

// Locator finds the executables and debug files of a core's modules.
// The zero value looks only at the paths the core names. Its methods are
// safe for concurrent use once its fields are set.
type Locator struct {
	// Sysroot, when set, is the root the core's absolute paths resolve
	// under (an extracted container filesystem, /usr/aarch64-linux-gnu).
	// Symbolic links inside it are resolved inside it.
	Sysroot string
	// Search lists directories indexed by build-id (see Index).
	Search []string
	// DebugDirs are the global debug directories; nil means
	// DefaultDebugDirs. Each is also tried under Sysroot first.
	DebugDirs []string
	// Debuginfod, when not nil, is asked last.
	Debuginfod Fetcher
	// Limits bound the walk of Search; zero fields take defaults.
	Limits Limits

	once  sync.Once
	index *Index
}

// DefaultDebugDirs is the debug-file-directory of GDB and elfutils on
// Debian, Fedora and Ubuntu.
var DefaultDebugDirs = []string{"/usr/lib/debug"}

// Index returns the build-id index of l.Search, building it on first use.
func (l *Locator) Index() *Index {
	l.once.Do(func() {
		l.index = BuildIndex(l.Search, l.Limits)
	})
	return l.index
}

// FindExecutable looks for the file the core names as path, whose build-id
// is buildID (nil when the core did not record one). It tries the path
// under Sysroot (or on the host when there is no Sysroot), then files in
// Search with that build-id, then the host path when a Sysroot is set,
// then debuginfod. A candidate is accepted only when its build-id equals
// buildID; with no buildID the first readable ELF at the named path is
// accepted as unverified, and nothing else is.
//
// When no candidate is accepted but a file sits at the named path (under
// Sysroot or on the host) with another build-id, that file is returned,
// its Attempt saying ResultWrongBuildID with OK false: the caller must
// compare build-ids, report the mismatch and refuse the file unless told
// otherwise (symbolize does, --allow-mismatch). Without it a rebuilt binary
// in place of the original would be indistinguishable from a missing one.
func (l *Locator) FindExecutable(file string, buildID []byte) (string, []Attempt) {
	var trail []Attempt
	wrong := ""
	try := func(p, source string) bool {
		a := examine(p, source, buildID, false)
		trail = append(trail, a)
		if wrong == "" && strings.HasPrefix(a.Result, ResultWrongBuildID) {
			wrong = p
		}
		return a.OK
	}
	if l.Sysroot != "" {
		p, err := ResolveIn(l.Sysroot, file)
		if err != nil {
			trail = append(trail, Attempt{Path: filepath.Join(l.Sysroot, file), Source: SourceSysroot, Result: ResultNotFound + ": " + err.Error()})
		} else if try(p, SourceSysroot) {
			return p, trail
		}
	} else if try(file, SourcePath) {
		return file, trail
	}
	if len(buildID) == 0 {
		return "", trail
	}
	if found, ok := l.fromIndex(buildID, false, &trail, ""); ok {
		return found, trail
	}
	if l.Sysroot != "" && try(file, SourcePath) {
		return file, trail
	}
	if p, _ := l.fetch(buildID, "executable", &trail); p != "" {
		return p, trail
	}
	return wrong, trail
}

// FindDebug looks for the separate debug file of a module: exePath is where
// its executable was found on this host (may be ""), buildID its build-id,
// debuglink and crc the contents of its .gnu_debuglink ("" when absent).
// Order, as GDB: DEBUGDIR/.build-id/xx/yyyy.debug for each debug directory
// (under Sysroot, then on the host), files in Search with the build-id and
// DWARF, the debuglink name in the executable's directory, in its .debug
// subdirectory and under DEBUGDIR/<its directory>, then debuginfod. A
// build-id candidate must match the build-id and carry DWARF; a debuglink
// candidate must match the CRC (and the build-id, when both have one).
func (l *Locator) FindDebug(exePath string, buildID []byte, debuglink string, crc uint32) (string, []Attempt) {
	var trail []Attempt
	dirs := l.debugDirs()
	if len(buildID) > 0 {
		h := hex.EncodeToString(buildID)
		if len(h) > 2 {
			rel := path.Join(".build-id", h[:2], h[2:]+".debug")
			for _, d := range dirs {
				a := examine(d.join(rel), SourceBuildIDDir, buildID, true)
				trail = append(trail, a)
				if a.OK {
					return a.Path, trail
				}
			}
		}
		if found, ok := l.fromIndex(buildID, true, &trail, exePath); ok {
			return found, trail
		}
	}
	if debuglink != "" && exePath != "" && isPlainName(debuglink) {
		exeDir := filepath.Dir(exePath)
		cands := []string{filepath.Join(exeDir, debuglink), filepath.Join(exeDir, ".debug", debuglink)}
		// DEBUGDIR/<directory of the binary as the target system names it>.
		guestDir := exeDir
		if l.Sysroot != "" {
			if rel, err := filepath.Rel(l.Sysroot, exeDir); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				guestDir = "/" + rel
			}
		}
		for _, d := range dirs {
			cands = append(cands, d.join(filepath.Join(guestDir, debuglink)))
		}
		for _, c := range cands {
			if sameFile(c, exePath) {
				continue
			}
			a := examineDebuglink(c, buildID, crc)
			trail = append(trail, a)
			if a.OK {
				return c, trail
			}
		}
	}
	if len(buildID) == 0 {
		return "", trail
	}
	return l.fetch(buildID, "debuginfo", &trail)
}

// debugDir is a debug directory, either on the host (root "") or inside
// the sysroot.
type debugDir struct{ root, dir string }

// join resolves rel under the debug directory, following symbolic links
// inside the sysroot when there is one.
func (d debugDir) join(rel string) string {
	guest := filepath.Join(d.dir, rel)
	if d.root == "" {
		return guest
	}
	p, err := ResolveIn(d.root, guest)
	if err != nil {
		return filepath.Join(d.root, guest)
	}
	return p
}

func (l *Locator) debugDirs() []debugDir {
	base := l.DebugDirs
	if base == nil {
		base = DefaultDebugDirs
	}
	var out []debugDir
	if l.Sysroot != "" {
		for _, d := range base {
			out = append(out, debugDir{root: l.Sysroot, dir: d})
		}
	}
	for _, d := range base {
		out = append(out, debugDir{dir: d})
	}
	return out
}

// fromIndex returns the first file of the index with buildID (and DWARF when
// wantDWARF) that is not the file skip: a --search directory that holds an
// unstripped binary indexes it under its own build-id, and that binary is not
// a separate debug file of itself (its own DWARF is read as the module's).
func (l *Locator) fromIndex(buildID []byte, wantDWARF bool, trail *[]Attempt, skip string) (string, bool) {
	if len(l.Search) == 0 {
		return "", false
	}
	for _, p := range l.Index().Lookup(buildID) {
		if skip != "" && sameFile(p, skip) {
			continue
		}
		a := examine(p, SourceSearch, buildID, wantDWARF)
		*trail = append(*trail, a)
		if a.OK {
			return p, true
		}
	}
	return "", false
}

func (l *Locator) fetch(buildID []byte, kind string, trail *[]Attempt) (string, []Attempt) {
	if l.Debuginfod == nil {
		return "", *trail
	}
	p, tries := l.Debuginfod.Fetch(buildID, kind)
	*trail = append(*trail, tries...)
	return p, *trail
}

// examine opens p and compares its build-id with want. With wantDWARF it
// also requires debug info in the file.
func examine(p, source string, want []byte, wantDWARF bool) Attempt {
	a := Attempt{Path: p, Source: source}
	info, err := ReadFile(p)
	if err != nil {
		a.Result = classify(err)
		return a
	}
	switch {
	case len(want) == 0:
		a.Result, a.OK = ResultUnverified, true
	case info.BuildID == nil:
		a.Result = ResultNoBuildID
		return a
	case !bytes.Equal(info.BuildID, want):
		a.Result = ResultWrongBuildID + ": " + hex.EncodeToString(info.BuildID)
		return a
	default:
		a.Result, a.OK = ResultMatch, true
	}
	if wantDWARF && !info.HasDWARF {
		a.Result, a.OK = ResultNoDebugInfo+" (build-id matches but no .debug_info)", false
	}
	return a
}

func examineDebuglink(p string, buildID []byte, want uint32) Attempt {
	a := Attempt{Path: p, Source: SourceDebuglink}
	info, err := ReadFile(p)
	if err != nil {
		a.Result = classify(err)
		return a
	}
	got, err := FileCRC(p)
	if err != nil {
		a.Result = ResultUnreadable + ": " + err.Error()
		return a
	}
	if got != want {
		a.Result = fmt.Sprintf("%s: file %#08x, debuglink %#08x", ResultCRCMismatch, got, want)
		return a
	}
	if len(buildID) > 0 && info.BuildID != nil && !bytes.Equal(info.BuildID, buildID) {
		a.Result = ResultWrongBuildID + ": " + hex.EncodeToString(info.BuildID) + " (CRC matches)"
		return a
	}
	if !info.HasDWARF {
		a.Result = ResultNoDebugInfo + " (CRC matches but no .debug_info)"
		return a
	}
	a.Result, a.OK = ResultCRCMatch, true
	return a
}

func classify(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ResultNotFound
	case errors.Is(err, ErrNotELF):
		return ResultNotELF
	}
	return ResultUnreadable + ": " + err.Error()
}

// maxCRCFile bounds the debug files whose CRC is computed.
const maxCRCFile = 16 << 30

// FileCRC returns the CRC32 of a file as .gnu_debuglink records it: the
// IEEE 802.3 polynomial, as zlib's crc32() and GDB's gnu_debuglink_crc32.
func FileCRC(p string) (uint32, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := crc32.NewIEEE()
	n, err := io.Copy(h, io.LimitReader(f, maxCRCFile+1))
	if err != nil {
		return 0, err
	}
	if n > maxCRCFile {
		return 0, fmt.Errorf("%s: larger than %d bytes, CRC not computed", p, int64(maxCRCFile))
	}
	return h.Sum32(), nil
}

// isPlainName rejects debuglink names that would leave the directory they
// are joined to; the name comes from the (possibly hostile) binary.
func isPlainName(s string) bool {
	return s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// maxLinkHops bounds symbolic links followed while resolving one path, as
// the kernel's MAXSYMLINKS (40).
const maxLinkHops = 40

// ResolveIn resolves the absolute path p as if root were "/": every
// symbolic link met on the way, relative or absolute, is followed inside
// root, and ".." never climbs above it. It returns the host path. The
// final component need not exist (the error then wraps fs.ErrNotExist).
func ResolveIn(root, p string) (string, error) {
	if root == "" {
		return p, nil
	}
	root = filepath.Clean(root)
	var done []string // resolved components under root
	todo := splitPath(p)
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cur := filepath.Join(append([]string{root}, append(done, c)...)...)
		st, err := os.Lstat(cur)
		if err != nil {
			return cur, err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		hops++
		if hops > maxLinkHops {
			return cur, fmt.Errorf("%s: more than %d symbolic links", p, maxLinkHops)
		}
		target, err := os.Readlink(cur)
		if err != nil {
			return cur, err
		}
		if strings.HasPrefix(target, "/") {
			done = done[:0]
		}
		todo = append(splitPath(target), todo...)
	}
	return filepath.Join(append([]string{root}, done...)...), nil
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}
