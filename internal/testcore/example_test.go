//go:build linux

package testcore_test

import (
	"testing"

	"github.com/coredig/coredig/internal/testcore"
)

// A test in another package makes (or reuses) a core and asserts facts the
// crasher's header comment promises. That package's TestMain should be
//
//	func TestMain(m *testing.M) { os.Exit(testcore.Main(m)) }
//
// so the process's cores are removed at the end.
func Example() {
	t := &testing.T{} // in a real test: the test's *testing.T
	c := testcore.Make(t, testcore.DerefPIE)
	_ = c.Path                                       // the core file
	_ = c.Exe                                        // the crashed binary
	_ = c.Line(t, "deref")                           // the line of "LINE: deref" in deref.c
	_ = testcore.PythonSpec("threads6.py", "3.8.18") // another interpreter
}
