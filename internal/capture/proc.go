package capture

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/coredig/coredig/internal/corewriter"
)

// Bounds on what is read from /proc.
const (
	maxMaps     = 65534
	maxProcFile = 1 << 20
)

// vma is one entry of /proc/PID/smaps.
type vma struct {
	start, end uint64
	perms      string // "r-xp"
	offset     uint64
	inode      uint64
	name       string
	anon, swap uint64   // kB of anonymous and swapped pages
	flags      []string // VmFlags mnemonics
}

func (v *vma) has(flag string) bool {
	for _, f := range v.flags {
		if f == flag {
			return true
		}
	}
	return false
}

// readSmaps parses /proc/PID/smaps (proc(5); fs/proc/task_mmu.c show_smap).
func readSmaps(pid int) ([]vma, error) {
	name := fmt.Sprintf("/proc/%d/smaps", pid)
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSmaps(f, name)
}

// parseSmaps parses the text of an smaps file (or of a maps file, which is its mapping
// lines alone) called name. An error is a *FormatError.
func parseSmaps(r io.Reader, name string) ([]vma, error) {
	var out []vma
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	sc.Split(scanLF)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		k, v, ok := strings.Cut(line, ":")
		if ok && !strings.Contains(k, "-") && len(out) > 0 {
			cur := &out[len(out)-1]
			switch k {
			case "Anonymous":
				cur.anon = kB(v)
			case "Swap":
				cur.swap = kB(v)
			case "VmFlags":
				cur.flags = strings.Fields(v)
			}
			continue
		}
		m, err := parseMapsLine(line)
		if err != nil {
			return nil, &FormatError{File: name, Line: n, Err: err}
		}
		if len(out) == maxMaps {
			return nil, &FormatError{File: name, Line: n, Err: fmt.Errorf("more than %d mappings", maxMaps)}
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, &FormatError{File: name, Err: err}
	}
	return out, nil
}

// scanLF splits at "\n" only. bufio.ScanLines also drops a "\r" before it, which would cut
// one from a file name that ends in "\r": the kernel escapes only "\n" in a mapping's path.
func scanLF(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func kB(s string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(s), " kB"), 10, 64)
	return n
}

// parseMapsLine parses "start-end perms offset dev inode   name".
func parseMapsLine(line string) (vma, error) {
	var v vma
	f := strings.Fields(line)
	if len(f) < 5 {
		return v, fmt.Errorf("bad mapping line %q", line)
	}
	s, e, ok := strings.Cut(f[0], "-")
	var err1, err2, err3, err4 error
	v.start, err1 = strconv.ParseUint(s, 16, 64)
	v.end, err2 = strconv.ParseUint(e, 16, 64)
	v.offset, err3 = strconv.ParseUint(f[2], 16, 64)
	v.inode, err4 = strconv.ParseUint(f[4], 10, 64)
	if !ok || err1 != nil || err2 != nil || err3 != nil || err4 != nil || v.end < v.start || len(f[1]) != 4 {
		return v, fmt.Errorf("bad mapping line %q", line)
	}
	v.perms = f[1]
	// The name is the rest of the line after the inode, as written (it may hold spaces).
	rest := line
	for i := 0; i < 5; i++ {
		rest = strings.TrimLeft(rest, " ")
		if j := strings.IndexByte(rest, ' '); j >= 0 {
			rest = rest[j:]
		} else {
			rest = ""
		}
	}
	v.name = strings.TrimLeft(rest, " ")
	return v, nil
}

// coredump_filter bits (linux/include/linux/sched/coredump.h, MMF_DUMP_*).
const (
	filterAnonPrivate    = 1 << 0
	filterAnonShared     = 1 << 1
	filterMappedPrivate  = 1 << 2
	filterMappedShared   = 1 << 3
	filterELFHeaders     = 1 << 4
	filterHugetlbPrivate = 1 << 5
	filterHugetlbShared  = 1 << 6
	// DefaultFilter is the kernel's default (MMF_DUMP_FILTER_DEFAULT with ELF headers).
	DefaultFilter = 0x33
)

// dumpSize is how much of a mapping the kernel writes into a core (fs/coredump.c
// vma_dump_size). What the kernel knows and /proc does not show is approximated:
// vma->anon_vma by the mapping having anonymous or swapped pages, a shared mapping's
// i_nlink == 0 by a "(deleted)", memfd or SysV name, the executable bit of the file and
// its ELF magic by firstBytes (called only when it matters). DAX mappings are not told
// apart and are treated as ordinary ones.
func dumpSize(v *vma, filter uint64, pageSize uint64, isELF func() bool) uint64 {
	whole := v.end - v.start
	switch {
	case special(v.name):
		return whole // always_dump_vma: the gate area and special mappings, [vvar] too
	case v.has("dd"): // VM_DONTDUMP
		return 0
	case v.has("ht"): // hugetlb
		if v.has("sh") && filter&filterHugetlbShared != 0 || !v.has("sh") && filter&filterHugetlbPrivate != 0 {
			return whole
		}
		return 0
	case v.has("io"): // VM_IO
		return 0
	case v.has("sh"):
		unlinked := strings.HasSuffix(v.name, " (deleted)") || strings.HasPrefix(v.name, "/memfd:") || strings.HasPrefix(v.name, "/SYSV")
		if unlinked && filter&filterAnonShared != 0 || !unlinked && filter&filterMappedShared != 0 {
			return whole
		}
		return 0
	}
	if (v.anon > 0 || v.swap > 0) && filter&filterAnonPrivate != 0 {
		return whole
	}
	if v.inode == 0 {
		return 0
	}
	if filter&filterMappedPrivate != 0 {
		return whole
	}
	if filter&filterELFHeaders != 0 && v.offset == 0 && v.perms[0] == 'r' && isELF() {
		return pageSize
	}
	return 0
}

// special reports whether a mapping's name is the kernel's name of a special mapping
// ([vdso], [vvar], [vvar_vclock], [vsyscall], [uprobes], [sigpage], [vectors]): names
// in brackets other than the heap, the stack and prctl-named anonymous memory.
func special(name string) bool {
	if !strings.HasPrefix(name, "[") || !strings.HasSuffix(name, "]") {
		return false
	}
	switch {
	case name == "[heap]", name == "[stack]", strings.HasPrefix(name, "[stack:"),
		strings.HasPrefix(name, "[anon:"), strings.HasPrefix(name, "[anon_shmem:"):
		return false
	}
	return true
}

// mapping turns a vma into the writer's mapping.
func (v *vma) mapping(dump uint64) corewriter.Mapping {
	m := corewriter.Mapping{Start: v.start, End: v.end, Dump: dump}
	if v.perms[0] == 'r' {
		m.Flags |= elf.PF_R
	}
	if v.perms[1] == 'w' {
		m.Flags |= elf.PF_W
	}
	if v.perms[2] == 'x' {
		m.Flags |= elf.PF_X
	}
	if v.inode != 0 && v.name != "" {
		m.File, m.Offset = v.name, v.offset
	}
	return m
}

// readSmall reads a /proc file of bounded size.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(&limited{f: f, n: maxProcFile})
	return b.Bytes(), err
}

type limited struct {
	f *os.File
	n int
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("%s: longer than %d bytes", l.f.Name(), maxProcFile)
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	k, err := l.f.Read(p)
	l.n -= k
	return k, err
}

// stat is what coredig uses of /proc/PID/stat or /proc/PID/task/TID/stat (proc(5)).
type stat struct {
	comm                         string
	state                        byte
	ppid, pgrp, sid              int
	flags                        uint64
	utime, stime, cutime, cstime time.Duration
	nice                         int
}

// clockTicks is USER_HZ, 100 on every Linux architecture coredig reads.
const clockTicks = 100

func readStat(path string) (stat, error) {
	b, err := readSmall(path)
	if err != nil {
		return stat{}, err
	}
	return parseStat(b, path)
}

// maxTicks bounds a time in clock ticks so that it fits a time.Duration (292 years).
const maxTicks = math.MaxInt64 / int64(time.Second/clockTicks)

// parseStat parses the text of a stat file called name. An error is a *FormatError.
func parseStat(b []byte, name string) (stat, error) {
	var s stat
	// comm is in parentheses and may hold anything: split at the last ')'.
	i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if i < 0 || j < i {
		return s, &FormatError{File: name, Err: fmt.Errorf("no command name")}
	}
	s.comm = string(b[i+1 : j])
	f := strings.Fields(string(b[j+1:]))
	if len(f) < 17 {
		return s, &FormatError{File: name, Err: fmt.Errorf("%d fields after the command name, want at least 17", len(f))}
	}
	n := func(k int) int64 { v, _ := strconv.ParseInt(f[k], 10, 64); return v }
	tick := func(k int) time.Duration {
		return time.Duration(min(max(n(k), -maxTicks), maxTicks)) * (time.Second / clockTicks)
	}
	s.state = f[0][0]
	s.ppid, s.pgrp, s.sid = int(n(1)), int(n(2)), int(n(3))
	s.flags, _ = strconv.ParseUint(f[6], 10, 64) // %u
	s.utime, s.stime, s.cutime, s.cstime = tick(11), tick(12), tick(13), tick(14)
	s.nice = int(n(16))
	return s, nil
}

// status holds fields of /proc/PID/status.
type status map[string]string

func readStatus(path string) (status, error) {
	b, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	return parseStatus(b), nil
}

// parseStatus parses "Key:\tvalue" lines; a line without a colon is skipped.
func parseStatus(b []byte) status {
	st := status{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			st[k] = strings.TrimSpace(v)
		}
	}
	return st
}

func (s status) hex(k string) uint64 {
	v, _ := strconv.ParseUint(s[k], 16, 64)
	return v
}

// first returns the first number of a field such as "Uid:	0	0	0	0".
func (s status) first(k string) int {
	f := strings.Fields(s[k])
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.Atoi(f[0])
	if err != nil {
		return -1
	}
	return v
}

// parseFilter parses /proc/PID/coredump_filter, a hexadecimal number.
func parseFilter(b []byte) (uint64, bool) {
	v, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 16, 64)
	return v, err == nil
}

// FormatError is a /proc file that does not read as the kernel writes it.
type FormatError struct {
	File string
	Line int // 1-based; 0 when the error is not of one line
	Err  error
}

func (e *FormatError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }
