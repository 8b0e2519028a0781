// Command peers runs coredig and its peers (eu-stack, gdb, …) on the same core in one
// run, alternating between them, and prints the median wall time and peak RSS of each
// and the ratios to the first command. It is what the bench/*.sh scripts call.
//
// Usage:
//
//	go run ./bench/peers -n 5 -- 'coredig summary CORE' -- 'eu-stack --core CORE' …
//
// Each command is run through "sh -c" with stdout discarded; a command that is not
// installed is reported and left out, so the table says what was measured. With -cpu
// the table also gives the median CPU time (user+sys of the command and of every process
// it waited for) and its ratio: on a machine shared with other work the wall time says
// as much about the neighbours as about the command.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

type result struct {
	cmd    string
	times  []time.Duration
	rss    []int64 // KiB
	cpu    []time.Duration
	failed string
}

func main() {
	n := flag.Int("n", 5, "runs per command")
	cpu := flag.Bool("cpu", false, "also print the median CPU time (user+sys, waited-for children included)")
	flag.Parse()
	var cmds []string
	for _, a := range flag.Args() {
		if a != "--" && strings.TrimSpace(a) != "" {
			cmds = append(cmds, a)
		}
	}
	if len(cmds) == 0 {
		fmt.Fprintln(os.Stderr, "usage: peers [-n N] -- 'cmd1' -- 'cmd2' ...")
		os.Exit(2)
	}
	res := make([]*result, len(cmds))
	for i, c := range cmds {
		res[i] = &result{cmd: c}
		bin := strings.Fields(c)[0]
		if _, err := exec.LookPath(bin); err != nil {
			res[i].failed = "not installed: " + bin
		}
	}
	// Warm the page cache once, then alternate so that drift hits every command alike.
	for round := -1; round < *n; round++ {
		for _, r := range res {
			if r.failed != "" {
				continue
			}
			cmd := exec.Command("sh", "-c", r.cmd)
			cmd.Stdout = nil
			var stderr strings.Builder
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			d := time.Since(start)
			if err != nil {
				if _, ok := err.(*exec.ExitError); !ok || cmd.ProcessState.ExitCode() > 1 {
					r.failed = fmt.Sprintf("failed: %v: %s", err, firstLine(stderr.String()))
					continue
				}
			}
			if round < 0 {
				continue
			}
			r.times = append(r.times, d)
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				r.rss = append(r.rss, ru.Maxrss)
				r.cpu = append(r.cpu, time.Duration(ru.Utime.Nano()+ru.Stime.Nano()))
			}
		}
	}
	base := res[0]
	if *cpu {
		fmt.Printf("%-60s %12s %12s %10s %12s %10s\n", "command", "median", "peak RSS", "ratio", "cpu", "cpu ratio")
	} else {
		fmt.Printf("%-60s %12s %12s %10s\n", "command", "median", "peak RSS", "ratio")
	}
	for _, r := range res {
		if r.failed != "" {
			fmt.Printf("%-60s %s\n", trim(r.cmd), r.failed)
			continue
		}
		med := median(r.times)
		ratio, cpuRatio := "-", "-"
		if r != base && base.failed == "" {
			ratio = fmt.Sprintf("%.2fx", float64(med)/float64(median(base.times)))
			cpuRatio = fmt.Sprintf("%.2fx", float64(median(r.cpu))/float64(median(base.cpu)))
		}
		fmt.Printf("%-60s %12s %9.1f MB %10s", trim(r.cmd), med.Round(time.Millisecond/10), float64(maxOf(r.rss))/1024, ratio)
		if *cpu {
			fmt.Printf(" %12s %10s", median(r.cpu).Round(time.Millisecond/10), cpuRatio)
		}
		fmt.Println()
	}
	fmt.Printf("(%d runs each after one warm-up; ratio = median / median of the first command; peak RSS is the maximum over runs)\n", *n)
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func maxOf(v []int64) int64 {
	var m int64
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func trim(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
