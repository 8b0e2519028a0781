// Package debuginfod fetches executables and debug files by build-id from
// debuginfod servers, opt-in only.
//
// Scope: the two artifact requests of the debuginfod protocol,
// GET {server}/buildid/{hex}/executable and .../debuginfo (elfutils
// debuginfod(8), "WEBAPI"); servers from DEBUGINFOD_URLS (space-separated,
// as elfutils' client reads it) or given explicitly; a local cache at
// $XDG_CACHE_HOME/coredig/debuginfod/<build-id>/<kind>.
//
// Limits: each request has a connect timeout (default 2s) and a total
// timeout (default 10s); a download is bounded in size (default 1 GiB)
// and kept only when its own build-id note matches the one asked for. A
// server that fails to connect or times out once is skipped for the rest
// of the process (no retry storm over hundreds of modules), and a build-id
// a server does not have is not asked again in the same process. Source
// URLs, section downloads and the elfutils negative-cache files are not
// implemented.
package debuginfod

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coredig/coredig/internal/buildid"
)

// Kinds of artifact, as named in the debuginfod URL.
const (
	KindExecutable = "executable"
	KindDebugInfo  = "debuginfo"
)

// Defaults for Options.
const (
	DefaultConnectTimeout = 2 * time.Second
	DefaultTimeout        = 10 * time.Second
	DefaultMaxSize        = 1 << 30
)

// Options configure a Client; zero fields take the defaults.
type Options struct {
	// CacheDir holds downloaded files; "" means
	// $XDG_CACHE_HOME/coredig/debuginfod (or ~/.cache/...), falling back
	// to a directory under os.TempDir().
	CacheDir       string
	ConnectTimeout time.Duration
	// Timeout bounds one request from connect to the last byte.
	Timeout time.Duration
	// MaxSize bounds one download in bytes.
	MaxSize int64
}

// Client asks a list of debuginfod servers in order. Safe for concurrent
// use.
type Client struct {
	urls []string
	opts Options
	http *http.Client

	mu      sync.Mutex
	down    map[string]string // server -> why it is skipped
	missing map[string]bool   // server+" "+hex+" "+kind the server lacks
}

// New returns a client for the given server URLs.
func New(urls []string, opts Options) *Client {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.CacheDir == "" {
		opts.CacheDir = defaultCacheDir()
	}
	var clean []string
	for _, u := range urls {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			clean = append(clean, u)
		}
	}
	dialer := &net.Dialer{Timeout: opts.ConnectTimeout}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   opts.ConnectTimeout,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConnsPerHost:   2,
	}
	return &Client{
		urls:    clean,
		opts:    opts,
		http:    &http.Client{Transport: tr, Timeout: opts.Timeout},
		down:    map[string]string{},
		missing: map[string]bool{},
	}
}

// FromEnv returns a client for the servers in DEBUGINFOD_URLS, or nil when
// the variable is unset or empty (debuginfod is opt-in).
func FromEnv(opts Options) *Client {
	urls := strings.Fields(os.Getenv("DEBUGINFOD_URLS"))
	if len(urls) == 0 {
		return nil
	}
	return New(urls, opts)
}

// URLs returns the servers asked, in order.
func (c *Client) URLs() []string { return append([]string(nil), c.urls...) }

func defaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "coredig", "debuginfod")
	}
	return filepath.Join(os.TempDir(), "coredig-cache", "debuginfod")
}

// Fetch returns the local path of the artifact of the given kind
// (KindExecutable or KindDebugInfo) for buildID, from the cache or from
// the first server that has it, and the attempts made. It implements
// buildid.Fetcher.
func (c *Client) Fetch(id []byte, kind string) (string, []buildid.Attempt) {
	h := hex.EncodeToString(id)
	if len(id) == 0 || (kind != KindExecutable && kind != KindDebugInfo) {
		return "", []buildid.Attempt{{Source: buildid.SourceDebuginfod, Result: fmt.Sprintf("%s: build-id %q kind %q", buildid.ResultNotConfigured, h, kind)}}
	}
	var trail []buildid.Attempt
	cached := filepath.Join(c.opts.CacheDir, h, kind)
	if _, err := os.Stat(cached); err == nil {
		a := verify(cached, id)
		a.Result = "cache: " + a.Result
		trail = append(trail, a)
		if a.OK {
			return cached, trail
		}
		// A cached file that no longer verifies is removed and fetched again.
		os.Remove(cached)
	}
	if len(c.urls) == 0 {
		return "", append(trail, buildid.Attempt{Source: buildid.SourceDebuginfod, Result: buildid.ResultNotConfigured + ": no server URLs"})
	}
	for _, u := range c.urls {
		a, ok := c.fetchOne(u, h, id, kind, cached)
		trail = append(trail, a)
		if ok {
			return cached, trail
		}
	}
	return "", trail
}

func (c *Client) fetchOne(server, h string, id []byte, kind, dest string) (buildid.Attempt, bool) {
	url := server + "/buildid/" + h + "/" + kind
	a := buildid.Attempt{Path: url, Source: buildid.SourceDebuginfod}
	key := server + " " + h + " " + kind
	c.mu.Lock()
	why, isDown := c.down[server]
	miss := c.missing[key]
	c.mu.Unlock()
	if isDown {
		a.Result = "skipped: server failed earlier in this run: " + why
		return a, false
	}
	if miss {
		a.Result = buildid.ResultNotFound + " (server said so earlier in this run)"
		return a, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		a.Result = buildid.ResultUnreadable + ": " + err.Error()
		return a, false
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.markDown(server, err)
		why := err.Error()
		if isTimeout(err) {
			why = fmt.Sprintf("timed out after %v (%v)", c.opts.Timeout, err)
		}
		a.Result = buildid.ResultUnreadable + ": " + why + " (server skipped for the rest of this run)"
		return a, false
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		c.mu.Lock()
		c.missing[key] = true
		c.mu.Unlock()
		a.Result = buildid.ResultNotFound + ": HTTP 404"
		return a, false
	case resp.StatusCode != http.StatusOK:
		a.Result = fmt.Sprintf("%s: HTTP %s", buildid.ResultUnreadable, resp.Status)
		return a, false
	case resp.ContentLength > c.opts.MaxSize:
		a.Result = fmt.Sprintf("%s: %d bytes exceeds the %d-byte limit", buildid.ResultUnreadable, resp.ContentLength, c.opts.MaxSize)
		return a, false
	}
	tmp, err := c.download(resp.Body, dest)
	if err != nil {
		why := err.Error()
		if isTimeout(err) {
			c.markDown(server, err)
			why = fmt.Sprintf("timed out after %v (%v)", c.opts.Timeout, err)
		}
		a.Result = buildid.ResultUnreadable + ": " + why
		return a, false
	}
	v := verify(tmp, id)
	if !v.OK {
		os.Remove(tmp)
		a.Result = v.Result + " (download discarded)"
		return a, false
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.Remove(tmp)
		a.Result = buildid.ResultUnreadable + ": " + err.Error()
		return a, false
	}
	a.Result, a.OK = v.Result+" (downloaded to "+dest+")", true
	return a, true
}

func (c *Client) markDown(server string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.down[server]; !ok {
		c.down[server] = err.Error()
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// ErrTooLarge is returned (wrapped) when a download exceeds MaxSize.
var ErrTooLarge = errors.New("download exceeds the size limit")

// download copies body into a temporary file beside dest and returns its
// name; the caller renames or removes it.
func (c *Client) download(body io.Reader, dest string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(dest), ".download-*")
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(body, c.opts.MaxSize+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > c.opts.MaxSize {
		err = fmt.Errorf("%w (%d bytes)", ErrTooLarge, c.opts.MaxSize)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// verify checks that the file at p carries build-id id.
func verify(p string, id []byte) buildid.Attempt {
	a := buildid.Attempt{Path: p, Source: buildid.SourceDebuginfod}
	info, err := buildid.ReadFile(p)
	switch {
	case err != nil:
		a.Result = buildid.ResultUnreadable + ": " + err.Error()
		if errors.Is(err, buildid.ErrNotELF) {
			a.Result = buildid.ResultNotELF
		}
	case info.BuildID == nil:
		a.Result = buildid.ResultNoBuildID
	case !bytes.Equal(info.BuildID, id):
		a.Result = buildid.ResultWrongBuildID + ": " + hex.EncodeToString(info.BuildID)
	default:
		a.Result, a.OK = buildid.ResultMatch, true
	}
	return a
}
