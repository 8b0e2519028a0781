package debuginfod

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/buildid"
)

const (
	idA = "0123456789abcdef0123456789abcdef01234567"
	idB = "fedcba9876543210fedcba9876543210fedcba98"
	idC = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
)

// debugFile builds a small C program with build-id id and returns the
// path of its separate debug file (objcopy --only-keep-debug).
func debugFile(t *testing.T, dir, id string) string {
	t.Helper()
	src := filepath.Join(dir, "p.c")
	if err := os.WriteFile(src, []byte("int f(int x) { return x + 1; }\nint main(void) { return f(0); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "p-"+id)
	for _, args := range [][]string{
		{"gcc", "-g", "-Wl,--build-id=0x" + id, "-o", exe, src},
		{"objcopy", "--only-keep-debug", exe, exe + ".debug"},
	} {
		if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v (gcc and objcopy are needed to make the served debug file): %v\n%s", args, err, b)
		}
	}
	return exe + ".debug"
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// server serves files by URL path; anything else is 404. It counts requests.
func server(t *testing.T, files map[string]string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		p, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, p)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestFetchFoundAndCached(t *testing.T) {
	dir := t.TempDir()
	dbg := debugFile(t, dir, idA)
	srv, hits := server(t, map[string]string{"/buildid/" + idA + "/debuginfo": dbg})
	cache := filepath.Join(dir, "cache")
	c := New([]string{srv.URL + "/"}, Options{CacheDir: cache})

	got, trail := c.Fetch(mustHex(t, idA), KindDebugInfo)
	want := filepath.Join(cache, idA, "debuginfo")
	url := srv.URL + "/buildid/" + idA + "/debuginfo"
	wantTrail := []buildid.Attempt{{Path: url, Source: "debuginfod", Result: "build-id matches (downloaded to " + want + ")", OK: true}}
	if got != want || !reflect.DeepEqual(trail, wantTrail) {
		t.Fatalf("Fetch = %q %+v, want %q %+v", got, trail, want, wantTrail)
	}
	b1, _ := os.ReadFile(dbg)
	b2, _ := os.ReadFile(got)
	if string(b1) != string(b2) || len(b1) == 0 {
		t.Fatalf("cached file differs from the served one (%d vs %d bytes)", len(b2), len(b1))
	}

	// Second time: from the cache, no request.
	got, trail = New([]string{srv.URL}, Options{CacheDir: cache}).Fetch(mustHex(t, idA), KindDebugInfo)
	wantTrail = []buildid.Attempt{{Path: want, Source: "debuginfod", Result: "cache: build-id matches", OK: true}}
	if got != want || !reflect.DeepEqual(trail, wantTrail) || hits.Load() != 1 {
		t.Fatalf("cached Fetch = %q %+v (%d requests), want %q %+v (1 request)", got, trail, hits.Load(), want, wantTrail)
	}

	// The executable is not served: 404, remembered for this run.
	for i := 0; i < 2; i++ {
		got, trail = c.Fetch(mustHex(t, idA), KindExecutable)
		res := "not found: HTTP 404"
		if i == 1 {
			res = "not found (server said so earlier in this run)"
		}
		wantTrail = []buildid.Attempt{{Path: srv.URL + "/buildid/" + idA + "/executable", Source: "debuginfod", Result: res}}
		if got != "" || !reflect.DeepEqual(trail, wantTrail) {
			t.Fatalf("executable #%d: %q %+v, want \"\" %+v", i, got, trail, wantTrail)
		}
	}
	if hits.Load() != 2 {
		t.Errorf("%d requests, want 2", hits.Load())
	}

	// Through the Locator, as the analysis uses it.
	l := &buildid.Locator{DebugDirs: []string{filepath.Join(dir, "nodebug")}, Debuginfod: c}
	found, trail := l.FindDebug("", mustHex(t, idA), "", 0)
	if found != want || len(trail) != 2 || trail[1].Result != "cache: build-id matches" {
		t.Errorf("Locator.FindDebug = %q %+v, want %q via the debuginfod cache", found, trail, want)
	}
}

func TestFetchWrongBuildIDRejected(t *testing.T) {
	dir := t.TempDir()
	dbgB := debugFile(t, dir, idB)
	// The server answers the request for idC with idB's debug file.
	srv, _ := server(t, map[string]string{"/buildid/" + idC + "/debuginfo": dbgB})
	cache := filepath.Join(dir, "cache")
	c := New([]string{srv.URL}, Options{CacheDir: cache})
	got, trail := c.Fetch(mustHex(t, idC), KindDebugInfo)
	wantTrail := []buildid.Attempt{{Path: srv.URL + "/buildid/" + idC + "/debuginfo", Source: "debuginfod", Result: "wrong build-id: " + idB + " (download discarded)"}}
	if got != "" || !reflect.DeepEqual(trail, wantTrail) {
		t.Fatalf("Fetch = %q %+v, want \"\" %+v", got, trail, wantTrail)
	}
	if ents, _ := os.ReadDir(filepath.Join(cache, idC)); len(ents) != 0 {
		t.Errorf("cache keeps %d files after a rejected download, want 0", len(ents))
	}

	// Size limit.
	c = New([]string{srv.URL}, Options{CacheDir: cache, MaxSize: 100})
	got, trail = c.Fetch(mustHex(t, idC), KindDebugInfo)
	if got != "" || len(trail) != 1 || !strings.HasPrefix(trail[0].Result, "unreadable: ") || !strings.Contains(trail[0].Result, "exceeds the 100-byte limit") {
		t.Errorf("MaxSize 100: %q %+v, want a size-limit rejection", got, trail)
	}
}

func TestFetchServerStopped(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	const timeout = 3 * time.Second
	c := New([]string{url}, Options{CacheDir: t.TempDir(), Timeout: timeout, ConnectTimeout: time.Second})
	start := time.Now()
	got, trail := c.Fetch(mustHex(t, idA), KindDebugInfo)
	if el := time.Since(start); el > timeout {
		t.Errorf("first Fetch took %v, more than the %v timeout", el, timeout)
	}
	if got != "" || len(trail) != 1 || !strings.HasPrefix(trail[0].Result, "unreadable: ") || !strings.Contains(trail[0].Result, "connection refused") || !strings.HasSuffix(trail[0].Result, "(server skipped for the rest of this run)") {
		t.Fatalf("stopped server: %q %+v, want connection refused, skipped for the run", got, trail)
	}
	// The next module does not touch the network.
	start = time.Now()
	got, trail = c.Fetch(mustHex(t, idB), KindExecutable)
	if el := time.Since(start); el > timeout {
		t.Errorf("second Fetch took %v", el)
	}
	if got != "" || len(trail) != 1 || !strings.HasPrefix(trail[0].Result, "skipped: server failed earlier in this run: ") {
		t.Errorf("second Fetch: %q %+v, want skipped", got, trail)
	}
}

func TestFetchServerHangs(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	const timeout = time.Second
	c := New([]string{srv.URL}, Options{CacheDir: t.TempDir(), Timeout: timeout})
	start := time.Now()
	got, trail := c.Fetch(mustHex(t, idA), KindDebugInfo)
	el := time.Since(start)
	// A bound, not a performance assertion: the request must give up at the
	// configured timeout, plus scheduling slack on a loaded machine.
	if el > timeout+2*time.Second {
		t.Errorf("Fetch against a hanging server took %v, timeout is %v", el, timeout)
	}
	if got != "" || len(trail) != 1 || !strings.HasPrefix(trail[0].Result, "unreadable: timed out after 1s (") {
		t.Fatalf("hanging server: %q %+v, want a timeout", got, trail)
	}
	got, trail = c.Fetch(mustHex(t, idB), KindDebugInfo)
	if got != "" || len(trail) != 1 || !strings.HasPrefix(trail[0].Result, "skipped: server failed earlier in this run: ") {
		t.Errorf("after a timeout: %q %+v, want skipped", got, trail)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("DEBUGINFOD_URLS", "")
	if c := FromEnv(Options{}); c != nil {
		t.Errorf("FromEnv with empty DEBUGINFOD_URLS = %v, want nil", c.URLs())
	}
	t.Setenv("DEBUGINFOD_URLS", " http://a:8002  https://b.example/ ")
	c := FromEnv(Options{})
	if c == nil {
		t.Fatal("FromEnv with DEBUGINFOD_URLS set = nil")
	}
	if !reflect.DeepEqual(c.URLs(), []string{"http://a:8002", "https://b.example"}) {
		t.Errorf("FromEnv URLs = %v", c.URLs())
	}
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got := New(nil, Options{}).opts.CacheDir; got != "/x/cache/coredig/debuginfod" {
		t.Errorf("default cache dir %q, want /x/cache/coredig/debuginfod", got)
	}
}
