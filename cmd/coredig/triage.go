package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/coredig/coredig/internal/analysis"
	"github.com/coredig/coredig/internal/owner"
	"github.com/coredig/coredig/internal/report"
	"github.com/coredig/coredig/internal/triage"
)

// triageFlags are the flags of `coredig triage`.
type triageFlags struct {
	known string
	jobs  int
}

func newTriageCmd(st *state) *cobra.Command {
	var tf triageFlags
	c := &cobra.Command{
		Use:   "triage PATH...",
		Short: "Group many crashes by signature: cores, compressed cores, folders, systemd-coredump and apport stores, coredig JSON reports",
		Long: `triage analyses every crash under the paths (folders recursively) and groups them by
signature: the same bug gets the same signature across runs, ASLR, machines and rebuilds.
Files that are not crashes are listed with the reason and do not stop the run.

--known FILE lists known signatures, one a line, optionally followed by a tab and a note
(an issue link). Exit status: 0 when every group is known (or no --known is given),
1 while any group is new under --known, 2 for bad usage.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return st.triage(args, tf)
		},
	}
	c.Flags().StringVar(&tf.known, "known", "", "file of known signatures: one a line, optionally a tab and a note")
	c.Flags().IntVar(&tf.jobs, "jobs", 0, "cores analysed at once (default GOMAXPROCS)")
	return c
}

func (st *state) triage(paths []string, tf triageFlags) error {
	switch st.format {
	case "text", "json", "markdown":
	default:
		return usageError{fmt.Errorf("--format must be text, json or markdown, not %q", st.format)}
	}
	if tf.jobs < 0 {
		return usageError{fmt.Errorf("--jobs must be positive, not %d", tf.jobs)}
	}
	opts := triage.Options{Workers: tf.jobs}
	if tf.known != "" {
		f, err := os.Open(tf.known)
		if err != nil {
			return usageError{fmt.Errorf("--known: %w", err)}
		}
		known, err := triage.ParseKnown(f)
		f.Close()
		if err != nil {
			return usageError{fmt.Errorf("--known %s: %w", tf.known, err)}
		}
		opts.Known = known
	}
	rules, err := st.rules()
	if err != nil {
		return err
	}
	if st.exe != "" {
		return usageError{fmt.Errorf("--exe names one core's program; triage reads many")}
	}
	opts.Symbolize = st.symbolizeOptions()
	// One owner.Finder for every core: the dpkg and Python metadata indexes are read once
	// for the whole run, under --sysroot as for a single report.
	opts.Full = analysis.FullOptions{MaxDepth: st.maxDepth,
		Diagnose: analysis.DiagnoseOptions{Rules: rules, Owners: owner.New(st.sysroot)}}
	t := triage.Run(paths, opts)
	switch st.format {
	case "json":
		err = report.TriageJSON(st.stdout, t)
	default:
		err = report.TriageText(st.stdout, t, st.format == "markdown")
	}
	if err != nil {
		return err
	}
	if tf.known != "" && triage.New(t) {
		st.exit = exitWarnings
	}
	return nil
}
