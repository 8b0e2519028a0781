package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coredig/coredig/internal/analysis"
	"github.com/coredig/coredig/internal/buildid"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/debuginfod"
	"github.com/coredig/coredig/internal/diagnose"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/input"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/symbolize"
)

// state carries flags and streams through one run.
type state struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	exit           int

	format        string
	color         string
	sysroot       string
	search        []string
	allowMismatch bool
	debuginfod    string
	maxDepth      int
	rulesFile     string
	syntax        string
	thread        int
	full          bool
}

func newRoot(st *state) *cobra.Command {
	root := &cobra.Command{
		Use:   "coredig CORE [EXE]",
		Short: "Explain a Linux core dump: signal, faulting instruction, stacks, modules",
		Long: `coredig explains a Linux core dump without gdb: the signal and what it means,
where it happened, every thread, the modules with their build-ids, and what the core is
missing. With no subcommand it prints the full report.

Exit status: 0 analysed, 1 analysed with warnings that matter (e.g. a truncated core),
2 bad usage or unreadable input.`,
		Args:          cobra.RangeArgs(1, 2),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return st.render(args, report.ViewFull)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&st.format, "format", "text", "output format: text, json or markdown")
	pf.StringVar(&st.color, "color", "auto", "color: auto, always or never")
	pf.StringVar(&st.sysroot, "sysroot", "", "resolve the core's file paths under this directory (an extracted container filesystem)")
	pf.StringArrayVar(&st.search, "search", nil, "directory to index by build-id for binaries and debug files (repeatable)")
	pf.StringVar(&st.debuginfod, "debuginfod", "", "debuginfod server URLs (space-separated) to fetch binaries and debug info by build-id; default $DEBUGINFOD_URLS, off when unset")
	pf.IntVar(&st.maxDepth, "max-depth", 1024, "maximum frames per thread")
	pf.StringVar(&st.rulesFile, "rules", "", "extra known-pattern rules (JSON, see doc/rules.md) added to the built-in ones")
	pf.StringVar(&st.syntax, "syntax", "att", "x86_64 disassembly syntax: att or intel")
	pf.BoolVar(&st.allowMismatch, "allow-mismatch", false, "use files whose build-id differs from the core's, marking their frames unverified")
	root.CompletionOptions.DisableDefaultCmd = true

	add := func(use, short string, view report.View, extra func(*cobra.Command)) {
		c := &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.RangeArgs(1, 2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return st.render(args, view)
			},
		}
		if extra != nil {
			extra(c)
		}
		root.AddCommand(c)
	}
	threadFlag := func(c *cobra.Command) {
		c.Flags().IntVar(&st.thread, "thread", 0, "only this thread (TID)")
	}
	add("summary CORE [EXE]", "Notes-only crash summary; works on any truncated core", report.ViewSummary, nil)
	add("regs CORE [EXE]", "Registers of every thread", report.ViewRegs, threadFlag)
	add("maps CORE [EXE]", "Memory mappings and how much of each the core holds", report.ViewMaps, nil)
	add("modules CORE [EXE]", "Modules, build-ids, and where their files and symbols came from", report.ViewModules, nil)
	add("bt CORE [EXE]", "Backtraces of all threads, identical stacks grouped", report.ViewBacktrace, func(c *cobra.Command) {
		threadFlag(c)
		c.Flags().BoolVar(&st.full, "full", false, "print every thread instead of grouping identical stacks")
	})
	add("py CORE [EXE]", "Python view: interpreter state and every Python thread's stack", report.ViewPython, threadFlag)
	return root
}

func (st *state) render(args []string, view report.View) error {
	switch st.format {
	case "text", "json", "markdown":
	default:
		return usageError{fmt.Errorf("--format must be text, json or markdown, not %q", st.format)}
	}
	color := false
	switch st.color {
	case "always":
		color = true
	case "never":
	case "auto":
		if f, ok := st.stdout.(*os.File); ok && os.Getenv("NO_COLOR") == "" {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				color = true
			}
		}
	default:
		return usageError{fmt.Errorf("--color must be auto, always or never, not %q", st.color)}
	}
	src, err := input.Open(args[0], input.Options{KeepPartial: true, Stdin: st.stdin})
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	defer src.Close()
	syntax, err := parseSyntax(st.syntax)
	if err != nil {
		return err
	}
	var rules []diagnose.Rule
	if st.rulesFile != "" {
		user, err := diagnose.LoadRules(st.rulesFile)
		if err != nil {
			return usageError{fmt.Errorf("--rules: %w", err)}
		}
		rules = append(diagnose.DefaultRules(), user...)
	}
	c, err := core.NewCore(src, src.Size(), args[0])
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	loc := &buildid.Locator{Sysroot: st.sysroot, Search: st.search}
	if st.debuginfod != "" {
		loc.Debuginfod = debuginfod.New(strings.Fields(st.debuginfod), debuginfod.Options{})
	} else if c := debuginfod.FromEnv(debuginfod.Options{}); c != nil {
		loc.Debuginfod = c
	}
	opts := symbolize.Options{Finder: analysis.LocatorFinder{L: loc}, AllowMismatch: st.allowMismatch}
	if len(args) > 1 {
		if _, err := os.Stat(args[1]); err != nil {
			return fmt.Errorf("executable %s: %w", args[1], err)
		}
		opts.ExePath = args[1]
	}
	a := analysis.New(c, opts)
	defer a.Close()
	var r *report.Report
	switch view {
	case report.ViewSummary, report.ViewRegs, report.ViewMaps, report.ViewModules:
		r = a.Summary()
	default:
		fo := analysis.FullOptions{MaxDepth: st.maxDepth, Diagnose: analysis.DiagnoseOptions{Rules: rules, Syntax: syntax}}
		r = a.Full(fo)
	}
	r.Core.Compression, r.Core.Access, r.Core.Metadata = src.Compression, src.Method, src.Xattrs
	if src.Incomplete != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the compressed core is damaged; only the part before the damage is analysed: %v", src.Incomplete))
	}
	if st.thread != 0 && !hasThread(r, st.thread) {
		return usageError{fmt.Errorf("no thread %d in the core", st.thread)}
	}
	switch st.format {
	case "json":
		err = report.JSON(st.stdout, r)
	default:
		err = report.Text(st.stdout, r, report.Options{View: view, Color: color, Markdown: st.format == "markdown", Thread: st.thread, Full: st.full})
	}
	if err != nil {
		return err
	}
	if r.Core.Truncated || len(c.Threads) == 0 || src.Incomplete != nil {
		st.exit = exitWarnings
	}
	return nil
}

func hasThread(r *report.Report, tid int) bool {
	for _, t := range r.Threads {
		if t.TID == tid {
			return true
		}
	}
	return false
}

func parseSyntax(s string) (disasm.Syntax, error) {
	switch s {
	case "att", "":
		return disasm.SyntaxATT, nil
	case "intel":
		return disasm.SyntaxIntel, nil
	}
	return 0, usageError{fmt.Errorf("--syntax must be att or intel, not %q", s)}
}
