package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/coredig/coredig/internal/capture"
)

func newGcore(st *state) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "gcore PID",
		Short: "Snapshot a running process, all threads, into an ELF core; it keeps running",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pid, err := strconv.Atoi(args[0])
			if err != nil || pid <= 0 {
				return usageError{fmt.Errorf("gcore: %q is not a process id", args[0])}
			}
			if out == "" {
				out = fmt.Sprintf("core.%d", pid)
			}
			s, err := capture.Attach(pid)
			if err != nil {
				return err
			}
			werr := s.WriteFile(out)
			derr := s.Detach()
			if werr != nil {
				return werr
			}
			if derr != nil {
				return fmt.Errorf("the core is written to %s, but letting process %d go failed: %w", out, pid, derr)
			}
			for _, w := range s.Warnings {
				fmt.Fprintf(st.stderr, "coredig: warning: %s\n", w)
			}
			fmt.Fprintf(st.stderr, "coredig: wrote %s (%d threads, %d bytes)\n", out, len(s.Process.Threads), s.Image.Size())
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "the core file to write (default core.PID)")
	return c
}
