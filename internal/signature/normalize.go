package signature

import (
	"path"
	"regexp"
	"strings"
)

// maxName bounds a normalized name; a longer one is cut (demangled C++ names of deeply
// nested templates run to kilobytes).
const maxName = 256

var (
	// GCC's clone suffixes on symbol names: foo.isra.0, foo.constprop.3, foo.part.1,
	// foo.cold, foo.cold.7, foo.lto_priv.0, and LLVM's foo.llvm.123456.
	cloneSuffix = regexp.MustCompile(`\.(isra|constprop|part|lto_priv|llvm|cold|localalias)(\.\d+)*$`)
	// The demangler's spelling of them: "foo(int) [clone .isra.0]".
	cloneBracket = regexp.MustCompile(`\s*\[clone [^\]]*\]`)
	// A Rust legacy-mangling hash: "::h0123456789abcdef".
	rustHash = regexp.MustCompile(`::h[0-9a-f]{16}$`)
)

// Normalize returns a function name without what varies between builds of the same
// code: parameter lists and return types, template arguments (collapsed to "<...>"),
// GCC and LLVM clone suffixes (.isra.N, .constprop.N, .part.N, .cold, [clone ...]), Rust
// hashes (::h0123456789abcdef) and glibc's __GI_ alias prefix. Go names
// ("main.(*T).M") and Rust closures ("{closure#0}") keep their own punctuation.
func Normalize(name string) string {
	name = strings.TrimSpace(name)
	name = cloneBracket.ReplaceAllString(name, "")
	for {
		n := cloneSuffix.ReplaceAllString(name, "")
		if n == name {
			break
		}
		name = n
	}
	name = rustHash.ReplaceAllString(name, "")
	name = strings.TrimPrefix(name, "__GI_")
	name = collapse(name)
	name = stripReturnType(name)
	if len(name) > maxName {
		name = name[:maxName]
	}
	return name
}

// collapse rewrites the top-level template argument lists to "<...>" and drops parameter
// lists: the one that ends the name (with any cv- and ref-qualifiers after it) and those
// of enclosing functions of a local entity ("f(int)::{lambda()#1}"). "operator()",
// "operator<" and their kin, and "(anonymous namespace)", are kept.
func collapse(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if op, ok := operatorAt(s, i); ok {
			b.WriteString(op)
			i += len(op)
			continue
		}
		switch c := s[i]; c {
		case '<':
			j := matching(s, i, '<', '>')
			if j < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString("<...>")
			i = j + 1
		case '(':
			if strings.HasPrefix(s[i:], "(anonymous namespace)") {
				b.WriteString("(anonymous namespace)")
				i += len("(anonymous namespace)")
				continue
			}
			j := matching(s, i, '(', ')')
			if j < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			rest := s[j+1:]
			switch {
			case strings.HasPrefix(rest, "::"):
				i = j + 1 // the parameters of an enclosing function
			case onlyQualifiers(rest):
				return b.String() // the parameter list that ends the name
			default:
				// Go's "main.(*T).M" and anything else: keep as written.
				b.WriteString(s[i : j+1])
				i = j + 1
			}
		case '{':
			j := matching(s, i, '{', '}')
			if j < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(s[i : j+1])
			i = j + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// operators are the C++ operator names that contain brackets, longest first.
var operators = []string{"operator<<=", "operator>>=", "operator<=>", "operator<<", "operator>>",
	"operator<=", "operator>=", "operator()", "operator[]", "operator->*", "operator->", "operator<", "operator>"}

func operatorAt(s string, i int) (string, bool) {
	if i > 0 && isIdent(s[i-1]) {
		return "", false
	}
	for _, op := range operators {
		if strings.HasPrefix(s[i:], op) {
			return op, true
		}
	}
	return "", false
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// matching returns the index of the bracket closing the one at i, or -1.
func matching(s string, i int, open, close byte) int {
	depth := 0
	for j := i; j < len(s); j++ {
		if op, ok := operatorAt(s, j); ok && j > i {
			j += len(op) - 1
			continue
		}
		switch s[j] {
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// onlyQualifiers reports whether what follows a parameter list is only qualifiers.
func onlyQualifiers(s string) bool {
	for _, f := range strings.Fields(s) {
		switch f {
		case "const", "volatile", "&", "&&", "noexcept":
		default:
			return false
		}
	}
	return true
}

// stripReturnType drops what precedes the name at the top level ("void ns::f<...>" ->
// "ns::f<...>"), keeping "operator new", conversion operators and "(anonymous namespace)".
func stripReturnType(s string) string {
	depth, cut := 0, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '(', '{', '[':
			depth++
		case '>', ')', '}', ']':
			depth--
		case ' ':
			if depth == 0 && !strings.HasSuffix(s[:i], "operator") {
				cut = i
			}
		}
	}
	if cut < 0 {
		return s
	}
	return s[cut+1:]
}

// PythonModule names the module of a Python source file: the dotted path below
// site-packages, dist-packages or the standard library's lib/pythonX.Y, else the file's
// stem; a package's __init__ is the package. "<frozen importlib._bootstrap>" is
// "importlib._bootstrap"; other pseudo-files ("<string>") stay as they are.
func PythonModule(file string) string {
	if strings.HasPrefix(file, "<frozen ") && strings.HasSuffix(file, ">") {
		return file[len("<frozen ") : len(file)-1]
	}
	if strings.HasPrefix(file, "<") {
		return file
	}
	file = strings.ReplaceAll(file, "\\", "/")
	rel := ""
	for _, marker := range []string{"/site-packages/", "/dist-packages/"} {
		if i := strings.LastIndex(file, marker); i >= 0 {
			rel = file[i+len(marker):]
			break
		}
	}
	if rel == "" {
		if m := stdlibDir.FindStringIndex(file); m != nil {
			rel = file[m[1]:]
		}
	}
	if rel == "" {
		rel = path.Base(file)
		if strings.TrimSuffix(rel, ".py") == "__init__" {
			rel = path.Base(path.Dir(file)) + "/__init__.py"
		}
	}
	rel = strings.TrimSuffix(strings.TrimSuffix(rel, ".py"), ".pyc")
	rel = strings.TrimSuffix(rel, "/__init__")
	return strings.ReplaceAll(rel, "/", ".")
}

var stdlibDir = regexp.MustCompile(`/lib/python\d+(\.\d+)?t?/`)

var (
	hexNumber = regexp.MustCompile(`0[xX][0-9a-fA-F]+`)
	decNumber = regexp.MustCompile(`\b\d+\b`)
	spaces    = regexp.MustCompile(`\s+`)
)

// maxMessage bounds a message kept in a class.
const maxMessage = 160

// Scrub takes what varies between runs out of a message: addresses become "0x?",
// numbers "N", runs of white space (tabs, newlines) one space.
func Scrub(msg string) string {
	msg = hexNumber.ReplaceAllString(msg, "0x?")
	msg = decNumber.ReplaceAllString(msg, "N")
	msg = strings.TrimSpace(spaces.ReplaceAllString(msg, " "))
	if len(msg) > maxMessage {
		msg = msg[:maxMessage]
	}
	return msg
}
