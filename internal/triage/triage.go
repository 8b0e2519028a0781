// Package triage groups many crashes by signature (internal/signature): cores,
// compressed cores, folders, systemd-coredump's store, apport's .crash reports and
// coredig's own JSON reports.
//
// Each file is analysed on its own in a bounded pool of workers (GOMAXPROCS by
// default), reading only what a signature needs: analysis.Full with CrashedOnly unwinds
// the crashing thread alone. A file that is not a crash (empty, not an ELF core,
// damaged, a truncated core that lost the crashing thread's stack) becomes an error
// entry with a one-line reason and never stops the run.
//
// Times come from systemd-coredump's user.coredump.timestamp extended attribute or the
// microseconds in its file name (core.COMM.UID.BOOTID.PID.USEC.zst, see
// systemd-coredump(8)), from apport's Date field, else from the file's modification time.
// Apport's format is its problem_report.py: see ReadApport.
package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coredig/coredig/internal/analysis"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/input"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
)

// Options control a triage run.
type Options struct {
	// Workers is how many files are analysed at once (GOMAXPROCS when 0).
	Workers int
	// Symbolize finds modules' files (--sysroot, --search, debuginfod).
	Symbolize symbolize.Options
	// Full are the analysis options; CrashedOnly is always set.
	Full analysis.FullOptions
	// Input are the options for opening (compressed) cores.
	Input input.Options
	// Known maps known signatures to their notes (ParseKnown).
	Known map[string]string
	// MaxFiles bounds the files taken from folders (DefaultMaxFiles when 0).
	MaxFiles int
}

// DefaultMaxFiles bounds the files a run takes from folders.
const DefaultMaxFiles = 100000

// maxJSONReport bounds the size of a JSON report read.
const maxJSONReport = 512 << 20

// crash is what one file says.
type crash struct {
	path    string
	sig     *report.Signature
	exe     string
	when    time.Time
	culprit json.RawMessage
	err     string
}

// Run triages the files and folders (recursively) in paths.
func Run(paths []string, opts Options) *report.Triage {
	t := &report.Triage{Schema: report.TriageSchemaVersion, Groups: []report.TriageGroup{}, Errors: []report.TriageError{}}
	files, errs := collect(paths, opts.MaxFiles)
	t.Errors = append(t.Errors, errs...)
	results := make([]crash, len(files))
	if opts.Symbolize.Shared == nil {
		// The cores of a fleet share their libraries: parse each library's symbols and
		// DWARF once for the whole run.
		opts.Symbolize.Shared = symbolize.NewShared()
		defer opts.Symbolize.Shared.Close()
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(files), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = examine(files[i], opts)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	byText := map[string]*groupAcc{}
	var order []*groupAcc
	for _, c := range results {
		if c.err != "" {
			t.Errors = append(t.Errors, report.TriageError{Path: c.path, Reason: c.err})
			continue
		}
		g := byText[c.sig.Text]
		if g == nil {
			g = &groupAcc{TriageGroup: report.TriageGroup{Signature: c.sig.Text, Class: c.sig.Class, Frames: c.sig.Frames,
				Example: c.path, Cores: []string{}, Executables: []string{}}, exes: map[string]bool{}}
			if note, ok := opts.Known[c.sig.Text]; ok {
				g.Known, g.Note = true, note
			}
			byText[c.sig.Text] = g
			order = append(order, g)
		}
		g.add(c)
	}
	for _, g := range order {
		sort.Strings(g.Executables)
		if !g.first.IsZero() {
			g.First, g.Last = g.first.UTC().Format(time.RFC3339), g.last.UTC().Format(time.RFC3339)
		}
		t.Groups = append(t.Groups, g.TriageGroup)
	}
	sort.SliceStable(t.Groups, func(i, j int) bool {
		if t.Groups[i].Count != t.Groups[j].Count {
			return t.Groups[i].Count > t.Groups[j].Count
		}
		return t.Groups[i].Signature < t.Groups[j].Signature
	})
	return t
}

// New reports whether any group is not known.
func New(t *report.Triage) bool {
	for _, g := range t.Groups {
		if !g.Known {
			return true
		}
	}
	return false
}

type groupAcc struct {
	report.TriageGroup
	exes        map[string]bool
	first, last time.Time
}

func (g *groupAcc) add(c crash) {
	g.Count++
	g.Cores = append(g.Cores, c.path)
	if c.exe != "" && !g.exes[c.exe] {
		g.exes[c.exe] = true
		g.Executables = append(g.Executables, c.exe)
	}
	if !c.when.IsZero() {
		if g.first.IsZero() || c.when.Before(g.first) {
			g.first = c.when
		}
		if c.when.After(g.last) {
			g.last = c.when
		}
	}
	if len(g.Culprit) == 0 && len(c.culprit) > 0 {
		g.Culprit = c.culprit
	}
}

// collect lists the files of paths, folders walked recursively in lexical order.
func collect(paths []string, maxFiles int) ([]string, []report.TriageError) {
	if maxFiles <= 0 {
		maxFiles = DefaultMaxFiles
	}
	var files []string
	var errs []report.TriageError
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, report.TriageError{Path: p, Reason: oneLine(err)})
			continue
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, report.TriageError{Path: path, Reason: oneLine(err)})
				return nil
			}
			if d.Type().IsRegular() {
				if len(files) >= maxFiles {
					return fmt.Errorf("more than %d files; the rest is not triaged", maxFiles)
				}
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, report.TriageError{Path: p, Reason: oneLine(err)})
		}
	}
	return files, errs
}

// examine reads one file as a JSON report, an apport report or a core.
func examine(path string, opts Options) crash {
	c := crash{path: path}
	fi, err := os.Stat(path)
	if err != nil {
		c.err = oneLine(err)
		return c
	}
	if fi.Size() == 0 {
		c.err = "empty file"
		return c
	}
	head, err := readHead(path, 64)
	if err != nil {
		c.err = oneLine(err)
		return c
	}
	switch {
	case bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("{")):
		c = fromJSON(path)
	case bytes.HasPrefix(head, []byte("ProblemType:")) || strings.HasSuffix(path, ".crash"):
		c = fromApport(path, opts)
	default:
		c = fromCore(path, path, opts)
	}
	if c.err == "" && c.when.IsZero() {
		c.when = fi.ModTime()
	}
	return c
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	m, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return b[:m], nil
}

// fromCore analyses a core (compressed or not) for its signature. name is the path
// reported (the apport report for a core taken out of one).
func fromCore(path, name string, opts Options) crash {
	c := crash{path: name}
	in := opts.Input
	in.KeepPartial = true
	src, err := input.Open(path, in)
	if err != nil {
		c.err = oneLine(err)
		return c
	}
	defer src.Close()
	if src.Incomplete != nil {
		c.err = "damaged compressed core: " + oneLine(src.Incomplete)
		return c
	}
	cr, err := core.NewCore(src, src.Size(), path)
	if err != nil {
		c.err = oneLine(err)
		return c
	}
	if len(cr.Threads) == 0 {
		c.err = "not a crash: the core has no threads"
		return c
	}
	a := analysis.New(cr, opts.Symbolize)
	defer a.Close()
	fo := opts.Full
	fo.CrashedOnly = true
	r := a.Full(fo)
	if r.Core.Truncated && !crashStackComplete(r) {
		c.err = fmt.Sprintf("truncated core: %d of %d bytes, the crashing thread's stack is cut off", r.Core.Size, r.Core.ExpectedSize)
		return c
	}
	c.sig, c.exe = r.Signature, r.Process.Executable
	c.culprit = culprit(r.Diagnosis)
	if ts := src.Xattrs["timestamp"]; ts != "" {
		c.when = usecTime(ts)
	}
	if c.when.IsZero() {
		c.when = systemdNameTime(filepath.Base(path))
	}
	if exe := src.Xattrs["exe"]; exe != "" {
		c.exe = exe
	}
	return c
}

// crashStackComplete reports whether a truncated core holds the crashing thread's stack.
func crashStackComplete(r *report.Report) bool {
	if r.Coverage == nil || r.CrashedTID == nil {
		return false
	}
	for _, s := range r.Coverage.Stacks {
		if s.TID == *r.CrashedTID {
			return s.State == "complete"
		}
	}
	return false
}

// culprit returns diagnosis.culprit as the report's JSON gives it, nil when absent.
func culprit(d *report.Diagnosis) json.RawMessage {
	if d == nil {
		return nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil
	}
	var x struct {
		Culprit json.RawMessage `json:"culprit"`
	}
	if json.Unmarshal(b, &x) != nil || string(x.Culprit) == "null" {
		return nil
	}
	return x.Culprit
}

// usecTime reads microseconds since the epoch.
func usecTime(s string) time.Time {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v <= 0 {
		return time.Time{}
	}
	return time.UnixMicro(v)
}

// systemdNameTime reads the time from a systemd-coredump file name,
// core.COMM.UID.BOOTID.PID.USEC[.zst|.lz4|.xz]; zero when the name is not one.
func systemdNameTime(name string) time.Time {
	if !strings.HasPrefix(name, "core.") {
		return time.Time{}
	}
	for _, ext := range []string{".zst", ".lz4", ".xz", ".gz"} {
		name = strings.TrimSuffix(name, ext)
	}
	parts := strings.Split(name, ".")
	// COMM may itself hold dots: count from the end.
	if len(parts) < 6 || len(parts[len(parts)-3]) != 32 {
		return time.Time{}
	}
	return usecTime(parts[len(parts)-1])
}

// fromJSON takes a coredig report's signature as it is.
func fromJSON(path string) crash {
	c := crash{path: path}
	f, err := os.Open(path)
	if err != nil {
		c.err = oneLine(err)
		return c
	}
	defer f.Close()
	var r struct {
		Schema    string            `json:"schema"`
		Signature *report.Signature `json:"signature"`
		Process   struct {
			Executable string `json:"executable"`
		} `json:"process"`
		Core struct {
			Metadata map[string]string `json:"metadata"`
		} `json:"core"`
		Diagnosis *struct {
			Culprit json.RawMessage `json:"culprit"`
		} `json:"diagnosis"`
	}
	if err := json.NewDecoder(io.LimitReader(f, maxJSONReport)).Decode(&r); err != nil {
		c.err = "JSON, but not a coredig report: " + oneLine(err)
		return c
	}
	if r.Schema != report.SchemaVersion || r.Signature == nil || r.Signature.Text == "" {
		c.err = fmt.Sprintf("JSON, but not a %s report with a signature (schema %q)", report.SchemaVersion, r.Schema)
		return c
	}
	if r.Signature.Frames == nil {
		r.Signature.Frames = []string{}
	}
	c.sig, c.exe = r.Signature, r.Process.Executable
	if r.Diagnosis != nil && string(r.Diagnosis.Culprit) != "null" {
		c.culprit = r.Diagnosis.Culprit
	}
	if ts := r.Core.Metadata["timestamp"]; ts != "" {
		c.when = usecTime(ts)
	}
	if exe := r.Core.Metadata["exe"]; exe != "" {
		c.exe = exe
	}
	return c
}

// fromApport takes the core out of an apport report into a temporary file and
// analyses it.
func fromApport(path string, opts Options) crash {
	c := crash{path: path}
	f, err := os.Open(path)
	if err != nil {
		c.err = oneLine(err)
		return c
	}
	defer f.Close()
	tmp, err := os.CreateTemp(opts.Input.CacheDir, "coredig-apport-*.core")
	if err != nil {
		c.err = oneLine(err)
		return c
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	limit := opts.Input.MaxSize
	if limit <= 0 {
		limit = input.DefaultMaxSize
	}
	a, err := ReadApport(f, tmp, limit)
	if err != nil {
		c.err = oneLine(err)
		return c
	}
	if a.CoreSize < 0 {
		c.err = "apport report without a CoreDump"
		return c
	}
	c = fromCore(tmp.Name(), path, opts)
	if c.err != "" {
		return c
	}
	if exe := a.Fields["ExecutablePath"]; exe != "" {
		c.exe = exe
	}
	if d := a.Fields["Date"]; d != "" {
		if t, err := time.ParseInLocation(time.ANSIC, d, time.Local); err == nil {
			c.when = t
		}
	}
	return c
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
