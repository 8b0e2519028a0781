//go:build linux

package testcore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// build compiles s's program (if it needs compiling), crashes it and
// returns its core.
func build(s Spec) (*Core, error) {
	r, err := repoRoot()
	if err != nil {
		return nil, err
	}
	src := filepath.Join(r, "testdata", "src", s.Source)
	if _, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	// Refuse early when the kernel would not leave a core file here, before
	// spending time on a build.
	if _, err := readCoreSettings(); err != nil {
		return nil, err
	}
	base, err := root()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(base, s.Name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("making the spec directory: %w", err)
	}
	c := &Core{Spec: s, Source: src, Dir: dir}
	em, isEmulated := emulated[s.Arch]
	if isEmulated {
		c.Sysroot = em.Sysroot
	}
	stem := strings.TrimSuffix(s.Source, filepath.Ext(s.Source))
	switch ext := filepath.Ext(s.Source); ext {
	case ".c", ".cc":
		c.Exe = filepath.Join(dir, stem)
		cc := map[string]string{".c": "gcc", ".cc": "g++"}[ext]
		if isEmulated {
			cc = em.Triple + "-" + cc
		}
		flags := s.CFlags
		if flags == nil {
			flags = []string{"-O0", "-g"}
		}
		if s.Arch == ArchI386 {
			flags = append([]string{"-m32"}, flags...)
			inc, err := i386Includes(dir)
			if err != nil {
				return nil, err
			}
			flags = append([]string{"-idirafter", inc}, flags...)
		}
		args := append(append([]string{}, flags...), "-pthread", "-o", c.Exe, src)
		if err := runTool(dir, nil, cc, args...); err != nil {
			return nil, err
		}
	case ".go":
		c.Exe = filepath.Join(dir, stem)
		goarch := map[string]string{ArchX86_64: "amd64", ArchAArch64: "arm64", ArchI386: "386",
			ArchPPC64LE: "ppc64le", ArchS390X: "s390x", ArchARM: "arm", ArchRISCV64: "riscv64"}[s.Arch]
		env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch, "GOFLAGS=", "GO111MODULE=on"}
		args := append(append([]string{"build", "-o", c.Exe}, s.CFlags...), src)
		if err := runTool(dir, env, goTool(), args...); err != nil {
			return nil, err
		}
	case ".rs":
		if s.Arch != ArchX86_64 {
			return nil, fmt.Errorf("rust sources are built only for %s, not %s", ArchX86_64, s.Arch)
		}
		rustc, err := rustcPath()
		if err != nil {
			return nil, err
		}
		c.Exe = filepath.Join(dir, stem)
		flags := s.CFlags
		if flags == nil {
			flags = []string{"-g", "-C", "opt-level=0"}
		}
		args := append(append([]string{}, flags...), "-o", c.Exe, src)
		if err := runTool(dir, nil, rustc, args...); err != nil {
			return nil, err
		}
	case ".py":
		if s.Python == "" {
			return nil, fmt.Errorf("source %s needs Spec.Python (e.g. testcore.PyenvPython(\"3.12.1\"), or a Debian libpython such as I386LibPython311 for another architecture)", s.Source)
		}
		if s.Arch != ArchX86_64 {
			exe, root, err := buildForeignPython(dir, s.Arch, s.Python)
			if err != nil {
				return nil, err
			}
			c.Exe = exe
			if isEmulated {
				// qemu runs it with -L ROOT: "/" for Debian's multiarch libraries, at
				// the same paths as on the host, or the directory the packages were
				// unpacked into (see buildForeignPython).
				c.Sysroot = root
			}
			break
		}
		if _, err := os.Stat(s.Python); err != nil {
			return nil, fmt.Errorf("python interpreter: %w (pyenv CPythons are expected under /root/.pyenv/versions; set PYENV_ROOT if elsewhere)", err)
		}
		c.Exe = s.Python
	default:
		return nil, fmt.Errorf("source %s: unknown extension %q (want .c, .cc, .go, .rs or .py)", s.Source, ext)
	}
	if err := crash(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Debian's libpython3.11 of other architectures, installed through multiarch by
// scripts/deps.sh with its headers (libpython3.11:ARCH and libpython3.11-dev:ARCH).
// Debian's python3.11 executable exists only for the host's architecture, so such a
// .py spec names the library and testcore builds the interpreter around it: with gcc
// -m32 for i386 (run natively), with Debian's cross compiler for the others (run under
// qemu-user).
const (
	I386LibPython311    = "/usr/lib/i386-linux-gnu/libpython3.11.so.1.0"
	PPC64LELibPython311 = "/usr/lib/powerpc64le-linux-gnu/libpython3.11.so.1.0"
	ARMLibPython311     = "/usr/lib/arm-linux-gnueabihf/libpython3.11.so.1.0"
)

// S390XLibPython311 is bookworm's s390x libpython3.11, not installed but unpacked with
// its headers, its standard library and the s390x libraries it needs (libc6, zlib1g,
// libexpat1, libffi8, libgcc-s1) into ${XDG_CACHE_HOME:-$HOME/.cache}/coredig/
// python3.11-s390x by scripts/python-s390x.sh (which scripts/deps.sh runs): multiarch
// cannot install it, since bookworm-security has no s390x build of the version of the
// host's python3.11 and Multi-Arch: same requires that version. qemu-s390x is given
// that directory with -L.
var S390XLibPython311 = filepath.Join(userCache(), "coredig", "python3.11-s390x", "usr/lib/s390x-linux-gnu/libpython3.11.so.1.0")

// pythonMain is the whole interpreter: CPython's own main (Programs/python.c),
// calling Py_BytesMain from the shared libpython.
const pythonMain = `#include <Python.h>
int main(int argc, char **argv) { return Py_BytesMain(argc, argv); }
`

var libpythonVersion = regexp.MustCompile(`^libpython(3\.[0-9]+)\.so`)

// multiarchTriple is Debian's multiarch directory name of each architecture whose
// libpython testcore builds an interpreter for.
var multiarchTriple = map[string]string{
	ArchI386:    "i386-linux-gnu",
	ArchPPC64LE: "powerpc64le-linux-gnu",
	ArchS390X:   "s390x-linux-gnu",
	ArchARM:     "arm-linux-gnueabihf",
}

// debianArch is Debian's name of each of those architectures (for the hint to install
// the packages).
var debianArch = map[string]string{ArchI386: "i386", ArchPPC64LE: "ppc64el", ArchS390X: "s390x", ArchARM: "armhf"}

// buildForeignPython compiles the interpreter of another architecture into dir,
// linked to that architecture's libpython lib, and returns its path, dir/python3.X (so
// that it is named as the python executable it stands in for), and the root its
// libraries are under: lib is ROOT/usr/lib/TRIPLE/libpython3.X.so.1.0, ROOT "/" for
// Debian's multiarch packages, or the directory scripts/python-s390x.sh unpacked them
// into. The headers are Debian's multiarch ones under ROOT/usr/include:
// python3.X/pyconfig.h includes <TRIPLE/python3.X/pyconfig.h>, found through a
// directory holding only a link to ROOT/usr/include/TRIPLE (so that no other host
// header comes into the build). The interpreter finds its standard library under
// ROOT/usr/lib/python3.X (sys.prefix /usr, from the library's configured prefix),
// where Debian's libpython3.X-stdlib:ARCH puts the architecture's extension modules.
//
// i386 builds with gcc -m32 and runs natively. The others build with Debian's cross
// compiler (its sysroot's libc for crt files; libpython's own dependencies, libz and
// libexpat, from ROOT's multiarch directories through -rpath-link) and run under
// qemu-user with -L ROOT: the program interpreter (/lib64/ld64.so.2, /lib/ld64.so.1,
// /lib/ld-linux-armhf.so.3) and every library are then Debian's libc6:ARCH and its
// neighbours, of the versions the libpython was built with. The cross sysroot's
// ld.so (libc6-ARCH-cross) cannot serve: it is another build of glibc than the
// libc6:ARCH libc.so.6 that libpython's dependencies bring, and the two do not mix
// (ppc64le dies with "stack smashing detected").
func buildForeignPython(dir, arch, lib string) (exe, root string, err error) {
	m := libpythonVersion.FindStringSubmatch(filepath.Base(lib))
	if m == nil {
		return "", "", fmt.Errorf("%s python: %s is not a libpython3.X.so", arch, lib)
	}
	triple, ok := multiarchTriple[arch]
	if !ok {
		return "", "", fmt.Errorf("python sources run on %s, %s, %s, %s and %s, not %s", ArchX86_64, ArchI386, ArchPPC64LE, ArchS390X, ArchARM, arch)
	}
	libdir := filepath.Join("/usr/lib", triple)
	root, ok = strings.CutSuffix(filepath.Dir(lib), libdir)
	if !ok {
		return "", "", fmt.Errorf("%s python: %s is not in ROOT%s", arch, lib, libdir)
	}
	if root == "" {
		root = "/"
	}
	inc := filepath.Join(root, "usr/include/python"+m[1])
	hint := fmt.Sprintf("scripts/deps.sh installs libpython%s:%s and libpython%s-dev:%s through multiarch", m[1], debianArch[arch], m[1], debianArch[arch])
	if arch == ArchS390X {
		hint = "scripts/python-s390x.sh, which scripts/deps.sh runs, unpacks them"
	}
	for _, p := range []string{lib, filepath.Join(root, "usr/include", triple, "python"+m[1], "pyconfig.h")} {
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("%s python: %w (%s)", arch, err, hint)
		}
	}
	src := filepath.Join(dir, "python-main.c")
	if err := os.WriteFile(src, []byte(pythonMain), 0o644); err != nil {
		return "", "", err
	}
	exe = filepath.Join(dir, "python"+m[1])
	if arch == ArchI386 {
		shim, err := i386Includes(dir)
		if err != nil {
			return "", "", err
		}
		if err := runTool(dir, nil, "gcc", "-m32", "-idirafter", shim, "-I", inc, "-O0", "-g", "-pthread", "-o", exe, src, lib); err != nil {
			return "", "", err
		}
		return exe, root, nil
	}
	em := emulated[arch]
	shim := filepath.Join(dir, triple+"-include")
	if err := os.MkdirAll(shim, 0o755); err != nil {
		return "", "", err
	}
	if err := os.Symlink(filepath.Join(root, "usr/include", triple), filepath.Join(shim, triple)); err != nil && !os.IsExist(err) {
		return "", "", err
	}
	libdirs := filepath.Join(root, "usr/lib", triple) + ":" + filepath.Join(root, "lib", triple)
	if err := runTool(dir, nil, em.Triple+"-gcc", "-idirafter", shim, "-I", inc, "-O0", "-g", "-pthread", "-o", exe, src, lib, "-Wl,-rpath-link,"+libdirs); err != nil {
		return "", "", err
	}
	return exe, root, nil
}

// i386Includes makes dir/i386-include, the include directory gcc -m32 builds add.
// Without gcc-multilib (which would remove the aarch64 cross compiler) nothing puts
// the kernel's asm/ headers on -m32's path; x86's asm/unistd.h serves both widths (it
// picks unistd_32.h for __i386__), so a directory holding only a link to it is enough
// for <sys/syscall.h>.
func i386Includes(dir string) (string, error) {
	inc := filepath.Join(dir, "i386-include")
	if err := os.MkdirAll(inc, 0o755); err != nil {
		return "", err
	}
	if err := os.Symlink("/usr/include/x86_64-linux-gnu/asm", filepath.Join(inc, "asm")); err != nil && !os.IsExist(err) {
		return "", err
	}
	return inc, nil
}

// rustcPath finds rustc: on PATH, else rustup's ~/.cargo/bin/rustc.
func rustcPath() (string, error) {
	if p, err := exec.LookPath("rustc"); err == nil {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cargo", "bin", "rustc")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("rustc not found on PATH or in ~/.cargo/bin (scripts/deps.sh installs Debian's rustc)")
}

// goTool returns the go command: $GOROOT/bin/go when GOROOT is set (as it
// is under "go test"), else "go" from PATH.
func goTool() string {
	if g := os.Getenv("GOROOT"); g != "" {
		p := filepath.Join(g, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// runTool runs a build tool in dir and returns its output in the error when
// it fails.
func runTool(dir string, env []string, name string, args ...string) error {
	path, err := exec.LookPath(name)
	if err != nil {
		hint := ""
		switch name {
		case "aarch64-linux-gnu-gcc":
			hint = " (apt-get install gcc-aarch64-linux-gnu)"
		case "aarch64-linux-gnu-g++":
			hint = " (apt-get install g++-aarch64-linux-gnu)"
		case "gcc", "g++":
			hint = " (apt-get install " + name + ")"
		}
		return fmt.Errorf("build tool %s not found%s: %w", name, hint, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, limitString(out.String(), 8192))
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func limitString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n[... output cut]"
}
