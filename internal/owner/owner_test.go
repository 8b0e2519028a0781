package owner

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const statusSample = `Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 .
 the system.

Package: libc6
Status: deinstall ok config-files
Architecture: i386
Version: 2.36-9

Package: python3-numpy
Status: install ok installed
Architecture: amd64
Source: numpy
Version: 1:1.24.2-1+deb12u1
Depends: python3 (<< 3.12), Version: not-this

Version: 9.9 (a stanza without Package)
`

func TestParseStatus(t *testing.T) {
	got := ParseStatus([]byte(statusSample))
	want := []Package{
		{Name: "libc6", Arch: "amd64", Version: "2.36-9+deb12u4", Status: "install ok installed"},
		{Name: "libc6", Arch: "i386", Version: "2.36-9", Status: "deinstall ok config-files"},
		{Name: "python3-numpy", Arch: "amd64", Version: "1:1.24.2-1+deb12u1", Status: "install ok installed"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseStatus = %+v\nwant %+v", got, want)
	}
	if !want[0].Installed() || want[1].Installed() {
		t.Error("Installed: want true for 'install ok installed', false for 'deinstall ok config-files'")
	}
}

func TestParseList(t *testing.T) {
	got := ParseList([]byte("/.\n/usr\n/usr/lib/x86_64-linux-gnu/libz.so.1.2.13\r\n\nrelative/ignored\n/usr/share/doc/zlib1g\n"))
	want := []string{"/usr", "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "/usr/share/doc/zlib1g"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseList = %q, want %q", got, want)
	}
}

func TestParseRecord(t *testing.T) {
	rec := "grpc/__init__.py,sha256=abc,1234\n" +
		"grpc/_cython/cygrpc.cpython-312-x86_64-linux-gnu.so,sha256=def,9999\n" +
		"\"grpc/odd,name.py\",,\n" +
		"grpcio-1.71.2.dist-info/RECORD,,\n" +
		"../../../bin/grpc_tool,sha256=x,1\n" +
		",,\n"
	got := ParseRecord([]byte(rec))
	want := []string{"grpc/__init__.py", "grpc/_cython/cygrpc.cpython-312-x86_64-linux-gnu.so", "grpc/odd,name.py",
		"grpcio-1.71.2.dist-info/RECORD", "../../../bin/grpc_tool"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseRecord = %q\nwant %q", got, want)
	}
}

func TestParseInstalledFiles(t *testing.T) {
	got := ParseInstalledFiles([]byte("../ddtrace/__init__.py\n../ddtrace/_x.so\nPKG-INFO\n../../../../bin/ddtrace-run\n\n"))
	want := []string{"ddtrace/__init__.py", "ddtrace/_x.so", "x.egg-info/PKG-INFO"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseInstalledFiles = %q, want %q", got, want)
	}
}

func TestParseMetadata(t *testing.T) {
	meta := "Metadata-Version: 2.1\r\nName: grpcio\r\nVersion: 1.71.2\r\nSummary: HTTP/2-based RPC framework\r\n\r\nName: not-the-name\nVersion: 0\n"
	if n, v := ParseMetadata([]byte(meta)); n != "grpcio" || v != "1.71.2" {
		t.Errorf("ParseMetadata = %q %q, want grpcio 1.71.2", n, v)
	}
	if n, v := distFromDirName("numpy-1.24.2-py3.11.egg-info"); n != "numpy" || v != "1.24.2" {
		t.Errorf("distFromDirName = %q %q, want numpy 1.24.2", n, v)
	}
}

func TestSiteDir(t *testing.T) {
	for _, tc := range []struct{ in, site, rel string }{
		{"/venv/lib/python3.12/site-packages/grpc/_cython/x.so", "/venv/lib/python3.12/site-packages", "grpc/_cython/x.so"},
		{"/usr/lib/python3/dist-packages/numpy/core/m.so", "/usr/lib/python3/dist-packages", "numpy/core/m.so"},
		{"/usr/lib/python3.11/ctypes/__init__.py", "", ""},
	} {
		site, rel, ok := SiteDir(tc.in)
		if site != tc.site || rel != tc.rel || ok != (tc.site != "") {
			t.Errorf("SiteDir(%q) = %q %q %v, want %q %q", tc.in, site, rel, ok, tc.site, tc.rel)
		}
	}
}

func TestPathSpellings(t *testing.T) {
	for in, want := range map[string][]string{
		"/usr/lib/x86_64-linux-gnu/libc.so.6": {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"},
		"/lib64/ld-linux-x86-64.so.2":         {"/lib64/ld-linux-x86-64.so.2", "/usr/lib64/ld-linux-x86-64.so.2"},
		"/usr/local/bin/python3.12":           {"/usr/local/bin/python3.12"},
	} {
		if got := pathSpellings(in); !reflect.DeepEqual(got, want) {
			t.Errorf("pathSpellings(%q) = %q, want %q", in, got, want)
		}
	}
}

// writeFiles makes files under root.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLookupUnderRoot: a container's filesystem with a dpkg database and a virtualenv.
func TestLookupUnderRoot(t *testing.T) {
	root := t.TempDir()
	site := "/app/venv/lib/python3.12/site-packages"
	writeFiles(t, root, map[string]string{
		"var/lib/dpkg/status":                                    statusSample,
		"var/lib/dpkg/info/libc6:amd64.list":                     "/.\n/lib/x86_64-linux-gnu/libc.so.6\n",
		"var/lib/dpkg/info/python3-numpy.list":                   "/usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so\n",
		site[1:] + "/grpcio-1.71.2.dist-info/RECORD":             "grpc/_cython/cygrpc.cpython-312-x86_64-linux-gnu.so,sha256=x,1\n",
		site[1:] + "/grpcio-1.71.2.dist-info/METADATA":           "Metadata-Version: 2.1\nName: grpcio\nVersion: 1.71.2\n",
		site[1:] + "/ddtrace-2.9.0.egg-info/installed-files.txt": "../ddtrace/profiling/_threading.so\n",
		site[1:] + "/ddtrace-2.9.0.egg-info/PKG-INFO":            "Name: ddtrace\nVersion: 2.9.0\n",
	})
	f := New(root)
	for _, tc := range []struct {
		path string
		want Owner
	}{
		{"/usr/lib/x86_64-linux-gnu/libc.so.6", Owner{"libc6", "2.36-9+deb12u4", SourceDpkg, "/var/lib/dpkg/info/libc6:amd64.list"}},
		{"/usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so", Owner{"python3-numpy", "1:1.24.2-1+deb12u1", SourceDpkg, "/var/lib/dpkg/info/python3-numpy.list"}},
		{site + "/grpc/_cython/cygrpc.cpython-312-x86_64-linux-gnu.so", Owner{"grpcio", "1.71.2", SourcePythonDist, site + "/grpcio-1.71.2.dist-info/RECORD"}},
		{site + "/ddtrace/profiling/_threading.so", Owner{"ddtrace", "2.9.0", SourcePythonDist, site + "/ddtrace-2.9.0.egg-info/installed-files.txt"}},
	} {
		got, err := f.Lookup(tc.path)
		if err != nil || got != tc.want {
			t.Errorf("Lookup(%s) = %+v, %v\nwant %+v", tc.path, got, err, tc.want)
		}
	}
	if _, err := f.Lookup(site + "/unlisted/x.so"); !errors.Is(err, ErrNotOwned) {
		t.Errorf("an unlisted file: %v, want ErrNotOwned", err)
	}
	if _, err := New(t.TempDir()).Lookup("/usr/bin/true"); !errors.Is(err, ErrNotOwned) || !strings.Contains(err.Error(), "dpkg database") {
		t.Errorf("a root without a dpkg database: %v, want ErrNotOwned saying why", err)
	}
}

// TestLookupThisMachine asks this machine's dpkg database about numpy's extension and
// pyenv's site-packages about pip, and compares with dpkg-query and the dist-info.
func TestLookupThisMachine(t *testing.T) {
	const so = "/usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so"
	ver, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "python3-numpy").Output()
	if err != nil {
		t.Fatalf("python3-numpy is needed (scripts/deps.sh installs it): %v", err)
	}
	f := New("")
	got, err := f.Lookup(so)
	want := Owner{"python3-numpy", string(ver), SourceDpkg, "/var/lib/dpkg/info/python3-numpy.list"}
	if err != nil || got != want {
		t.Errorf("Lookup(%s) = %+v, %v; want %+v", so, got, err, want)
	}
	site := "/root/.pyenv/versions/3.12.1/lib/python3.12/site-packages"
	infos, _ := filepath.Glob(site + "/pip-*.dist-info")
	if len(infos) != 1 {
		t.Fatalf("pyenv 3.12.1's pip: %q, want one dist-info", infos)
	}
	pipVer := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(infos[0]), "pip-"), ".dist-info")
	got, err = f.Lookup(site + "/pip/__init__.py")
	want = Owner{"pip", pipVer, SourcePythonDist, infos[0] + "/RECORD"}
	if err != nil || got != want {
		t.Errorf("pip: %+v, %v; want %+v", got, err, want)
	}
}

func TestPick(t *testing.T) {
	py := func(file string) Frame { return Frame{Python: true, File: file, Function: "f"} }
	for _, tc := range []struct {
		name   string
		frames []Frame
		want   int
	}{
		{"libc then program", []Frame{{Module: "/usr/lib/x86_64-linux-gnu/libc.so.6", Function: "strlen"}, {Module: "/opt/app/app", Function: "main"}}, 1},
		{"C++ runtime", []Frame{{Module: "/lib/libstdc++.so.6.0.30", Function: "std::terminate()"}, {Module: "/opt/x", Function: "crasher::level1(int)"}}, 1},
		{"Go runtime", []Frame{{Module: "/opt/crash", Function: "runtime.sigpanic"}, {Module: "/opt/crash", Function: "<signal handler called>"}, {Module: "/opt/crash", Function: "main.crash"}}, 2},
		{"Rust std", []Frame{{Module: "/opt/panic", Function: "core::panicking::panic_bounds_check"}, {Module: "/opt/panic", Function: "<core::x as y>::z"}, {Module: "/opt/panic", Function: "panic::pick"}}, 2},
		{"pc outside modules", []Frame{{Function: ""}, {Module: "/opt/w", Function: "main"}}, 1},
		{"static libc", []Frame{{Module: "/opt/static", Function: "raise", CLibrary: true}, {Module: "/opt/static", Function: "sigusr2"}}, 1},
		{"ctypes into a script", []Frame{
			{Module: "/usr/lib/x86_64-linux-gnu/libc.so.6"}, {Module: "/usr/bin/python3.11", Function: "PyBytes_FromString"},
			{Module: "/usr/lib/x86_64-linux-gnu/libffi.so.8.1.2", Function: "ffi_call_unix64"},
			{Module: "/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so", Function: "_ctypes_callproc"},
			{Module: "/usr/bin/python3.11", Function: "_PyEval_EvalFrameDefault"},
			py("/usr/lib/python3.11/ctypes/__init__.py"), py("<frozen runpy>"), py("/tmp/crash.py")}, 7},
		{"numpy", []Frame{{Module: "/usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so"}}, 0},
		{"pyenv interpreter", []Frame{{Module: "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0"}, {Module: "/root/.pyenv/versions/3.12.1/bin/python3.12"},
			py("/root/.pyenv/versions/3.12.1/lib/python3.12/site-packages/pip/x.py")}, 2},
		{"all runtime", []Frame{{Module: "/lib/x86_64-linux-gnu/libc.so.6"}, {Module: "/usr/bin/python3"}}, -1},
	} {
		if got := Pick(tc.frames); got != tc.want {
			t.Errorf("%s: Pick = %d, want %d", tc.name, got, tc.want)
		}
	}
}
