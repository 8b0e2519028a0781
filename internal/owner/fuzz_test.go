package owner

import (
	"os"
	"testing"
)

// seedFile adds the first 64 KiB of a real database file, when this machine has it.
func seedFile(f *testing.F, path string) {
	if data, _ := readBounded(path, 64<<10); len(data) > 0 {
		f.Add(data)
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(statusSample))
	seedFile(f, "/var/lib/dpkg/status")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range ParseStatus(data) {
			if p.Name == "" {
				t.Fatalf("a package without a name: %+v", p)
			}
		}
	})
}

func FuzzParseList(f *testing.F) {
	f.Add([]byte("/.\n/usr\n/usr/lib/libz.so.1\n"))
	seedFile(f, "/var/lib/dpkg/info/libc6:amd64.list")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range ParseList(data) {
			if p == "" || p[0] != '/' {
				t.Fatalf("a path that is not absolute: %q", p)
			}
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte("grpc/__init__.py,sha256=abc,1234\n\"a,b\",,\n"))
	if ents, err := os.ReadDir("/root/.pyenv/versions/3.12.1/lib/python3.12/site-packages"); err == nil {
		for _, e := range ents {
			seedFile(f, "/root/.pyenv/versions/3.12.1/lib/python3.12/site-packages/"+e.Name()+"/RECORD")
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range ParseRecord(data) {
			if p == "" {
				t.Fatal("an empty path")
			}
		}
		for _, p := range ParseInstalledFiles(data) {
			if p == ".." || len(p) > 2 && p[:3] == "../" {
				t.Fatalf("a path outside the site directory: %q", p)
			}
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte("Metadata-Version: 2.1\nName: grpcio\nVersion: 1.71.2\n\nbody"))
	f.Fuzz(func(t *testing.T, data []byte) {
		name, version := ParseMetadata(data)
		_, _ = name, version
	})
}
