package python

import "strings"

// MainScript returns the script a CPython command line runs ("python3 -X dev app.py
// arg" runs "app.py"), or "" when it runs none (-c, -m, an interactive session). The
// options that take a value (-X, -W, --check-hash-based-pycs) are skipped with their
// value, as Python/getopt.c and the usage text (Misc/python.man) define them.
func MainScript(args []string) string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-c" || a == "-m" || strings.HasPrefix(a, "-c") && !strings.HasPrefix(a, "--") || strings.HasPrefix(a, "-m") && !strings.HasPrefix(a, "--"):
			return ""
		case a == "-X" || a == "-W" || a == "--check-hash-based-pycs":
			i++
		case a == "-" || a == "--":
			if a == "--" && i+1 < len(args) {
				return args[i+1]
			}
			return ""
		case strings.HasPrefix(a, "-"):
			// Flags, possibly grouped ("-Bu") or with a value joined ("-Xdev").
		default:
			return a
		}
	}
	return ""
}
