package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/coredig/coredig/internal/arch"
)

// View selects what a text rendering shows.
type View int

const (
	ViewFull View = iota
	ViewSummary
	ViewRegs
	ViewMaps
	ViewModules
	ViewBacktrace
	ViewPython
	ViewDisasm
)

// Options control text rendering.
type Options struct {
	View     View
	Color    bool
	Markdown bool
	// Full prints every thread instead of grouping identical stacks.
	Full bool
	// Thread restricts per-thread output to one TID (0: all).
	Thread int
}

// JSON writes the report as indented JSON.
func JSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "p->x" reads as it is written
	return enc.Encode(r)
}

type printer struct {
	w   io.Writer
	o   Options
	err error
	// word is the width in hex digits of a register or pc of the report's architecture.
	word int
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) style(code, s string) string {
	if !p.o.Color || p.o.Markdown {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p *printer) heading(s string) {
	if p.o.Markdown {
		p.f("\n## %s\n\n", s)
		return
	}
	p.f("\n%s\n", p.style("1", s))
}

// fence opens or closes a fenced block in markdown, so aligned columns survive.
func (p *printer) fence() {
	if p.o.Markdown {
		p.f("```\n")
	}
}

// Text renders the report for people.
func Text(w io.Writer, r *Report, o Options) error {
	p := &printer{w: w, o: o, word: 16}
	if a := arch.ByName(r.Process.Arch); a != nil {
		p.word = 2 * a.PtrSize
	}
	switch o.View {
	case ViewRegs:
		p.regs(r)
	case ViewMaps:
		p.maps(r)
	case ViewModules:
		p.modules(r, true)
	case ViewBacktrace:
		if r.Signature != nil {
			p.f("Signature: %s\n\n", r.Signature.Text)
		}
		p.threads(r, allThreads)
		p.goroutines(r)
		p.warnings(r)
	case ViewDisasm:
		if d := r.Disassembly; d != nil {
			p.heading(fmt.Sprintf("Disassembly at %s %s", d.Address, d.Name))
			p.fence()
			p.disasm(d.Lines)
			p.fence()
		}
	case ViewPython:
		p.python(r)
		switch {
		case r.Python == nil && r.Process.ArchLimit != nil:
			p.f("Python not looked for: %s (%s cores are read from their notes only)\n", r.Process.ArchLimit.Reason, r.Process.Arch)
		case r.Python == nil:
			p.f("no CPython interpreter in this process\n")
		}
		if r.Groups != nil {
			p.threads(r, allThreads)
		}
	default:
		p.header(r)
		p.crash(r)
		p.diagnosis(r)
		p.crashingThread(r)
		if r.Groups == nil {
			p.python(r)
			p.threads(r, allThreads)
		} else {
			// The order of the product's report: the crashing thread's merged stack, the
			// interpreter, then the other threads.
			p.threads(r, crashedOnly)
			p.python(r)
			p.threads(r, othersOnly)
			p.goroutines(r)
		}
		p.modules(r, false)
		p.coverage(r)
		p.warnings(r)
	}
	return p.err
}

func (p *printer) header(r *Report) {
	if p.o.Markdown {
		p.f("# coredig: %s\n\n", filepath.Base(r.Core.Path))
	}
	pr := r.Process
	p.fence()
	exe := pr.Executable
	if exe == "" {
		exe = pr.Command
	}
	p.f("%-12s %s\n", "executable", orDash(exe))
	if len(pr.Args) > 0 {
		more := ""
		if pr.ArgsTruncated {
			more = " …(the kernel keeps 80 bytes)"
		}
		line := strings.Join(pr.Args, " ")
		if pr.ArgsSource == "stack" {
			line = shellJoin(pr.Args)
		}
		p.f("%-12s %s%s\n", "command", line, more)
	}
	var ids []string
	if pr.PID != nil {
		ids = append(ids, fmt.Sprintf("pid %d", *pr.PID))
	}
	if pr.PPID != nil {
		ids = append(ids, fmt.Sprintf("ppid %d", *pr.PPID))
	}
	if pr.UID != nil {
		ids = append(ids, fmt.Sprintf("uid %d", *pr.UID))
	}
	if pr.GID != nil {
		ids = append(ids, fmt.Sprintf("gid %d", *pr.GID))
	}
	p.f("%-12s %s\n", "process", orDash(strings.Join(ids, ", ")))
	if l := pr.ArchLimit; l != nil {
		p.f("%-12s %s, %s (%s: notes only)\n", "arch", pr.Arch, l.ByteOrder, l.Reason)
	} else {
		p.f("%-12s %s\n", "arch", pr.Arch)
	}
	c := r.Core
	state := "complete"
	if c.Truncated {
		state = p.style("31;1", fmt.Sprintf("TRUNCATED: %s of %s present (%.1f%%)", size(c.Size), size(c.ExpectedSize), 100*float64(c.Size)/float64(max(c.ExpectedSize, 1))))
	}
	extra := ""
	if c.Compression != "" && c.Compression != "none" {
		extra = fmt.Sprintf(", %s-compressed, %s", c.Compression, c.Access)
	}
	p.f("%-12s %s (%s, %s%s)\n", "core", c.Path, size(c.Size), state, extra)
	if len(c.Metadata) > 0 {
		keys := make([]string, 0, len(c.Metadata))
		for k := range c.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p.f("%-12s %s = %s\n", "coredump", k, c.Metadata[k])
		}
	}
	p.fence()
}

func (p *printer) crash(r *Report) {
	p.heading("Crash")
	p.fence()
	s := r.Signal
	if s == nil {
		p.f("no signal information in the core\n")
		if r.Signature != nil {
			p.f("%-12s %s\n", "signature", r.Signature.Text)
		}
		p.fence()
		return
	}
	line := fmt.Sprintf("%s (%d)", s.Name, s.Number)
	if s.Meaning != "" {
		line += ", " + s.Meaning
	}
	p.f("%-12s %s\n", "signal", p.style("31;1", line))
	if s.Source == "NT_SIGINFO" {
		code := fmt.Sprintf("%d", s.Code)
		if s.CodeName != "" {
			code = fmt.Sprintf("%s (%d)", s.CodeName, s.Code)
		}
		if s.CodeMeaning != "" {
			code += ": " + s.CodeMeaning
		}
		p.f("%-12s %s\n", "code", code)
	} else {
		p.f("%-12s unknown (the core has no NT_SIGINFO; the signal number is from NT_PRSTATUS)\n", "code")
	}
	if s.Address != nil {
		p.f("%-12s %s\n", "address", s.Address)
	}
	if s.SenderPID != nil {
		who := fmt.Sprintf("pid %d, uid %d", *s.SenderPID, *s.SenderUID)
		if s.SenderIsSelf != nil && *s.SenderIsSelf {
			who += " — the process itself (raise/abort, or a crash handler re-raising the signal)"
		} else {
			who += " — another process"
		}
		p.f("%-12s %s\n", "sent by", who)
	}
	if t := crashed(r); t != nil && len(t.Frames) > 0 {
		p.f("%-12s %s, thread %d\n", "at", frameText(t.Frames[0]), t.TID)
	}
	if r.Signature != nil {
		p.f("%-12s %s\n", "signature", r.Signature.Text)
	}
	p.fence()
}

func crashed(r *Report) *Thread {
	for i := range r.Threads {
		if r.Threads[i].Crashed {
			return &r.Threads[i]
		}
	}
	return nil
}

// frameText renders "function+0xoff (module +0xoffset)".
func frameText(f Frame) string {
	var b strings.Builder
	if f.Function != "" {
		b.WriteString(f.Function)
		if f.FunctionOffset != nil {
			fmt.Fprintf(&b, "+%#x", uint64(*f.FunctionOffset))
		}
	} else {
		b.WriteString("??")
	}
	if f.Module != "" {
		fmt.Fprintf(&b, " (%s", filepath.Base(f.Module))
		if f.ModuleOffset != nil {
			fmt.Fprintf(&b, " +%#x", uint64(*f.ModuleOffset))
		}
		b.WriteString(")")
	} else {
		b.WriteString(" (no module)")
	}
	if f.File != "" {
		fmt.Fprintf(&b, " %s:%d", f.File, f.Line)
	}
	if f.Unverified {
		b.WriteString(" [UNVERIFIED: build-id mismatch]")
	}
	return b.String()
}

func (p *printer) crashingThread(r *Report) {
	t := crashed(r)
	if t == nil {
		return
	}
	p.heading(fmt.Sprintf("Registers of the crashing thread %d", t.TID))
	p.fence()
	p.regTable(r, t)
	p.fence()
}

func (p *printer) regTable(r *Report, t *Thread) {
	names := regOrder(r.Process.Arch, t.Registers)
	wide := map[string]int{} // registers wider than a word (32-bit ARM's d0-d31)
	if a := arch.ByName(r.Process.Arch); a != nil {
		for _, x := range a.ExtraRegs {
			if 2*x.Size() > p.word {
				wide[x.Name] = 2 * x.Size()
			}
		}
	}
	for i, n := range names {
		sep := "  "
		if i%3 == 2 || i == len(names)-1 {
			sep = "\n"
		}
		w := p.word
		if wide[n] > w {
			w = wide[n]
		}
		p.f("%-8s 0x%0*x%s", n, w, uint64(t.Registers[n]), sep)
	}
}

// wideTable prints the registers wider than 64 bits, two to a line, each as wide as the
// register (the architecture's ExtraRegs say how wide).
func (p *printer) wideTable(r *Report, t *Thread) {
	if len(t.WideOrder) == 0 {
		return
	}
	width := map[string]int{}
	if a := arch.ByName(r.Process.Arch); a != nil {
		for _, x := range a.ExtraRegs {
			width[x.Name] = 2 * x.Size()
		}
	}
	for i, n := range t.WideOrder {
		sep := "  "
		if i%2 == 1 || i == len(t.WideOrder)-1 {
			sep = "\n"
		}
		v := strings.TrimPrefix(t.WideRegisters[n], "0x")
		if w := width[n]; len(v) < w {
			v = strings.Repeat("0", w-len(v)) + v
		}
		p.f("%-8s 0x%s%s", n, v, sep)
	}
}

// regOrder lists registers in the order people read them (arch.Arch.DisplayRegs), then
// any others by name.
func regOrder(archName string, regs map[string]Hex) []string {
	var order []string
	if a := arch.ByName(archName); a != nil {
		order = a.DisplayRegs
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range order {
		if _, ok := regs[n]; ok {
			out = append(out, n)
			seen[n] = true
		}
	}
	var rest []string
	for n := range regs {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func (p *printer) regs(r *Report) {
	for i := range r.Threads {
		t := &r.Threads[i]
		if p.o.Thread != 0 && t.TID != p.o.Thread {
			continue
		}
		mark := ""
		if t.Crashed {
			mark = " (crashed)"
		}
		p.heading(fmt.Sprintf("Thread %d%s", t.TID, mark))
		p.fence()
		p.regTable(r, t)
		p.wideTable(r, t)
		p.fence()
	}
}

// Which threads a stack listing prints.
type which int

const (
	allThreads which = iota
	crashedOnly
	othersOnly
)

// stack prints frames the way people read backtraces:
//
//	#0  0x00005575b5e1a280 deref+0xc (sample +0x1280) deref.c:66  [context]

func (p *printer) modules(r *Report, detail bool) {
	p.heading(fmt.Sprintf("Modules (%d)", len(r.Modules)))
	p.fence()
	for _, m := range r.Modules {
		id := m.BuildID
		if id == "" {
			id = "-"
		}
		name := m.Path
		if !detail {
			name = filepath.Base(m.Path)
		}
		status := m.Status
		if status != "verified" && status != "in_memory" {
			status = p.style("33", status)
		}
		p.f("0x%012x  %-40s %-19s %s\n", uint64(m.Base), id, status, name)
		if detail {
			if m.Bias != nil {
				p.f("%16s load bias %s, extent %s-%s, from %s\n", "", biasText(*m.Bias, m.End), m.Start, m.End, m.Source)
			}
			if m.File != "" && m.File != m.Path {
				p.f("%16s file %s\n", "", m.File)
			}
			if m.FileBuildID != "" && m.FileBuildID != m.BuildID {
				p.f("%16s file build-id %s\n", "", m.FileBuildID)
			}
			if m.SymbolSource != "" {
				p.f("%16s symbols from %s\n", "", m.SymbolSource)
			}
			if m.DebugFile != "" {
				p.f("%16s debug file %s\n", "", m.DebugFile)
			}
			for _, a := range m.Search {
				p.f("%16s searched %s (%s): %s\n", "", a.Path, a.What, a.Result)
			}
			for _, n := range m.Notes {
				p.f("%16s note: %s\n", "", n)
			}
		}
	}
	p.fence()
}

func (p *printer) maps(r *Report) {
	p.heading(fmt.Sprintf("Mappings (%d)", len(r.Mappings)))
	p.fence()
	p.f("%-14s %-14s %-4s %-10s %-22s %s\n", "start", "end", "perm", "offset", "in core", "name")
	for _, m := range r.Mappings {
		off := "-"
		if m.FileOffset != nil {
			off = m.FileOffset.String()
		}
		in := "not dumped"
		size := uint64(m.End - m.Start)
		switch {
		case m.Dumped == 0:
		case m.InCore == m.Dumped && m.Dumped == size:
			in = "all"
		case m.InCore == m.Dumped:
			in = fmt.Sprintf("%s of %s", sizeU(m.InCore), sizeU(size))
		default:
			in = p.style("31", fmt.Sprintf("%s of %s (truncated)", sizeU(m.InCore), sizeU(m.Dumped)))
		}
		p.f("0x%012x 0x%012x %-4s %-10s %-22s %s\n", uint64(m.Start), uint64(m.End), m.Perms, off, in, m.Name)
	}
	p.fence()
}

func (p *printer) coverage(r *Report) {
	cv := r.Coverage
	if cv == nil {
		return
	}
	p.heading("Coverage of the truncated core")
	p.fence()
	p.f("the file ends at offset %#x (%s of %s)\n", cv.FileEnds, size(r.Core.Size), size(r.Core.ExpectedSize))
	counts := map[string]int{}
	for _, s := range cv.Stacks {
		counts[s.State]++
	}
	p.f("thread stacks: %d complete, %d partial, %d lost", counts["complete"], counts["partial"], counts["lost"])
	if counts["unmapped"] > 0 {
		p.f(", %d with the stack pointer outside any mapping", counts["unmapped"])
	}
	p.f("\n")
	shown := 0
	for _, s := range cv.Stacks {
		if s.State == "complete" {
			continue
		}
		if shown == 10 && !p.o.Full {
			p.f("  … %d more (--format json lists every thread)\n", len(cv.Stacks)-counts["complete"]-shown)
			break
		}
		p.f("  thread %-8d %-8s %s of %s from sp %s\n", s.TID, s.State, sizeU(s.Present), sizeU(s.Bytes), s.SP)
		shown++
	}
	for _, m := range cv.Modules {
		p.f("data of %s: %s (%s of %s)\n", filepath.Base(m.Path), m.State, sizeU(m.Present), sizeU(m.Bytes))
	}
	p.fence()
}

func (p *printer) warnings(r *Report) {
	if len(r.Warnings) == 0 {
		return
	}
	p.heading(fmt.Sprintf("Warnings (%d)", len(r.Warnings)))
	for _, w := range r.Warnings {
		p.f("- %s\n", w)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func size(n int64) string { return sizeU(uint64(max(n, 0))) }

func sizeU(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func (p *printer) diagnosis(r *Report) {
	d := r.Diagnosis
	if d == nil {
		return
	}
	p.heading("Why")
	p.f("%s\n", p.style("1", d.Summary))
	p.fence()
	if o := d.Original; o != nil {
		line := fmt.Sprintf("%s (%d)", o.Name, o.Number)
		if o.CodeName != "" {
			line += " " + o.CodeName
		}
		if o.Address != nil {
			line += " at " + o.Address.String()
		}
		p.f("%-22s %s (from the %s)\n", "original signal", line, o.Source)
	}
	for _, k := range d.EvidenceOrder {
		switch k {
		case "signal", "code", "pc", "function":
			continue // already in the Crash section
		}
		p.f("%-22s %s\n", strings.ReplaceAll(k, "_", " "), d.Evidence[k])
	}
	if c := d.Culprit; c != nil {
		p.f("%-22s %s\n", "culprit", culpritText(c))
		p.f("%-22s %s\n", "culprit frame", c.Frame)
		if c.PythonCaller != "" {
			p.f("%-22s %s\n", "python caller", c.PythonCaller)
		}
	}
	p.fence()
	for _, m := range d.Rules {
		p.f("\nKnown pattern: %s [%s]\n%s\n", p.style("1", m.Title), m.ID, m.Explanation)
		for _, ref := range m.References {
			p.f("  see %s\n", ref)
		}
	}
	if len(d.Disassembly) > 0 {
		p.f("\n")
		p.fence()
		p.disasm(d.Disassembly)
		p.fence()
	}
}

// culpritText says who owns the culprit's code: "python3-numpy 1:1.24.2-1+deb12u1
// (dpkg) .../_multiarray_umath.cpython-311-x86_64-linux-gnu.so".
func culpritText(c *Culprit) string {
	var s string
	switch c.Source {
	case "program":
		s = "the program"
	case "unknown":
		s = "unknown owner"
	default:
		s = strings.TrimSpace(c.Package+" "+c.Version) + " (" + c.Source + ")"
	}
	if c.Module != "" {
		s += ": " + c.Module
	}
	if c.Runtime != "" {
		s += "; every frame is runtime code, the innermost is in " + c.Runtime
	}
	if c.Error != "" {
		s += " (" + c.Error + ")"
	}
	return s
}

func (p *printer) disasm(lines []DisasmLine) {
	for _, l := range lines {
		mark := "  "
		if l.Current {
			mark = "=>"
		}
		text := l.Text
		if l.Error != "" {
			text = "(" + l.Error + ")"
		}
		if l.Target != "" {
			text += " <" + l.Target + ">"
		}
		line := fmt.Sprintf("%s 0x%012x  %-24s %s", mark, uint64(l.PC), l.Bytes, text)
		if l.Current {
			line = p.style("31;1", line)
		}
		p.f("%s\n", line)
	}
}

// shellJoin joins exact arguments so that a shell would split them back the same way:
// an argument with spaces, quotes or control characters, or an empty one, is quoted.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	plain := s != "" && utf8.ValidString(s)
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r >= 0xa0 || strings.ContainsRune("_@%+=:,./-", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }) {
		// bash's $'...': every byte that is not plain printable ASCII as \xNN.
		var b strings.Builder
		b.WriteString("$'")
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\' || c == '\'':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c >= 0x7f:
				fmt.Fprintf(&b, "\\x%02x", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('\'')
		return b.String()
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// biasText shows a load bias. A module loaded below its link-time address (i386's vDSO,
// linked at 0xffffe000) has a negative bias, which JSON keeps as its 64-bit two's
// complement (pc - bias is right in 64-bit arithmetic); in a 32-bit process, where the
// module ends below 4 GiB, it is shown signed: -0x8807000, not 0xfffffffff77f9000.
func biasText(bias, end Hex) string {
	if int64(bias) < 0 && uint64(end) <= 1<<32 {
		return fmt.Sprintf("-%#x", -uint64(bias))
	}
	return bias.String()
}
