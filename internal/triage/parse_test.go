package triage

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// apportReport writes an apport report the way apport's problem_report.py does: text
// fields, then "CoreDump: base64" and one base64 line per block of the gzip stream (the
// header, each compressed block, the trailer), each encoded on its own.
func apportReport(fields [][2]string, core []byte) []byte {
	var b bytes.Buffer
	for _, f := range fields {
		b.WriteString(f[0] + ": " + strings.ReplaceAll(f[1], "\n", "\n ") + "\n")
	}
	if core != nil {
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(core)
		w.Close()
		z := gz.Bytes()
		b.WriteString("CoreDump: base64")
		blocks := [][]byte{z[:10]}
		body := z[10 : len(z)-8]
		for len(body) > 0 {
			n := min(len(body), 1000)
			blocks = append(blocks, body[:n])
			body = body[n:]
		}
		blocks = append(blocks, z[len(z)-8:])
		for _, blk := range blocks {
			b.WriteString("\n " + base64.StdEncoding.EncodeToString(blk))
		}
		b.WriteString("\n")
	}
	b.WriteString("Uname: Linux 6.1.0 x86_64\n")
	return b.Bytes()
}

func TestReadApport(t *testing.T) {
	core := bytes.Repeat([]byte("\x7fELF core bytes "), 5000)
	data := apportReport([][2]string{{"ProblemType", "Crash"}, {"Date", "Thu Dec  3 14:52:02 2026"},
		{"ExecutablePath", "/usr/bin/deref"}, {"ProcMaps", "55d0-55d1 r-xp deref\n7f00-7f01 r-xp libc.so.6"}}, core)
	var got bytes.Buffer
	a, err := ReadApport(bytes.NewReader(data), &got, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ProblemType": "Crash", "Date": "Thu Dec  3 14:52:02 2026", "ExecutablePath": "/usr/bin/deref",
		"ProcMaps": "55d0-55d1 r-xp deref\n7f00-7f01 r-xp libc.so.6", "Uname": "Linux 6.1.0 x86_64"}
	if !reflect.DeepEqual(a.Fields, want) {
		t.Errorf("fields %q, want %q", a.Fields, want)
	}
	if a.CoreSize != int64(len(core)) || !bytes.Equal(got.Bytes(), core) {
		t.Errorf("core of %d bytes (size %d), want the %d bytes written", got.Len(), a.CoreSize, len(core))
	}

	// The limit on the decompressed core.
	_, err = ReadApport(bytes.NewReader(data), io.Discard, 1000)
	if !errors.Is(err, errTooBig) {
		t.Errorf("over the limit: %v, want errTooBig", err)
	}
	// Older apport wrote a zlib stream.
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(core)
	zw.Close()
	old := "ProblemType: Crash\nCoreDump: base64\n " + base64.StdEncoding.EncodeToString(z.Bytes()) + "\n"
	got.Reset()
	if a, err := ReadApport(strings.NewReader(old), &got, 1<<30); err != nil || a.CoreSize != int64(len(core)) || !bytes.Equal(got.Bytes(), core) {
		t.Errorf("zlib CoreDump: %v, %d bytes", err, got.Len())
	}
	// Without a CoreDump.
	if a, err := ReadApport(strings.NewReader("ProblemType: Crash\nSignal: 11\n"), &got, 1<<30); err != nil || a.CoreSize != -1 || a.Fields["Signal"] != "11" {
		t.Errorf("no CoreDump: %+v, %v", a, err)
	}
}

func TestReadApportErrors(t *testing.T) {
	cut := apportReport([][2]string{{"ProblemType", "Crash"}}, bytes.Repeat([]byte("core "), 10000))
	cut = cut[:len(cut)/2]
	for _, tc := range []struct{ name, in, want string }{
		{"not key value", "hello world\n", `apport report, line 1: not a "Key: value" line: "hello world"`},
		{"continuation first", " orphan\n", "apport report, line 1: continuation line without a field"},
		{"no fields", "\n\n", "apport report, line 2: no fields"},
		{"not compressed", "ProblemType: Crash\nCoreDump: base64\n " + base64.StdEncoding.EncodeToString([]byte("plain text")) + "\n",
			"apport report, line 3: CoreDump: CoreDump is neither gzip nor zlib (starts 0x70 0x6c)"},
		{"empty core", "ProblemType: Crash\nCoreDump: base64\n\n", "apport report, line 2: CoreDump: empty CoreDump"},
		{"bad base64", "ProblemType: Crash\nCoreDump: base64\n !!!!\n", "apport report, line 3: CoreDump: base64 at line 3: illegal base64 data at input byte 0"},
		{"cut short", string(cut), "apport report, line 4: CoreDump: decompressing: base64 at line 4: unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadApport(strings.NewReader(tc.in), io.Discard, 1<<30)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseKnown(t *testing.T) {
	in := "# known crashes\n" +
		"null_pointer_dereference @ deref < main\thttps://tracker/issues/12\n" +
		"\n" +
		"abort @ do_abort < main\r\n" +
		"  stack_overflow @ recurse  \t  see #7  \n" +
		"null_pointer_dereference @ deref < main\tduplicate, ignored\n"
	got, err := ParseKnown(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"null_pointer_dereference @ deref < main": "https://tracker/issues/12",
		"abort @ do_abort < main":                 "",
		"stack_overflow @ recurse":                "see #7",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseKnown = %q, want %q", got, want)
	}
	if _, err := ParseKnown(strings.NewReader("ok\n\tnote without signature\n")); err == nil || err.Error() != "line 2: a note without a signature" {
		t.Errorf("error %v", err)
	}
	long := strings.Repeat("x", maxKnownLine+1)
	if _, err := ParseKnown(strings.NewReader(long)); err == nil || err.Error() != "line 1: bufio.Scanner: token too long" {
		t.Errorf("long line: %v", err)
	}
}

func TestSystemdNameTime(t *testing.T) {
	for _, tc := range []struct {
		name string
		want time.Time
	}{
		{"core.deref.0.0123456789abcdef0123456789abcdef.4242.1764773522123456.zst", time.UnixMicro(1764773522123456)},
		{"core.my.app.1000.0123456789abcdef0123456789abcdef.7.1764773522000000", time.UnixMicro(1764773522000000)},
		{"core.deref.0.notabootid.4242.1764773522123456.zst", time.Time{}},
		{"core.4242", time.Time{}},
		{"deref.core", time.Time{}},
	} {
		if got := systemdNameTime(tc.name); !got.Equal(tc.want) {
			t.Errorf("systemdNameTime(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func FuzzReadApport(f *testing.F) {
	f.Add(apportReport([][2]string{{"ProblemType", "Crash"}, {"Date", "Thu Dec  3 14:52:02 2026"}}, []byte("\x7fELF core")))
	f.Add([]byte("ProblemType: Crash\nCoreDump: base64\n H4sIAAAAAAAA/w==\n AwA=\n AAAAAAAAAAA=\n"))
	f.Add([]byte("ProblemType: Crash\nCoreDump: base64\n eJwDAAAAAAE=\n"))
	f.Add([]byte("A: b\n c\n d\nE: base64\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		a, err := ReadApport(bytes.NewReader(data), &out, 1<<16)
		if a == nil {
			t.Fatal("nil report")
		}
		if out.Len() > 1<<16+1 {
			t.Fatalf("%d bytes written past the limit", out.Len())
		}
		if err == nil && a.CoreSize >= 0 && int64(out.Len()) != a.CoreSize {
			t.Fatalf("CoreSize %d, wrote %d", a.CoreSize, out.Len())
		}
		if len(a.Fields) > maxApportFields {
			t.Fatalf("%d fields", len(a.Fields))
		}
	})
}

func FuzzParseKnown(f *testing.F) {
	f.Add("null_pointer_dereference @ deref < main\thttps://tracker/issues/12\n# comment\n\nabort\n")
	f.Add("\tnote\n")
	f.Add("a\tb\tc\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		known, err := ParseKnown(strings.NewReader(in))
		if err != nil {
			return
		}
		for sig, note := range known {
			if sig == "" || sig != strings.TrimSpace(sig) || note != strings.TrimSpace(note) || strings.Contains(sig, "\n") {
				t.Fatalf("entry %q -> %q", sig, note)
			}
		}
	})
}
