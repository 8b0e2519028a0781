package owner

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
)

// Bounds of the Python distribution metadata (package doc).
const (
	MaxRecordBytes   = 16 << 20
	MaxMetadataBytes = 1 << 20
	MaxDists         = 4096
)

// siteIndex is what one site directory's distributions say: the distribution directory
// (".dist-info" or ".egg-info") listing each relative path.
type siteIndex struct {
	owners map[string]string // relative path -> distribution directory name
	err    error
}

// ParseRecord parses a dist-info RECORD file: CSV rows "path,hash,size", the path
// relative to the site directory (it may climb out of it with ".." for scripts). It
// returns the paths, cleaned; malformed rows are skipped.
func ParseRecord(data []byte) []string {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	var out []string
	for {
		rec, err := r.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue
			}
			break // io.EOF, or an error the reader cannot go past
		}
		if len(rec) == 0 || rec[0] == "" {
			continue
		}
		out = append(out, path.Clean(rec[0]))
	}
	return out
}

// ParseInstalledFiles parses an egg-info installed-files.txt: one path per line,
// relative to the .egg-info directory ("../grpc/__init__.py"). It returns the paths
// relative to the site directory (the .egg-info's parent); lines that leave it are
// dropped.
func ParseInstalledFiles(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		p := path.Clean(path.Join("x.egg-info", l))
		if p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
			continue
		}
		out = append(out, p)
	}
	return out
}

// ParseMetadata reads Name and Version from core metadata (METADATA, PKG-INFO): RFC 822
// style headers up to the first blank line, after which the description begins.
func ParseMetadata(data []byte) (name, version string) {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		switch strings.ToLower(string(k)) {
		case "name":
			if name == "" {
				name = string(bytes.TrimSpace(v))
			}
		case "version":
			if version == "" {
				version = string(bytes.TrimSpace(v))
			}
		}
	}
	return name, version
}

// distFromDirName splits "grpcio-1.71.2.dist-info" or "numpy-1.24.2.egg-info" (or
// "numpy-1.24.2-py3.11.egg-info") into name and version, the fallback when METADATA has
// none.
func distFromDirName(dir string) (name, version string) {
	stem := strings.TrimSuffix(strings.TrimSuffix(dir, ".dist-info"), ".egg-info")
	name, version, _ = strings.Cut(stem, "-")
	if i := strings.Index(version, "-py"); i >= 0 {
		version = version[:i]
	}
	return name, version
}

func (f *Finder) siteDB(site string) *siteIndex {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ix, ok := f.sites[site]; ok {
		return ix
	}
	ix := buildSiteIndex(f.under(site))
	f.sites[site] = ix
	return ix
}

func buildSiteIndex(dir string) *siteIndex {
	ix := &siteIndex{owners: map[string]string{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		ix.err = err
		return ix
	}
	var dists []string
	for _, e := range ents {
		if n := e.Name(); e.IsDir() && (strings.HasSuffix(n, ".dist-info") || strings.HasSuffix(n, ".egg-info")) {
			dists = append(dists, n)
		}
	}
	sort.Strings(dists)
	var errs []error
	if len(dists) > MaxDists {
		errs = append(errs, fmt.Errorf("%s: %d distributions, only the first %d read", dir, len(dists), MaxDists))
		dists = dists[:MaxDists]
	}
	for _, d := range dists {
		var paths []string
		if strings.HasSuffix(d, ".dist-info") {
			data, err := readBounded(dir+"/"+d+"/RECORD", MaxRecordBytes)
			if err != nil && !os.IsNotExist(err) {
				errs = append(errs, err)
			}
			paths = ParseRecord(data)
		} else {
			data, err := readBounded(dir+"/"+d+"/installed-files.txt", MaxRecordBytes)
			if err != nil && !os.IsNotExist(err) {
				errs = append(errs, err)
			}
			paths = ParseInstalledFiles(data)
		}
		for _, p := range paths {
			if _, dup := ix.owners[p]; !dup {
				ix.owners[p] = d
			}
		}
	}
	ix.err = errors.Join(errs...)
	return ix
}

func (f *Finder) lookupSite(site, rel string) (Owner, error) {
	ix := f.siteDB(site)
	d, ok := ix.owners[rel]
	if !ok {
		if ix.err != nil && len(ix.owners) == 0 {
			return Owner{}, ix.err
		}
		return Owner{}, ErrNotOwned
	}
	meta := "METADATA"
	record := "RECORD"
	if strings.HasSuffix(d, ".egg-info") {
		meta, record = "PKG-INFO", "installed-files.txt"
	}
	data, _ := readBounded(f.under(site+"/"+d+"/"+meta), MaxMetadataBytes)
	name, version := ParseMetadata(data)
	dn, dv := distFromDirName(d)
	if name == "" {
		name = dn
	}
	if version == "" {
		version = dv
	}
	return Owner{Package: name, Version: version, Source: SourcePythonDist, Evidence: site + "/" + d + "/" + record}, nil
}
