// Command coredig explains a Linux core dump: what signal, which instruction, why, every
// thread's stack, and what the core is missing. See README.md for the reference.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is coredig's release; `coredig --version` prints it with the JSON schema.
const version = "0.1.0"

// Exit statuses.
const (
	exitOK       = 0 // analysed
	exitWarnings = 1 // analysed, with warnings that matter (e.g. truncated core)
	exitBad      = 2 // bad usage or unreadable input
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usageError marks errors that are the caller's mistake.
type usageError struct{ error }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	st := &state{stdin: stdin, stdout: stdout, stderr: stderr}
	cmd := newRoot(st)
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintf(stderr, "coredig: %s\n", oneLine(err.Error()))
		return exitBad
	}
	return st.exit
}

func oneLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
