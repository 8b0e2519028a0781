package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coredig/coredig/internal/analysis"
	"github.com/coredig/coredig/internal/disasm"
	"github.com/coredig/coredig/internal/diskcache"
	"github.com/coredig/coredig/internal/owner"
	"github.com/coredig/coredig/internal/report"
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
	exe           string
	target        string
	native        bool
	thread        int
	full          bool

	// keep, when set, receives each report rendered (coredig run writes it elsewhere too).
	keep func(*report.Report, report.View)
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
		Version:       version + " (JSON schema " + report.SchemaVersion + ")",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			// The cache bound is read where the cache is written; a value that does not
			// parse is the caller's mistake, said before any work.
			if _, err := diskcache.Max(); err != nil {
				return usageError{err}
			}
			return nil
		},
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
	pf.StringVar(&st.exe, "exe", "", "the main program's file (the same as the EXE argument)")
	pf.BoolVar(&st.allowMismatch, "allow-mismatch", false, "use files whose build-id differs from the core's, marking their frames unverified")
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newGcore(st), newRun(st))

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
		c.Flags().BoolVar(&st.full, "full", false, "print every thread (and goroutine) instead of grouping identical stacks, and every crashing-thread frame's variables")
	})
	root.AddCommand(&cobra.Command{
		Use:   "disasm CORE [ADDR|SYMBOL]",
		Short: "Disassemble around the crashing instruction, at an address, or a whole function",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				st.target = args[1]
			}
			return st.render(args[:1], report.ViewDisasm)
		},
	})
	root.AddCommand(newTriageCmd(st))
	add("py CORE [EXE]", "Python view: interpreter state and every Python thread's stack", report.ViewPython, func(c *cobra.Command) {
		threadFlag(c)
		c.Flags().BoolVar(&st.native, "native", false, "also print every thread's native stack with its Python frames merged in")
		c.Flags().BoolVar(&st.full, "full", false, "print every thread (and goroutine) instead of grouping identical stacks, and every crashing-thread frame's variables")
	})
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
	t, err := st.open(args[0])
	if err != nil {
		return err
	}
	defer t.close()
	src, c := t.src, t.core
	syntax, err := parseSyntax(st.syntax)
	if err != nil {
		return err
	}
	rules, err := st.rules()
	if err != nil {
		return err
	}
	opts := st.symbolizeOptions()
	if len(args) > 1 {
		if st.exe != "" {
			return usageError{fmt.Errorf("the executable is given twice: %s and --exe %s", args[1], st.exe)}
		}
		st.exe = args[1]
	}
	if st.exe != "" {
		if _, err := os.Stat(st.exe); err != nil {
			return fmt.Errorf("executable %s: %w", st.exe, err)
		}
		opts.ExePath = st.exe
	}
	a := analysis.New(c, opts)
	defer a.Close()
	var r *report.Report
	switch {
	case view == report.ViewSummary || view == report.ViewRegs || view == report.ViewMaps || view == report.ViewModules:
		r = a.Summary()
	case view == report.ViewPython && !st.native:
		// Python stacks alone need no native unwinding.
		r = a.Summary()
		r.Python = a.Python()
	case view == report.ViewDisasm && st.target != "":
		r = a.Summary()
		d, err := st.disassemble(a, syntax)
		if err != nil {
			return err
		}
		r.Disassembly = d
	default:
		fo := analysis.FullOptions{MaxDepth: st.maxDepth, Diagnose: analysis.DiagnoseOptions{Rules: rules, Syntax: syntax, Owners: owner.New(st.sysroot)}}
		r = a.Full(fo)
		if view == report.ViewDisasm && r.Diagnosis != nil {
			// Around the faulting instruction (the original one behind a re-raise).
			d := &report.Disassembly{Syntax: st.syntax}
			for _, l := range r.Diagnosis.Disassembly {
				if l.Current {
					d.Address = l.PC
				}
			}
			d.Name = a.Frame(0, uint64(d.Address), false, "").Function
			d.Lines = a.Disassemble(uint64(d.Address), 24, 12, syntax)
			r.Disassembly = d
		}
	}
	r.Generator = "coredig " + version
	r.Core.Compression, r.Core.Access, r.Core.Metadata = src.Compression, src.Method, src.Xattrs
	r.Warnings = append(r.Warnings, t.warnings...)
	if src.Incomplete != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the compressed core is damaged; only the part before the damage is analysed: %v", src.Incomplete))
	}
	if st.thread != 0 && !hasThread(r, st.thread) {
		return usageError{fmt.Errorf("no thread %d in the core", st.thread)}
	}
	if err := st.write(st.stdout, r, view, st.format, color); err != nil {
		return err
	}
	if st.keep != nil {
		st.keep(r, view)
	}
	if r.Core.Truncated || len(c.Threads) == 0 || src.Incomplete != nil || r.Process.ArchLimit != nil {
		st.exit = exitWarnings
	}
	return nil
}

// write renders a report in a format.
func (st *state) write(w io.Writer, r *report.Report, view report.View, format string, color bool) error {
	if format == "json" {
		return report.JSON(w, r)
	}
	return report.Text(w, r, report.Options{View: view, Color: color, Markdown: format == "markdown", Thread: st.thread, Full: st.full})
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

// disassemble resolves the disasm target: a hex address (a window around it) or a
// function symbol (the whole function).
func (st *state) disassemble(a *analysis.Analysis, syntax disasm.Syntax) (*report.Disassembly, error) {
	if v, err := strconv.ParseUint(strings.TrimPrefix(st.target, "0x"), 16, 64); err == nil && strings.HasPrefix(st.target, "0x") {
		d := &report.Disassembly{Address: report.Hex(v), Syntax: st.syntax, Lines: a.Disassemble(v, 16, 16, syntax)}
		if f := a.Frame(0, v, false, ""); f.Function != "" {
			d.Name = f.Function + fmt.Sprintf("+%#x", uint64(*f.FunctionOffset))
		}
		return d, nil
	}
	addr, _, ok := a.Modules.FindSymbol(st.target)
	if !ok {
		return nil, usageError{fmt.Errorf("%q is neither a 0x-prefixed address nor a symbol of any module", st.target)}
	}
	s := a.Modules.Lookup(addr)
	size := s.FuncSize
	if size == 0 || s.FuncStart != addr {
		size = 64 // an object or a symbol without a size: show a little
	}
	return &report.Disassembly{Address: report.Hex(addr), Name: st.target, Syntax: st.syntax, Lines: a.DisassembleFunction(addr, size, syntax)}, nil
}
