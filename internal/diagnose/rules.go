package diagnose

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

//go:embed rules/rules.json
var embeddedRules []byte

// Rule is one known crash pattern.
type Rule struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	When        Condition `json:"match"`
	Explanation string    `json:"explanation"`
	References  []string  `json:"references"`
	// Source is where the rule came from: "embedded" or a file path.
	Source string `json:"-"`
}

// Condition is what a rule requires. Every field given must hold; within a list any
// element may match. Globs use '*' (any run of characters) and '?' (one character).
type Condition struct {
	Signals []string `json:"signals,omitempty"` // "SIGSEGV"
	Kinds   []string `json:"kinds,omitempty"`   // diagnosis kinds
	// Functions: some frame of the crashing stack (innermost 512) matches some glob.
	Functions []string `json:"functions,omitempty"`
	// Modules: some module path or its base name matches some glob.
	Modules []string `json:"modules,omitempty"`
	// PythonFinalizing requires the interpreter's finalizing state to be known and equal.
	PythonFinalizing *bool `json:"python_finalizing,omitempty"`
	// Evidence: each key's evidence value matches the glob.
	Evidence map[string]string `json:"evidence,omitempty"`
}

// RuleMatch is a rule that matched a crash.
type RuleMatch struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Explanation string   `json:"explanation"`
	References  []string `json:"references,omitempty"`
	Source      string   `json:"source,omitempty"`
}

// RuleError says which rule of which file is wrong.
type RuleError struct {
	Source string
	Index  int // position in the file's "rules" array, -1 for the file as a whole
	ID     string
	Err    error
}

func (e *RuleError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("rules %s: %v", e.Source, e.Err)
	}
	return fmt.Sprintf("rules %s: rule %d (%q): %v", e.Source, e.Index, e.ID, e.Err)
}

func (e *RuleError) Unwrap() error { return e.Err }

// Limits on a rules file.
const (
	MaxRulesFile = 1 << 20
	MaxRules     = 1000
	maxGlobs     = 256
	maxGlobLen   = 512
)

// The embedded rules, parsed once; the package tests assert embeddedErr is nil.
var embedded, embeddedErr = ParseRules(embeddedRules, "embedded")

// DefaultRules returns the rules embedded in the binary (a fresh copy of the slice).
func DefaultRules() []Rule {
	return append([]Rule(nil), embedded...)
}

// LoadRules reads a user rules file (the embedded format). Callers usually append the
// result to DefaultRules().
func LoadRules(path string) ([]Rule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &RuleError{Source: path, Index: -1, Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRulesFile+1))
	if err != nil {
		return nil, &RuleError{Source: path, Index: -1, Err: err}
	}
	if len(data) > MaxRulesFile {
		return nil, &RuleError{Source: path, Index: -1, Err: fmt.Errorf("larger than %d bytes", MaxRulesFile)}
	}
	return ParseRules(data, path)
}

// ErrBadRule is wrapped by every validation error.
var ErrBadRule = errors.New("invalid rule")

// ParseRules parses and validates a rules document: {"rules": [ {id, title, match,
// explanation, references}, ... ]}. Unknown fields are errors, so typos do not silently
// make a rule match everything.
func ParseRules(data []byte, source string) ([]Rule, error) {
	var doc struct {
		Rules []Rule `json:"rules"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, &RuleError{Source: source, Index: -1, Err: err}
	}
	if len(doc.Rules) > MaxRules {
		return nil, &RuleError{Source: source, Index: -1, Err: fmt.Errorf("%w: %d rules, at most %d", ErrBadRule, len(doc.Rules), MaxRules)}
	}
	seen := map[string]bool{}
	for i := range doc.Rules {
		r := &doc.Rules[i]
		r.Source = source
		bad := func(format string, args ...any) error {
			return &RuleError{Source: source, Index: i, ID: r.ID, Err: fmt.Errorf("%w: "+format, append([]any{ErrBadRule}, args...)...)}
		}
		if r.ID == "" {
			return nil, bad("no id")
		}
		if seen[r.ID] {
			return nil, bad("duplicate id")
		}
		seen[r.ID] = true
		if r.Title == "" || r.Explanation == "" {
			return nil, bad("title and explanation are required")
		}
		c := &r.When
		if len(c.Signals)+len(c.Kinds)+len(c.Functions)+len(c.Modules)+len(c.Evidence) == 0 && c.PythonFinalizing == nil {
			return nil, bad("empty match would match every crash")
		}
		for _, s := range c.Signals {
			if signalNumber(s) == 0 {
				return nil, bad("unknown signal %q", s)
			}
		}
		globs := append(append(append([]string{}, c.Functions...), c.Modules...), c.Kinds...)
		for _, v := range c.Evidence {
			globs = append(globs, v)
		}
		if len(globs) > maxGlobs {
			return nil, bad("%d patterns, at most %d", len(globs), maxGlobs)
		}
		for _, g := range globs {
			if g == "" || len(g) > maxGlobLen {
				return nil, bad("pattern %q is empty or longer than %d bytes", g, maxGlobLen)
			}
		}
	}
	return doc.Rules, nil
}

func signalNumber(name string) int {
	for n, s := range signalNames {
		if s == name {
			return n
		}
	}
	return 0
}

// Match returns the rules whose conditions hold for the facts and diagnosis.
func Match(rules []Rule, f *Facts, d *Diagnosis) []RuleMatch {
	var out []RuleMatch
	for i := range rules {
		if i >= MaxRules*4 {
			break
		}
		if rules[i].matches(f, d) {
			r := &rules[i]
			out = append(out, RuleMatch{ID: r.ID, Title: r.Title, Explanation: r.Explanation, References: append([]string(nil), r.References...), Source: r.Source})
		}
	}
	return out
}

// signo is the signal the diagnosis is about: the original one when re-raised.
func (r *Rule) matches(f *Facts, d *Diagnosis) bool {
	if f == nil || d == nil {
		return false
	}
	c := &r.When
	facts := f
	if f.Original != nil {
		if _, ok := d.Get("reraised_by"); ok {
			facts = f.Original
		}
	}
	if len(c.Signals) > 0 && !anyEqual(c.Signals, SignalName(facts.Signo)) {
		return false
	}
	if len(c.Kinds) > 0 && !anyGlob(c.Kinds, d.Kind) {
		return false
	}
	if len(c.Functions) > 0 {
		fns := facts.Functions
		if len(fns) == 0 {
			fns = f.Functions
		}
		ok := false
		for i, fn := range fns {
			if i >= 512 {
				break
			}
			if anyGlob(c.Functions, fn) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(c.Modules) > 0 {
		ok := false
		for i, m := range f.Modules {
			if i >= 4096 {
				break
			}
			base := m[strings.LastIndexByte(m, '/')+1:]
			if anyGlob(c.Modules, m) || anyGlob(c.Modules, base) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if c.PythonFinalizing != nil {
		pf := f.PythonFinalizing
		if facts.PythonFinalizing != nil {
			pf = facts.PythonFinalizing
		}
		if pf == nil || *pf != *c.PythonFinalizing {
			return false
		}
	}
	for k, g := range c.Evidence {
		v, ok := d.Get(k)
		if !ok || !glob(g, v) {
			return false
		}
	}
	return true
}

func anyEqual(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func anyGlob(list []string, s string) bool {
	for _, g := range list {
		if glob(g, s) {
			return true
		}
	}
	return false
}

// glob matches '*' (any run, including '/') and '?' (one byte); linear time.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextPx >= 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			nextSx++
			continue
		}
		return false
	}
	return true
}
