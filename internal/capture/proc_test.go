package capture

import (
	"strings"
	"testing"
	"time"
)

func TestDumpSize(t *testing.T) {
	const page = 4096
	elfYes := func() bool { return true }
	elfNo := func() bool { return false }
	for _, tc := range []struct {
		name   string
		line   string
		anon   uint64
		flags  []string
		filter uint64
		isELF  func() bool
		want   uint64
	}{
		{"vdso always", "7ffd0000-7ffd2000 r-xp 00000000 00:00 0 [vdso]", 0, []string{"rd", "ex", "dd"}, DefaultFilter, elfNo, 0x2000},
		{"vvar always", "7ffd0000-7ffd4000 r--p 00000000 00:00 0 [vvar]", 0, []string{"rd", "io", "pf", "dd"}, DefaultFilter, elfNo, 0x4000},
		{"dontdump", "1000-3000 rw-p 00000000 00:00 0", 8, []string{"rd", "wr", "dd"}, DefaultFilter, elfNo, 0},
		{"touched anonymous", "1000-3000 rw-p 00000000 00:00 0", 4, []string{"rd", "wr"}, DefaultFilter, elfNo, 0x2000},
		{"untouched anonymous", "1000-3000 rw-p 00000000 00:00 0", 0, []string{"rd", "wr"}, DefaultFilter, elfNo, 0},
		{"anonymous filtered out", "1000-3000 rw-p 00000000 00:00 0", 4, []string{"rd", "wr"}, 0x32, elfNo, 0},
		{"text header page", "1000-9000 r--p 00000000 fe:00 42 /usr/lib/libc.so.6", 0, []string{"rd", "mr"}, DefaultFilter, elfYes, page},
		{"text not at offset 0", "1000-9000 r-xp 00002000 fe:00 42 /usr/lib/libc.so.6", 0, []string{"rd", "ex"}, DefaultFilter, elfYes, 0},
		{"data file not ELF", "1000-9000 r--p 00000000 fe:00 42 /data/x", 0, []string{"rd"}, DefaultFilter, elfNo, 0},
		{"relro written", "1000-3000 r--p 00004000 fe:00 42 /usr/lib/libc.so.6", 8, []string{"rd"}, DefaultFilter, elfYes, 0x2000},
		{"mapped private on", "1000-3000 r--p 00004000 fe:00 42 /data/x", 0, []string{"rd"}, DefaultFilter | filterMappedPrivate, elfNo, 0x2000},
		{"shared file", "1000-3000 rw-s 00000000 fe:00 42 /data/x", 0, []string{"rd", "wr", "sh"}, DefaultFilter, elfNo, 0},
		{"shared file on", "1000-3000 rw-s 00000000 fe:00 42 /data/x", 0, []string{"rd", "wr", "sh"}, DefaultFilter | filterMappedShared, elfNo, 0x2000},
		{"shared anonymous", "1000-3000 rw-s 00000000 00:01 7 /dev/zero (deleted)", 0, []string{"rd", "wr", "sh"}, DefaultFilter, elfNo, 0x2000},
		{"memfd", "1000-3000 rw-s 00000000 00:01 7 /memfd:x (deleted)", 0, []string{"rd", "wr", "sh"}, DefaultFilter, elfNo, 0x2000},
		{"hugetlb private", "1000-3000 rw-p 00000000 00:0f 9 /anon_hugepage (deleted)", 0, []string{"rd", "wr", "ht"}, DefaultFilter, elfNo, 0x2000},
		{"hugetlb shared off", "1000-3000 rw-s 00000000 00:0f 9 /mnt/huge/x", 0, []string{"rd", "wr", "sh", "ht"}, DefaultFilter, elfNo, 0},
		{"io", "1000-3000 rw-s 00000000 00:06 9 /dev/mem", 0, []string{"rd", "wr", "sh", "io"}, 0xff, elfNo, 0},
		{"named anonymous", "1000-3000 rw-p 00000000 00:00 0 [anon:arena]", 4, []string{"rd", "wr"}, DefaultFilter, elfNo, 0x2000},
		{"untouched named anonymous", "1000-3000 rw-p 00000000 00:00 0 [anon:arena]", 0, []string{"rd", "wr"}, DefaultFilter, elfNo, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := parseMapsLine(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			v.anon, v.flags = tc.anon, tc.flags
			if got := dumpSize(&v, tc.filter, page, tc.isELF); got != tc.want {
				t.Errorf("dumpSize = %#x, want %#x", got, tc.want)
			}
		})
	}
}

func TestParseMapsLineName(t *testing.T) {
	v, err := parseMapsLine("7f00-8f00 r-xp 00001000 fe:00 123      /path/with two  spaces")
	if err != nil || v.name != "/path/with two  spaces" || v.offset != 0x1000 || v.inode != 123 {
		t.Fatalf("%+v %v", v, err)
	}
	if _, err := parseMapsLine("zz-1 r-xp"); err == nil {
		t.Fatal("a bad line parsed")
	}
}

// Times past 2^63 ns / 1e9 ticks, 2.9 years of CPU, read as they are (ticks were once
// multiplied by time.Second before the division by USER_HZ, which wrapped there): a
// long-running init's cutime can be that much. Beyond what a Duration holds (292
// years) they are clamped, not wrapped.
func TestParseStatLongTimes(t *testing.T) {
	s, err := parseStat([]byte("1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 5 6 10000000000 99999999999999999 20 0\n"), "stat")
	if err != nil {
		t.Fatal(err)
	}
	if s.utime != 50*time.Millisecond || s.cutime != 100_000_000*time.Second || s.cstime != time.Duration(maxTicks)*(time.Second/clockTicks) {
		t.Errorf("utime %v cutime %v cstime %v", s.utime, s.cutime, s.cstime)
	}
}

// A description's bytes are kept, UTF-8 or not, and cut at maxFileDesc; newlines and tabs
// become spaces.
func TestFilesNoteBytes(t *testing.T) {
	long := strings.Repeat("\xff", maxFileDesc+10)
	got := string(filesNote([]fileDesc{{0, "/home/\xe9t\xe9\n.txt"}, {1, ""}, {2, long}, {-1, "x"}, {3, "a\tb"}}))
	want := "0\t/home/\xe9t\xe9 .txt\n2\t" + long[:maxFileDesc] + "\n3\ta b\n"
	if got != want {
		t.Errorf("note %q, want %q", got, want)
	}
}
