package owner

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Bounds of the dpkg database (package doc).
const (
	MaxListFiles   = 20000    // .list files indexed
	MaxListBytes   = 32 << 20 // one .list file
	MaxIndexPaths  = 4 << 20  // paths indexed over all lists
	MaxStatusBytes = 64 << 20 // /var/lib/dpkg/status
	dpkgInfoDir    = "/var/lib/dpkg/info"
	dpkgStatusFile = "/var/lib/dpkg/status"
)

// Package is one stanza of dpkg's status file.
type Package struct {
	Name    string // "libc6"
	Arch    string // "amd64", "all"
	Version string // "2.36-9+deb12u4"
	Status  string // "install ok installed"
}

// Installed reports whether dpkg considers the package installed.
func (p Package) Installed() bool { return strings.HasSuffix(p.Status, " installed") }

// ParseStatus parses dpkg's status file (deb-status(5)): stanzas of "Field: value" lines
// separated by blank lines; lines starting with a space or tab continue the field before
// them. Stanzas without a Package field are skipped.
func ParseStatus(data []byte) []Package {
	var out []Package
	var cur Package
	flush := func() {
		if cur.Name != "" {
			out = append(out, cur)
		}
		cur = Package{}
	}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // a continuation: none of the fields read here has one
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		val := string(bytes.TrimSpace(v))
		switch string(k) {
		case "Package":
			cur.Name = val
		case "Architecture":
			cur.Arch = val
		case "Version":
			cur.Version = val
		case "Status":
			cur.Status = val
		}
	}
	flush()
	return out
}

// ParseList parses a dpkg .list file: one installed path per line. dpkg lists the
// directories too, and "/." for the root; empty lines are skipped.
func ParseList(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimRight(l, "\r")
		if l == "" || l == "/." || l[0] != '/' {
			continue
		}
		out = append(out, l)
	}
	return out
}

// dpkgIndex maps installed paths to the .list stem ("libc6:amd64") that names them.
type dpkgIndex struct {
	paths    map[string]string
	packages map[string]Package // by "name" and "name:arch"
	err      error              // why the index is missing or partial
}

func (f *Finder) dpkgDB() *dpkgIndex {
	f.dpkgOnce.Do(func() { f.dpkg = buildDpkgIndex(f) })
	return f.dpkg
}

func buildDpkgIndex(f *Finder) *dpkgIndex {
	ix := &dpkgIndex{paths: map[string]string{}, packages: map[string]Package{}}
	var errs []error
	ents, err := os.ReadDir(f.under(dpkgInfoDir))
	if err != nil {
		ix.err = fmt.Errorf("dpkg database: %w", err)
		return ix
	}
	var lists []string
	for _, e := range ents {
		if name := e.Name(); strings.HasSuffix(name, ".list") && !e.IsDir() {
			lists = append(lists, name)
		}
	}
	sort.Strings(lists)
	if len(lists) > MaxListFiles {
		errs = append(errs, fmt.Errorf("dpkg database: %d package lists, only the first %d indexed", len(lists), MaxListFiles))
		lists = lists[:MaxListFiles]
	}
	for _, name := range lists {
		data, err := readBounded(f.under(dpkgInfoDir+"/"+name), MaxListBytes)
		if err != nil {
			errs = append(errs, err)
		}
		stem := strings.TrimSuffix(name, ".list")
		for _, p := range ParseList(data) {
			if len(ix.paths) >= MaxIndexPaths {
				errs = append(errs, fmt.Errorf("dpkg database: more than %d paths, the rest not indexed", MaxIndexPaths))
				break
			}
			ix.paths[p] = stem
		}
	}
	data, err := readBounded(f.under(dpkgStatusFile), MaxStatusBytes)
	if err != nil {
		errs = append(errs, err)
	}
	for _, p := range ParseStatus(data) {
		// A package may have a stanza per architecture (Multi-Arch: same); keep an
		// installed one.
		for _, key := range []string{p.Name, p.Name + ":" + p.Arch} {
			if old, ok := ix.packages[key]; !ok || !old.Installed() {
				ix.packages[key] = p
			}
		}
	}
	ix.err = errors.Join(errs...)
	return ix
}

// usrMerged lists the top directories Debian's usrmerge made links into /usr.
var usrMerged = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"}

// pathSpellings returns path and its other spelling across the /usr merge.
func pathSpellings(path string) []string {
	out := []string{path}
	for _, d := range usrMerged {
		if rest, ok := strings.CutPrefix(path, "/usr/"+d+"/"); ok {
			out = append(out, "/"+d+"/"+rest)
		} else if rest, ok := strings.CutPrefix(path, "/"+d+"/"); ok {
			out = append(out, "/usr/"+d+"/"+rest)
		}
	}
	return out
}

// dpkgRoots are the directories Debian packages install into (Debian Policy §9.1, after
// the FHS); /usr/local is the local administrator's. A path under none of them is no
// package's, and is answered without reading the dpkg database (hundreds of files).
var dpkgRoots = []string{"/usr/", "/etc/", "/var/", "/opt/", "/bin/", "/sbin/", "/boot/", "/lib/", "/lib32/", "/lib64/", "/libx32/"}

// mayBePackaged reports whether a package may have installed path.
func mayBePackaged(path string) bool {
	if strings.HasPrefix(path, "/usr/local/") {
		return false
	}
	for _, r := range dpkgRoots {
		if strings.HasPrefix(path, r) {
			return true
		}
	}
	return false
}

func (f *Finder) lookupDpkg(path string) (Owner, error) {
	if !mayBePackaged(path) {
		return Owner{}, ErrNotOwned
	}
	ix := f.dpkgDB()
	for _, p := range pathSpellings(path) {
		stem, ok := ix.paths[p]
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(stem, ":")
		o := Owner{Package: name, Source: SourceDpkg, Evidence: dpkgInfoDir + "/" + stem + ".list"}
		pkg, ok := ix.packages[stem]
		if !ok {
			pkg, ok = ix.packages[name]
		}
		if ok {
			o.Version = pkg.Version
		}
		return o, nil
	}
	if ix.err != nil && len(ix.paths) == 0 {
		return Owner{}, ix.err
	}
	return Owner{}, ErrNotOwned
}
