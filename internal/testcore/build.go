//go:build linux

package testcore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
			// Without gcc-multilib (which would remove the aarch64 cross compiler)
			// nothing puts the kernel's asm/ headers on -m32's path; x86's asm/unistd.h
			// serves both widths (it picks unistd_32.h for __i386__), so a directory
			// holding only a link to it is enough for <sys/syscall.h>.
			inc := filepath.Join(dir, "i386-include")
			if err := os.MkdirAll(inc, 0o755); err != nil {
				return nil, err
			}
			if err := os.Symlink("/usr/include/x86_64-linux-gnu/asm", filepath.Join(inc, "asm")); err != nil && !os.IsExist(err) {
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
			ArchPPC64LE: "ppc64le", ArchS390X: "s390x", ArchARM: "arm"}[s.Arch]
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
		if s.Arch != ArchX86_64 {
			return nil, fmt.Errorf("python sources run only on %s, not %s", ArchX86_64, s.Arch)
		}
		if s.Python == "" {
			return nil, fmt.Errorf("source %s needs Spec.Python (e.g. testcore.PyenvPython(\"3.12.1\"))", s.Source)
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
