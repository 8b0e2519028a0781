//go:build linux

package signature_test

import (
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/coredig/coredig/internal/analysis"
	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

func TestMain(m *testing.M) { os.Exit(testcore.Main(m)) }

// catalogueSignatures is the signature of every catalogue crasher: the same bug on two
// architectures, with and without PIE, at -O0 and -O2, is one signature.
var catalogueSignatures = map[string]string{
	"deref-x86_64-pie":            "null_pointer_dereference @ deref < main",
	"deref-x86_64-nopie":          "null_pointer_dereference @ deref < main",
	"deref-x86_64-o2-nofp":        "null_pointer_dereference @ deref < main",
	"deref-aarch64-pie":           "null_pointer_dereference @ deref < main",
	"sighandler-aarch64":          "null_pointer_dereference @ on_usr1 < send_usr1 < main",
	"abort-aarch64":               "abort @ do_abort < main",
	"static-aarch64":              "null_pointer_dereference @ read_field < main",
	"wildcall-aarch64":            "execute_non_executable @ call_it < main",
	"abort-x86_64":                "abort @ do_abort < main",
	"assert-x86_64":               "assertion_failed: x == N @ check_value < main",
	"killme-quit-x86_64":          "killed_by_signal: SIGQUIT in killme",
	"killme-segv-x86_64":          "killed_by_signal: SIGSEGV in killme",
	"threads20-x86_64":            "null_pointer_dereference @ crash_main < main",
	"recurse-x86_64":              "stack_overflow @ recurse",
	"sighandler-x86_64":           "null_pointer_dereference @ on_usr1 < send_usr1 < main",
	"rseqclobber-x86_64":          "corrupted_rseq_area @ nap < main",
	"rseqclobber-handler-x86_64":  "corrupted_rseq_area @ main",
	"sse-misaligned-x86_64":       "misaligned_access @ _mm_store_ps < store_vec < main",
	"sse-misaligned-stack-x86_64": "misaligned_access @ __printf < call_misaligned < main",
	"throw-x86_64-o2":             "uncaught_exception: std::runtime_error @ crasher::level3 < crasher::level2 < crasher::level1",
	"static-x86_64":               "null_pointer_dereference @ read_field < main",
	"divzero-x86_64":              "divide_by_zero @ divide < main",
	"trap-x86_64":                 "trap @ do_trap < main",
	"wildcall-x86_64":             "execute_non_executable @ call_it < main",
	"rodata-x86_64":               "write_to_readonly @ shout < main",
	"heapcorrupt-x86_64":          "heap_corruption: free(): double free detected in tcache N @ release < main",
	"gocrash-x86_64":              "go_panic: nil pointer dereference @ main.readField < main.main",
	"gocrash-aarch64":             "go_panic: nil pointer dereference @ main.readField < main.main",
	"rustpanic-x86_64":            "rust_panic: index out of bounds @ panic::pick < panic::main < main",
	"threads6-py3.12.1":           "null_pointer_dereference @ ctypes.string_at < threads6.crash_now < threads6.main",
	"abort-py3.12.1":              "python_os_abort @ abort.do_abort < abort.main < abort.<module>",
	"atexit_crash-py3.12.1":       "null_pointer_dereference @ ctypes.string_at < atexit_crash.on_exit",
	"finalize_crash-py3.12.1":     "null_pointer_dereference @ finalize_crash.Boom.__del__",
}

// rebuildFlags are other compiler flags for each C and C++ crasher: the same bug built
// another way must keep its signature. Where GCC's -O2 turns the crasher's last call
// into a jump (a sibling call: send_usr1's raise, release's free), the caller leaves no
// return address; DWARF call-site information names it again, as in gdb's backtrace.
var rebuildFlags = map[string][]string{
	"deref-x86_64-pie":            {"-O2", "-g"},
	"deref-x86_64-nopie":          {"-O2", "-g", "-fno-pie", "-no-pie"},
	"deref-x86_64-o2-nofp":        {"-O0", "-g", "-fno-omit-frame-pointer"},
	"deref-aarch64-pie":           {"-O2", "-g"},
	"sighandler-aarch64":          {"-O1", "-g"},
	"abort-aarch64":               {"-O2", "-g"},
	"static-aarch64":              {"-O2", "-g", "-static"},
	"wildcall-aarch64":            {"-O2", "-g"},
	"abort-x86_64":                {"-O2", "-g"},
	"assert-x86_64":               {"-O2", "-g"},
	"killme-quit-x86_64":          {"-O2", "-g"},
	"killme-segv-x86_64":          {"-O2", "-g"},
	"threads20-x86_64":            {"-O2", "-g"},
	"recurse-x86_64":              {"-O2", "-g"},
	"sighandler-x86_64":           {"-O2", "-g"}, // send_usr1's raise is a jump
	"rseqclobber-x86_64":          {"-O2", "-g"},
	"rseqclobber-handler-x86_64":  {"-O2", "-g"},
	"sse-misaligned-x86_64":       {"-O2", "-g"},
	"sse-misaligned-stack-x86_64": {"-O2", "-g"},
	"throw-x86_64-o2":             {"-O0", "-g"},
	"static-x86_64":               {"-O2", "-g", "-static"},
	"divzero-x86_64":              {"-O2", "-g"},
	"trap-x86_64":                 {"-O2", "-g"},
	"wildcall-x86_64":             {"-O2", "-g"},
	"rodata-x86_64":               {"-O2", "-g"},
	"heapcorrupt-x86_64":          {"-O2", "-g"}, // release's free is a jump
}

// runs are the variants of one crasher: the catalogue spec, two more runs of it (new
// builds, new processes, new ASLR), and a rebuild with other flags for C and C++.
func runs(s testcore.Spec) []testcore.Spec {
	out := []testcore.Spec{s}
	for _, suffix := range []string{"-run2", "-run3"} {
		r := s
		r.Name += suffix
		out = append(out, r)
	}
	if flags, ok := rebuildFlags[s.Name]; ok {
		r := s
		r.Name += "-rebuild"
		r.CFlags = flags
		out = append(out, r)
	}
	return out
}

func signatureOf(t *testing.T, tc *testcore.Core) string {
	t.Helper()
	c, err := core.Open(tc.Path)
	if err != nil {
		t.Fatalf("%s: %v", tc.Spec.Name, err)
	}
	defer c.Close()
	opts := symbolize.Options{ExePath: tc.Exe}
	if tc.Sysroot != "" {
		opts.Finder = symbolize.PathFinder{Sysroot: tc.Sysroot}
	}
	a := analysis.New(c, opts)
	defer a.Close()
	r := a.Full(analysis.FullOptions{CrashedOnly: true})
	if r.Signature == nil {
		t.Fatalf("%s: no signature", tc.Spec.Name)
	}
	return r.Signature.Text
}

// TestCatalogueStability makes every catalogue crasher three times and rebuilds the C
// and C++ ones with other flags: each variant must give the crasher's signature, and the
// catalogue's signatures must partition it as expected (the same bug on two
// architectures or with other flags is one group; different bugs are different groups).
func TestCatalogueStability(t *testing.T) {
	cat := testcore.Catalog()
	if len(cat) != len(catalogueSignatures) {
		t.Errorf("the catalogue has %d crashers, the test expects %d: give each new crasher its signature", len(cat), len(catalogueSignatures))
	}
	var mu sync.Mutex
	groups := map[string][]string{} // signature -> spec names, over every variant
	t.Run("variants", func(t *testing.T) {
		for _, s := range cat {
			want, ok := catalogueSignatures[s.Name]
			if !ok {
				t.Errorf("%s: no expected signature", s.Name)
				continue
			}
			for _, v := range runs(s) {
				t.Run(v.Name, func(t *testing.T) {
					t.Parallel()
					got := signatureOf(t, testcore.Make(t, v))
					if got != want {
						t.Errorf("signature %q, want %q", got, want)
					}
					mu.Lock()
					groups[got] = append(groups[got], s.Name)
					mu.Unlock()
				})
			}
		}
	})
	wantGroups := map[string][]string{
		"null_pointer_dereference @ deref < main":                                                      {"deref-aarch64-pie", "deref-x86_64-nopie", "deref-x86_64-o2-nofp", "deref-x86_64-pie"},
		"null_pointer_dereference @ on_usr1 < send_usr1 < main":                                        {"sighandler-aarch64", "sighandler-x86_64"},
		"abort @ do_abort < main":                                                                      {"abort-aarch64", "abort-x86_64"},
		"null_pointer_dereference @ read_field < main":                                                 {"static-aarch64", "static-x86_64"},
		"execute_non_executable @ call_it < main":                                                      {"wildcall-aarch64", "wildcall-x86_64"},
		"assertion_failed: x == N @ check_value < main":                                                {"assert-x86_64"},
		"killed_by_signal: SIGQUIT in killme":                                                          {"killme-quit-x86_64"},
		"killed_by_signal: SIGSEGV in killme":                                                          {"killme-segv-x86_64"},
		"null_pointer_dereference @ crash_main < main":                                                 {"threads20-x86_64"},
		"stack_overflow @ recurse":                                                                     {"recurse-x86_64"},
		"uncaught_exception: std::runtime_error @ crasher::level3 < crasher::level2 < crasher::level1": {"throw-x86_64-o2"},
		"corrupted_rseq_area @ nap < main":                                                             {"rseqclobber-x86_64"},
		"corrupted_rseq_area @ main":                                                                   {"rseqclobber-handler-x86_64"},
		"misaligned_access @ _mm_store_ps < store_vec < main":                                          {"sse-misaligned-x86_64"},
		"misaligned_access @ __printf < call_misaligned < main":                                        {"sse-misaligned-stack-x86_64"},
		"divide_by_zero @ divide < main":                                                               {"divzero-x86_64"},
		"trap @ do_trap < main":                                                                        {"trap-x86_64"},
		"write_to_readonly @ shout < main":                                                             {"rodata-x86_64"},
		"heap_corruption: free(): double free detected in tcache N @ release < main":                   {"heapcorrupt-x86_64"},
		"go_panic: nil pointer dereference @ main.readField < main.main":                               {"gocrash-aarch64", "gocrash-x86_64"},
		"rust_panic: index out of bounds @ panic::pick < panic::main < main":                           {"rustpanic-x86_64"},
		"null_pointer_dereference @ ctypes.string_at < threads6.crash_now < threads6.main":             {"threads6-py3.12.1"},
		"python_os_abort @ abort.do_abort < abort.main < abort.<module>":                               {"abort-py3.12.1"},
		"null_pointer_dereference @ ctypes.string_at < atexit_crash.on_exit":                           {"atexit_crash-py3.12.1"},
		"null_pointer_dereference @ finalize_crash.Boom.__del__":                                       {"finalize_crash-py3.12.1"},
	}
	got := map[string]string{}
	for sig, names := range groups {
		got[sig] = strings.Join(uniqueSorted(names), " ")
	}
	want := map[string]string{}
	for sig, names := range wantGroups {
		want[sig] = strings.Join(uniqueSorted(names), " ")
	}
	for sig, w := range want {
		if got[sig] != w {
			t.Errorf("group %q = [%s], want [%s]", sig, got[sig], w)
		}
	}
	for sig, g := range got {
		if _, ok := want[sig]; !ok {
			t.Errorf("unexpected group %q = [%s]", sig, g)
		}
	}
}

func uniqueSorted(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}
