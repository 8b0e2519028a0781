package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/coredig/coredig/internal/capture"
	"github.com/coredig/coredig/internal/report"
)

// Exit statuses of `coredig run`, as timeout(1) and env(1) use them.
const (
	exitTimeout  = 124
	exitNotStart = 125
)

func newRun(st *state) *cobra.Command {
	var opts capture.RunOptions
	var reportFile string
	c := &cobra.Command{
		Use:   "run [flags] -- CMD [ARGS...]",
		Short: "Run CMD and every process it starts; any that dies of a core-dumping signal gets a core and a report",
		Long: `run runs CMD with coredig's stdin, stdout, stderr, environment and directory, and follows
every process it starts through ptrace (no root needed). A process about to die of a
core-dumping signal gets a core in the kernel's format in --core-dir (core.COMM.PID), and
after its death the report is printed on stderr (in --format) and to --report FILE.
With GITHUB_STEP_SUMMARY set, the markdown report is appended there and an ::error
annotation names the innermost frame with a source line in the working directory.

Exit status: CMD's own; 128+N when it died of signal N; 124 when --timeout expired; 125
when CMD could not be started.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch st.format {
			case "text", "json", "markdown":
			default:
				return usageError{fmt.Errorf("--format must be text, json or markdown, not %q", st.format)}
			}
			if opts.CoreDir == "" {
				opts.CoreDir = "coredig-cores"
			}
			sigs := make(chan os.Signal, 8)
			forward := []os.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGCONT}
			if !foreground() {
				// In a terminal's foreground group, ^C, ^\ and ^Z reach CMD from the
				// terminal already (and ^Z stops coredig too); anywhere else they are
				// forwarded, and once CMD has stopped coredig stops as well, as the job
				// its parent started. SIGSTOP cannot be caught: sent to coredig alone,
				// it stops coredig only.
				forward = append(forward, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTSTP)
				opts.Stopped = func() { syscall.Kill(os.Getpid(), syscall.SIGSTOP) }
			} else {
				signal.Ignore(syscall.SIGINT, syscall.SIGQUIT)
			}
			signal.Notify(sigs, forward...)
			defer signal.Stop(sigs)
			opts.Signals = sigs
			var reportOut io.WriteCloser
			if reportFile != "" {
				f, err := os.Create(reportFile)
				if err != nil {
					return fmt.Errorf("--report: %w", err)
				}
				defer f.Close()
				reportOut = f
			}
			opts.OnCore = func(c capture.Core) { st.reportCore(c, reportOut) }
			res, err := capture.Run(args, opts)
			var se *capture.StartError
			if errors.As(err, &se) {
				fmt.Fprintf(st.stderr, "coredig: %s: %v\n", args[0], se.Err)
				st.exit = exitNotStart
				return nil
			}
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(st.stderr, "coredig: warning: %s\n", w)
			}
			st.exit = res.Status
			if res.TimedOut {
				st.exit = exitTimeout
			}
			return nil
		},
	}
	f := c.Flags()
	f.SetInterspersed(false) // flags after CMD are CMD's
	f.StringVar(&opts.CoreDir, "core-dir", "coredig-cores", "directory for the cores (created when needed)")
	f.DurationVar(&opts.Timeout, "timeout", 0, "snapshot the whole tree, stop it and exit 124 after this long (0: never)")
	f.DurationVar(&opts.KillAfter, "kill-after", 10*time.Second, "after the timeout's SIGTERM, SIGKILL this much later")
	f.StringVar(&reportFile, "report", "", "also write the reports to this file")
	return c
}

// foreground reports whether coredig is in the foreground process group of its
// controlling terminal (/dev/tty: stdin may be redirected while ^C still comes from the
// terminal).
func foreground() bool {
	f, err := os.Open("/dev/tty")
	if err != nil {
		return false // no controlling terminal
	}
	defer f.Close()
	pgrp, err := tcgetpgrp(int(f.Fd()))
	return err == nil && pgrp == syscall.Getpgrp()
}

// reportCore prints the report of a core `run` wrote: on stderr, to the --report file,
// and for GitHub Actions to the step summary with an annotation.
func (st *state) reportCore(c capture.Core, reportOut io.Writer) {
	what := fmt.Sprintf("process %d (%s) died of signal %d", c.PID, c.Comm, c.Signal)
	if c.Snapshot {
		what = fmt.Sprintf("process %d (%s) was still running at the timeout", c.PID, c.Comm)
	}
	fmt.Fprintf(st.stderr, "coredig: %s; core written to %s\n", what, c.Path)
	sub := *st
	sub.stdout, sub.exit, sub.color = st.stderr, 0, "never"
	var kept *report.Report
	var view report.View
	sub.keep = func(r *report.Report, v report.View) { kept, view = r, v }
	if err := sub.render([]string{c.Path}, report.ViewFull); err != nil {
		fmt.Fprintf(st.stderr, "coredig: %s: %v\n", c.Path, err)
		return
	}
	if reportOut != nil {
		st.write(reportOut, kept, view, st.format, false)
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			st.write(f, kept, view, "markdown", false)
			f.Close()
		}
		if a := annotation(kept, what); a != "" {
			fmt.Fprintln(st.stdout, a)
		}
	}
}

// annotation is a GitHub Actions ::error line at the innermost frame of the crashed
// thread whose source file is inside the working directory, "" when there is none.
func annotation(r *report.Report, what string) string {
	wd, err := os.Getwd()
	if err != nil || r == nil {
		return ""
	}
	for _, t := range r.Threads {
		if !t.Crashed {
			continue
		}
		for _, f := range t.Frames {
			if f.File == "" || f.Line <= 0 {
				continue
			}
			abs := f.File
			if !filepath.IsAbs(abs) {
				abs = filepath.Join(wd, abs)
			}
			rel, err := filepath.Rel(wd, abs)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			if _, err := os.Stat(abs); err != nil {
				continue
			}
			msg := what
			if r.Diagnosis != nil && r.Diagnosis.Summary != "" {
				msg = r.Diagnosis.Summary
			}
			return fmt.Sprintf("::error file=%s,line=%d::%s in %s", rel, f.Line, escapeAnnotation(msg), f.Function)
		}
	}
	return ""
}

// escapeAnnotation escapes a workflow command's message (%, CR, LF).
func escapeAnnotation(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}
