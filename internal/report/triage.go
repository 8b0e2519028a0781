package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// TriageSchemaVersion is the "schema" field of `coredig triage --format json`.
const TriageSchemaVersion = "coredig-triage/1"

// Triage is many crashes grouped by signature (doc/json-schema.md, "coredig-triage/1").
type Triage struct {
	Schema string `json:"schema"`
	// Groups are ordered by count, largest first, then by signature.
	Groups []TriageGroup `json:"groups"`
	// Errors are the files that could not be read as crashes, each with its reason.
	Errors []TriageError `json:"errors"`
}

// TriageGroup is the crashes that share one signature.
type TriageGroup struct {
	Signature string   `json:"signature"`
	Class     string   `json:"class"`
	Frames    []string `json:"frames"`
	Count     int      `json:"count"`
	// Cores are the files of the group, in the order they were given.
	Cores []string `json:"cores"`
	// Executables are the distinct programs that crashed so.
	Executables []string `json:"executables"`
	// First and Last are the earliest and latest crash times (RFC 3339), from
	// systemd-coredump's or apport's metadata, else the file's modification time.
	First string `json:"first,omitempty"`
	Last  string `json:"last,omitempty"`
	// Example is one core of the group, to open with `coredig CORE`.
	Example string `json:"example"`
	// Culprit is the example's diagnosis.culprit, as its report gave it.
	Culprit json.RawMessage `json:"culprit,omitempty"`
	// Known is set when --known lists the signature; Note is what it says about it.
	Known bool   `json:"known"`
	Note  string `json:"note,omitempty"`
}

// TriageError is a file that is not a crash coredig can read, and why.
type TriageError struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// TriageJSON writes the triage as indented JSON.
func TriageJSON(w io.Writer, t *Triage) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(t)
}

// TriageText writes the triage as a table (or markdown): one row per group, then the
// errors.
func TriageText(w io.Writer, t *Triage, markdown bool) error {
	var b strings.Builder
	if markdown {
		b.WriteString("## Crash groups\n\n")
		b.WriteString("| count | signature | executables | first | last | example | culprit | known |\n")
		b.WriteString("| ---: | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, g := range t.Groups {
			fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s | %s | %s | %s |\n", g.Count, mdCell(g.Signature),
				mdCell(strings.Join(g.Executables, ", ")), orDash(g.First), orDash(g.Last), mdCell(g.Example),
				mdCell(triageCulpritText(g.Culprit)), mdCell(knownText(g)))
		}
		if len(t.Errors) > 0 {
			b.WriteString("\n## Not analysed\n\n| file | reason |\n| --- | --- |\n")
			for _, e := range t.Errors {
				fmt.Fprintf(&b, "| %s | %s |\n", mdCell(e.Path), mdCell(e.Reason))
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "COUNT\tSIGNATURE\tEXECUTABLES\tFIRST\tLAST\tKNOWN\n")
	for _, g := range t.Groups {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", g.Count, g.Signature, orDash(strings.Join(g.Executables, ", ")),
			orDash(g.First), orDash(g.Last), knownText(g))
	}
	tw.Flush()
	for _, g := range t.Groups {
		fmt.Fprintf(&b, "\n%s\n  example  %s\n", g.Signature, g.Example)
		if c := triageCulpritText(g.Culprit); c != "" {
			fmt.Fprintf(&b, "  culprit  %s\n", c)
		}
	}
	if len(t.Errors) > 0 {
		fmt.Fprintf(&b, "\nNot analysed (%d):\n", len(t.Errors))
		for _, e := range t.Errors {
			fmt.Fprintf(&b, "  %s: %s\n", e.Path, e.Reason)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func knownText(g TriageGroup) string {
	switch {
	case !g.Known:
		return "new"
	case g.Note != "":
		return g.Note
	}
	return "known"
}

// triageCulpritText renders a diagnosis.culprit object in one line: "package version
// module (source) at frame" from whichever of those fields it has, or its JSON.
func triageCulpritText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		return string(raw)
	}
	var parts []string
	for _, k := range []string{"package", "version", "module"} {
		if s, ok := c[k].(string); ok && s != "" {
			parts = append(parts, s)
		}
	}
	if s, ok := c["source"].(string); ok && s != "" {
		parts = append(parts, "("+s+")")
	}
	if s, ok := c["frame"].(string); ok && s != "" {
		parts = append(parts, "at "+s)
	}
	if len(parts) == 0 {
		return string(raw)
	}
	return strings.Join(parts, " ")
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
