package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/corewriter"
)

// The fuzz targets of the /proc parsers a snapshot reads, seeded with the real files of
// testdata/proc (see its README). Each re-writes what it parsed in the kernel's format
// and parses that again: what a parser accepts, it must read back the same.

func procSeed(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "proc", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// formatSmaps writes mappings as fs/proc/task_mmu.c does (show_map_vma, then the smaps
// fields coredig reads).
func formatSmaps(vs []vma) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		fmt.Fprintf(&b, "%08x-%08x %s %08x fe:00 %d ", v.start, v.end, v.perms, v.offset, v.inode)
		if v.name != "" {
			b.WriteString(strings.Repeat(" ", 20))
			b.WriteString(v.name)
		}
		fmt.Fprintf(&b, "\nSize:  %8d kB\nAnonymous:  %8d kB\nSwap:  %8d kB\n", (v.end-v.start)>>10, v.anon, v.swap)
		if v.flags != nil {
			fmt.Fprintf(&b, "VmFlags: %s \n", strings.Join(v.flags, " "))
		}
	}
	return b.Bytes()
}

// FuzzSmaps parses /proc/PID/smaps text: an error is a *FormatError; a mapping never ends
// before it starts, has four permission characters and at most maxMaps siblings; what the
// kernel would dump of it is nothing, one page or all of it; and the mappings written
// back in the kernel's format parse to the same mappings.
func FuzzSmaps(f *testing.F) {
	smaps := procSeed(f, "smaps")
	f.Add(smaps)
	// Each mapping alone, with its fields.
	starts := []int{}
	for i, line := range bytes.SplitAfter(smaps, []byte("\n")) {
		if k, _, _ := bytes.Cut(line, []byte(":")); bytes.Contains(k, []byte("-")) {
			starts = append(starts, i)
		}
	}
	lines := bytes.SplitAfter(smaps, []byte("\n"))
	for i, s := range starts {
		end := len(lines)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		f.Add(bytes.Join(lines[s:end], nil))
	}
	f.Add([]byte("7f00-8f00 r-xp 00001000 fe:00 123      /path/with two  spaces\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, err := parseSmaps(bytes.NewReader(data), "smaps")
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			return
		}
		if len(vs) > maxMaps {
			t.Fatalf("%d mappings", len(vs))
		}
		for i := range vs {
			v := &vs[i]
			if v.end < v.start || len(v.perms) != 4 || strings.HasPrefix(v.name, " ") {
				t.Fatalf("mapping %+v", *v)
			}
			for _, filter := range []uint64{0, DefaultFilter, 0x7f} {
				d := dumpSize(v, filter, 4096, func() bool { return v.offset&1 == 0 })
				if d != 0 && d != v.end-v.start && d != 4096 {
					t.Fatalf("dump %#x of %+v", d, *v)
				}
				m := v.mapping(d)
				if m.Start != v.start || m.End != v.end || m.Dump != d {
					t.Fatalf("writer's mapping %+v of %+v", m, *v)
				}
			}
		}
		again, err := parseSmaps(bytes.NewReader(formatSmaps(vs)), "again")
		if err != nil {
			t.Fatalf("written back: %v\n%s", err, formatSmaps(vs))
		}
		if len(vs) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(again, vs) {
			t.Fatalf("written back and parsed again:\n%+v\nwant\n%+v", again, vs)
		}
	})
}

// formatStat writes s as fs/proc/array.c do_task_stat does, with zeros in the fields
// coredig does not read.
func formatStat(s stat) []byte {
	tk := func(d time.Duration) int64 { return int64(d / (time.Second / clockTicks)) }
	return fmt.Appendf(nil, "4242 (%s) %s %d %d %d 0 -1 %d 0 0 0 0 %d %d %d %d 20 %d 1 0 1236706 2990080 421\n",
		s.comm, []byte{s.state}, s.ppid, s.pgrp, s.sid, s.flags, tk(s.utime), tk(s.stime), tk(s.cutime), tk(s.cstime), s.nice)
}

// FuzzStat parses /proc/PID/stat text: an error is a *FormatError; times are whole clock
// ticks no longer than maxTicks; and the fields written back in the kernel's format parse
// to the same fields.
func FuzzStat(f *testing.F) {
	f.Add(procSeed(f, "stat"))
	f.Add(procSeed(f, "stat-paren"))
	f.Add([]byte("1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 18446744073709551615 -3 0 0 20 -20\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseStat(data, "stat")
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			return
		}
		const tick, most = time.Second / clockTicks, time.Duration(maxTicks) * (time.Second / clockTicks)
		for _, d := range []time.Duration{s.utime, s.stime, s.cutime, s.cstime} {
			if d%tick != 0 || d > most || d < -most {
				t.Fatalf("time %d", d)
			}
		}
		again, err := parseStat(formatStat(s), "again")
		if err != nil || again != s {
			t.Fatalf("written back %q and parsed again: %+v (%v), want %+v", formatStat(s), again, err, s)
		}
	})
}

// FuzzStatus parses the same text as /proc/PID/status, as a descriptor's fdinfo and as
// coredump_filter: the status fields written back as "Key:\tvalue" lines parse to the same
// fields, the access mode is one of O_ACCMODE's or -1, a filter read is written back the
// same.
func FuzzStatus(f *testing.F) {
	for _, name := range []string{"status", "fdinfo-pipe-r", "fdinfo-pipe-w", "fdinfo-sock", "coredump_filter"} {
		f.Add(procSeed(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st := parseStatus(data)
		if len(st) > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d fields from %d lines", len(st), bytes.Count(data, []byte("\n"))+1)
		}
		keys := make([]string, 0, len(st))
		for k := range st {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b bytes.Buffer
		for _, k := range keys {
			fmt.Fprintf(&b, "%s:\t%s\n", k, st[k])
		}
		if again := parseStatus(b.Bytes()); !reflect.DeepEqual(again, st) {
			t.Fatalf("written back %q and parsed again: %q, want %q", b.Bytes(), again, st)
		}
		if u := st.first("Uid"); u < -1 {
			t.Fatalf("Uid %d", u)
		}
		st.hex("SigBlk")
		if m := accessMode(data); m < -1 || m > 3 {
			t.Fatalf("access mode %d", m)
		}
		if v, ok := parseFilter(data); ok {
			if w, ok := parseFilter(fmt.Appendf(nil, "%08x\n", v)); !ok || w != v {
				t.Fatalf("filter %#x written back reads %#x, %v", v, w, ok)
			}
		}
	})
}

// inetHex writes an address and port as /proc/net/tcp{,6} do (see inetAddr).
func inetHex(hostport string, order binary.ByteOrder) (string, bool) {
	h, p, err := net.SplitHostPort(hostport)
	ip := net.ParseIP(h)
	port, perr := strconv.ParseUint(p, 10, 16)
	if err != nil || ip == nil || perr != nil {
		return "", false
	}
	if v4 := ip.To4(); v4 != nil && !strings.Contains(h, ":") {
		ip = v4
	}
	var b strings.Builder
	for i := 0; i < len(ip); i += 4 {
		fmt.Fprintf(&b, "%08X", order.Uint32(ip[i:]))
	}
	fmt.Fprintf(&b, ":%04X", port)
	return b.String(), true
}

// FuzzSockets reads the same text as /proc/net/tcp, udp and unix, looking for every inode
// it names and one it does not: only sockets looked for are described, each once, by a
// description that starts with its protocol, holds no newline and is not much longer than
// its line; an address decoded is encoded back to one that decodes the same.
func FuzzSockets(f *testing.F) {
	for _, name := range []string{"tcp", "tcp6", "udp", "udp6", "unix"} {
		f.Add(procSeed(f, name), false)
	}
	f.Add(procSeed(f, "tcp"), true)
	f.Fuzz(func(t *testing.T, data []byte, big bool) {
		var order binary.ByteOrder = binary.LittleEndian
		if big {
			order = binary.BigEndian
		}
		longest := 0
		want := map[uint64]string{1<<64 - 1: ""}
		for _, line := range strings.Split(string(data), "\n") {
			longest = max(longest, len(line))
			fs := strings.Fields(line)
			for _, k := range []int{6, 9} {
				if k < len(fs) {
					if ino, err := strconv.ParseUint(fs[k], 10, 64); err == nil {
						want[ino] = ""
					}
				}
			}
			for k := 1; k <= 2 && k < len(fs); k++ {
				a, ok := inetAddr(fs[k], order)
				if !ok {
					continue
				}
				h, ok := inetHex(a, order)
				if !ok {
					t.Fatalf("%q decodes to %q, which does not encode", fs[k], a)
				}
				if b, ok := inetAddr(h, order); !ok || b != a {
					t.Fatalf("%q decodes to %q, encodes to %q, which decodes to %q, %v", fs[k], a, h, b, ok)
				}
			}
		}
		n := len(want)
		for _, proto := range []string{"TCP", "UDP", "unix"} {
			got := map[uint64]string{}
			for k, v := range want {
				got[k] = v
			}
			if proto == "unix" {
				scanUnix(bytes.NewReader(data), got)
			} else {
				scanInet(bytes.NewReader(data), proto, order, got)
			}
			if len(got) != n {
				t.Fatalf("%s: %d sockets looked for, %d after", proto, n, len(got))
			}
			for ino, d := range got {
				if d == "" {
					continue
				}
				if !strings.HasPrefix(d, proto+" ") || strings.ContainsAny(d, "\n") || len(d) > longest+64 {
					t.Fatalf("%s: socket %d described %q", proto, ino, d)
				}
			}
		}
	})
}

// FuzzFilesNote lays out a COREDIG files note from fuzzed descriptions (descriptor i is
// the i-th NUL-separated part of the input), writes it in a core with package corewriter
// and reads the core back with package core: each descriptor with a description reads
// back with it, cut to maxFileDesc bytes, newlines and tabs made spaces, every other byte
// kept.
func FuzzFilesNote(f *testing.F) {
	f.Add([]byte("/dev/null\x00/tmp/bash_jobs.0/cf5a6129902c/stdout\x00/tmp/bash_jobs.0/cf5a6129902c/stderr\x00pipe:[788162] (read end)\x00" +
		"socket:[788157] TCP 127.0.0.1:53132 -> 127.0.0.1:39607 (ESTABLISHED)\x00socket:[788159] unix stream /tmp/fz/s.sock\x00" +
		"anon_inode:[eventfd]\x00/tmp/a\nb\tc\x00\x00/home/\xe9t\xe9.txt"))
	f.Add(bytes.Repeat([]byte("\xff"), maxFileDesc+3))
	a := arch.AMD64
	f.Fuzz(func(t *testing.T, data []byte) {
		var descs []fileDesc
		for i, d := range strings.Split(string(data), "\x00") {
			descs = append(descs, fileDesc{i, d})
		}
		note := filesNote(descs)
		if len(note) > maxFilesNote {
			t.Fatalf("note of %d bytes", len(note))
		}
		p := &corewriter.Process{Arch: a,
			Threads: []corewriter.Thread{{TID: 7, Regs: make([]byte, a.PrStatus.RegsSize)}},
			Extra:   []corewriter.Note{{Name: corewriter.NoteOwner, Type: corewriter.NT_COREDIG_FILES, Desc: note}}}
		im, err := corewriter.NewImage(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := core.NewCore(im, im.Size(), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Warnings) > 0 {
			t.Fatalf("warnings %q reading note %q", c.Warnings, note)
		}
		want := 0
		for _, d := range descs {
			if d.desc == "" {
				if _, ok := c.Descriptors[d.fd]; ok {
					t.Fatalf("descriptor %d without a description read back as %q", d.fd, c.Descriptors[d.fd])
				}
				continue
			}
			want++
			w := []byte(d.desc[:min(len(d.desc), maxFileDesc)])
			for i, b := range w {
				if b == '\n' || b == '\t' {
					w[i] = ' '
				}
			}
			if got := c.Descriptors[d.fd]; got != string(w) {
				t.Fatalf("descriptor %d read back as %q, want %q", d.fd, got, w)
			}
		}
		if len(c.Descriptors) != want {
			t.Fatalf("%d descriptors read back, want %d", len(c.Descriptors), want)
		}
	})
}

// The seeds are what the parsers expect: testdata/proc's files read as the README says
// they were made.
func TestProcSeeds(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "proc", "smaps"))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := parseSmaps(bytes.NewReader(b), "smaps")
	if err != nil || len(vs) != 9 || vs[1].name != "[heap]" || vs[2].anon == 0 || !vs[3].has("sh") ||
		dumpSize(&vs[3], DefaultFilter, 4096, nil) != vs[3].end-vs[3].start {
		t.Fatalf("smaps: %d mappings %+v, %v", len(vs), vs, err)
	}
	b, _ = os.ReadFile(filepath.Join("testdata", "proc", "stat-paren"))
	if s, err := parseStat(b, "stat-paren"); err != nil || s.comm != "a) b (c" || s.state != 'S' || s.nice != 0 || s.flags != 4194304 {
		t.Fatalf("stat: %+v, %v", s, err)
	}
	for name, want := range map[string]int{"fdinfo-pipe-r": 0, "fdinfo-pipe-w": 1, "fdinfo-sock": 2, "status": -1} {
		b, _ := os.ReadFile(filepath.Join("testdata", "proc", name))
		if got := accessMode(b); got != want {
			t.Errorf("%s: access mode %d, want %d", name, got, want)
		}
	}
	want := map[uint64]string{788151: "", 788152: "", 788154: "", 788156: "", 788159: "", 788160: ""}
	for _, proto := range []string{"tcp", "tcp6", "udp", "unix"} {
		b, _ := os.ReadFile(filepath.Join("testdata", "proc", proto))
		if proto == "unix" {
			scanUnix(bytes.NewReader(b), want)
		} else {
			scanInet(bytes.NewReader(b), strings.ToUpper(proto[:3]), binary.LittleEndian, want)
		}
	}
	for ino, d := range map[uint64]string{788151: "TCP [::1]:34427 (LISTEN)", 788152: "TCP [::1]:36168 -> [::1]:34427 (ESTABLISHED)",
		788154: "UDP 127.0.0.1:42040 -> 127.0.0.1:53", 788156: "TCP 127.0.0.1:39607 (LISTEN)",
		788159: "unix stream /tmp/fz/s.sock", 788160: "unix dgram (unnamed)"} {
		if want[ino] != d {
			t.Errorf("socket %d: %q, want %q", ino, want[ino], d)
		}
	}
}
