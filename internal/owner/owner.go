// Package owner says who ships a file: the Debian package that installed it or the
// Python distribution it belongs to, with their versions. It answers "whose code is
// this?" for the frame of a crash that matters (see Pick), so a report can say
// "python3-numpy 1:1.24.2-1+deb12u1" instead of a path.
//
// Two databases are read, both under a root directory (a container's extracted
// filesystem given as --sysroot, or /):
//
//   - dpkg: /var/lib/dpkg/info/<package>[:<arch>].list lists the paths each package
//     installed, one per line; /var/lib/dpkg/status holds each package's Version in
//     RFC 822 stanzas (dpkg's deb-status(5)). The path index is built once, on the first
//     lookup that needs it. Debian merged /bin, /lib, /sbin into /usr ("usrmerge"): a
//     list may name /lib/x86_64-linux-gnu/libc.so.6 where the kernel mapped
//     /usr/lib/x86_64-linux-gnu/libc.so.6, so both spellings are tried.
//   - Python distributions (PyPA "Recording installed projects"): a file under a
//     site-packages or dist-packages directory belongs to the distribution whose
//     <name>-<version>.dist-info/RECORD lists it (CSV, the path relative to the
//     directory first) or whose <name>-<version>.egg-info/installed-files.txt lists it
//     (paths relative to the .egg-info directory); the name and version are METADATA's
//     (PKG-INFO's) Name and Version headers (core metadata, RFC 822 style).
//
// dpkg is asked first: a Debian package that ships a Python module installed it, and
// its version is the one a bug report needs.
//
// Bounds: at most MaxListFiles .list files and MaxIndexPaths paths are indexed, the
// status file is read up to MaxStatusBytes, a RECORD or installed-files.txt up to
// MaxRecordBytes, METADATA up to MaxMetadataBytes (only its header block is parsed),
// at most MaxDists distributions per site directory are considered. A database that
// overflows a bound is used as far as it was read, and the lookup says so.
package owner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Sources of an answer, as the report's diagnosis.culprit.source spells them.
const (
	SourceDpkg       = "dpkg"
	SourcePythonDist = "python-dist"
	SourceProgram    = "program"
	SourceUnknown    = "unknown"
)

// Owner is who ships a file.
type Owner struct {
	Package string // "python3-numpy", "grpcio"
	Version string // "1:1.24.2-1+deb12u1", "1.71.2"
	Source  string // SourceDpkg or SourcePythonDist
	// Evidence is the database entry that says so: the .list file, or the RECORD.
	Evidence string
}

// ErrNotOwned is returned when no database lists the file.
var ErrNotOwned = errors.New("no dpkg package or Python distribution lists the file")

// Finder looks files up in the databases under one root. It is safe for concurrent use;
// each database is read once, when first needed.
type Finder struct {
	root string

	dpkgOnce sync.Once
	dpkg     *dpkgIndex

	mu    sync.Mutex
	sites map[string]*siteIndex // by site directory, as the core names it
}

// New returns a Finder for the filesystem under root ("" or "/" for this machine's).
func New(root string) *Finder {
	if root == "" {
		root = "/"
	}
	return &Finder{root: root, sites: map[string]*siteIndex{}}
}

// Lookup returns the owner of path, a path as the core's process saw it (absolute,
// without the root). The error is ErrNotOwned when no database lists it, or wraps why
// a database could not be read.
func (f *Finder) Lookup(path string) (Owner, error) {
	if !filepath.IsAbs(path) {
		return Owner{}, fmt.Errorf("%s: not an absolute path", path)
	}
	path = filepath.Clean(path)
	var errs []error
	o, err := f.lookupDpkg(path)
	if err == nil {
		return o, nil
	}
	if !errors.Is(err, ErrNotOwned) {
		errs = append(errs, err)
	}
	if site, rel, ok := SiteDir(path); ok {
		o, err := f.lookupSite(site, rel)
		if err == nil {
			return o, nil
		}
		if !errors.Is(err, ErrNotOwned) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return Owner{}, fmt.Errorf("%w (%w)", ErrNotOwned, errors.Join(errs...))
	}
	return Owner{}, ErrNotOwned
}

// AtItsPath reports whether file, a file found on disk for the core's path name, is the
// file at that path under the root: only then do the root's databases describe it.
func (f *Finder) AtItsPath(name, file string) bool {
	return filepath.Clean(file) == f.under(name)
}

// under returns path inside the root.
func (f *Finder) under(path string) string { return filepath.Join(f.root, path) }

// SiteDir splits a path inside a site-packages or dist-packages directory into that
// directory and the path relative to it: "/venv/lib/python3.12/site-packages/grpc/_cython/x.so"
// is ("/venv/lib/python3.12/site-packages", "grpc/_cython/x.so"). The innermost such
// directory wins (a virtualenv inside a package's data is rare; a vendored one is not).
func SiteDir(path string) (site, rel string, ok bool) {
	parts := strings.Split(path, "/")
	for i := len(parts) - 2; i >= 0; i-- {
		if parts[i] == "site-packages" || parts[i] == "dist-packages" {
			return strings.Join(parts[:i+1], "/"), strings.Join(parts[i+1:], "/"), true
		}
	}
	return "", "", false
}

// readBounded reads a whole file of at most limit bytes; a larger file is an error that
// says so, with the bytes that were read.
func readBounded(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	buf := make([]byte, 0, min(limit, 64<<10))
	chunk := make([]byte, 64<<10)
	for {
		n, err := fh.Read(chunk)
		if int64(len(buf)+n) > limit {
			buf = append(buf, chunk[:int(limit)-len(buf)]...)
			return buf, &TooLargeError{Path: path, Limit: limit}
		}
		buf = append(buf, chunk[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return buf, nil
			}
			return buf, err
		}
	}
}

// TooLargeError says a database file is larger than its bound.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than %d bytes; read that far", e.Path, e.Limit)
}
