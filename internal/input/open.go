package input

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/coredig/coredig/internal/diskcache"
)

// DefaultMaxSize bounds the decompressed size of a core unless
// Options.MaxSize says otherwise.
const DefaultMaxSize = 64 << 30

// Options configure Open. The zero value is ready to use.
type Options struct {
	// CacheDir is where decompressed cores are kept; "" means
	// $XDG_CACHE_HOME/coredig (~/.cache/coredig), or a directory under
	// os.TempDir() when that cannot be created.
	CacheDir string
	// CacheMax bounds the cache directory's decompressed cores and sections
	// (internal/diskcache): after a new core is written there, the least recently used
	// entries are removed. 0 means diskcache.Max() (COREDIG_CACHE_MAX, else 8 GiB) for the
	// default directory, and no pruning of a CacheDir given without a CacheMax; -1 means
	// no pruning.
	CacheMax int64
	// MaxSize bounds the decompressed size in bytes; 0 means
	// DefaultMaxSize.
	MaxSize int64
	// KeepPartial, when a compressed stream is corrupt or cut short,
	// keeps the bytes decompressed before the fault (in a temporary file
	// removed by Close) and returns them with Source.Incomplete set,
	// instead of failing. A cut core is still a core.
	KeepPartial bool
	// Stdin replaces os.Stdin for the path "-" (tests).
	Stdin io.Reader
}

// Source is an opened core: random access to its (decompressed) bytes,
// and how they were obtained.
type Source struct {
	// Path is the path given to Open ("-" for stdin).
	Path string
	// Compression is None, Zstd, LZ4, XZ or Gzip, detected by content.
	Compression string
	// CachePath is the decompressed copy read from, or "" when the file
	// is read directly.
	CachePath string
	// Method says how the bytes are read: "direct", "decompressed to
	// cache FILE", "reused cache FILE", or for stdin and partial streams
	// "... to temporary FILE (removed on close)".
	Method string
	// InputSize is the size of the file given (compressed size), or the
	// number of bytes read from stdin.
	InputSize int64
	// Elapsed is the time spent decompressing or copying; 0 when direct
	// or reused.
	Elapsed time.Duration
	// Incomplete is non-nil when Options.KeepPartial kept the prefix of a
	// corrupt stream; it is the *CorruptError that ended it.
	Incomplete error
	// Xattrs holds the systemd-coredump extended attributes of the file
	// (user.coredump.pid as "pid", ...); nil when there are none or the
	// path is "-". XattrsErr says why they could not be read.
	Xattrs    map[string]string
	XattrsErr error

	f      *os.File
	size   int64
	remove bool
}

// ReadAt reads from the decompressed core.
func (s *Source) ReadAt(p []byte, off int64) (int, error) { return s.f.ReadAt(p, off) }

// Size is the size of the decompressed core.
func (s *Source) Size() int64 { return s.size }

// Close closes the file and removes temporary copies.
func (s *Source) Close() error {
	err := s.f.Close()
	if s.remove {
		if rerr := os.Remove(s.f.Name()); err == nil {
			err = rerr
		}
	}
	return err
}

// CorruptError reports a compressed stream that could not be decoded.
type CorruptError struct {
	Format string // Zstd, LZ4, XZ or Gzip
	// InOffset is how many compressed bytes had been consumed when the
	// decoder failed; decoders read ahead, so the fault lies at or
	// before it.
	InOffset int64
	// OutOffset is how many decompressed bytes were produced before it.
	OutOffset int64
	Err       error
}

func (e *CorruptError) Error() string {
	what := "corrupt"
	if errors.Is(e.Err, io.ErrUnexpectedEOF) {
		what = "cut short"
	}
	return fmt.Sprintf("input: %s stream %s near compressed offset %d (after %d decompressed bytes): %v", e.Format, what, e.InOffset, e.OutOffset, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// LimitError reports decompressed output beyond a limit.
type LimitError struct {
	What  string // "decompressed size (Options.MaxSize)" or "free space in DIR"
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("input: decompressed core exceeds the limit on %s: %d bytes", e.What, e.Limit)
}

const (
	keyPrefixLen = 1 << 20  // bytes hashed for the cache key
	copyBuf      = 1 << 20  // decompression copy buffer
	zeroBlock    = 64 << 10 // all-zero blocks of this size become holes
	diskReserve  = 512 << 20
	cacheSuffix  = ".core"
	keyVersion   = "coredig-input-v1"
)

// Open opens the core at path ("-" for standard input). Plain files are
// read directly and never whole. Compressed files are decompressed once
// into the cache directory, under a name derived from their first MiB,
// size and modification time, so a second run reuses the copy. Standard
// input is decompressed or copied into a temporary file.
func Open(path string, opts Options) (*Source, error) {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if path == "-" {
		return openStdin(opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("input: %s is not a regular file (use - for a stream)", path)
	}
	src := &Source{Path: path, InputSize: st.Size()}
	src.Xattrs, src.XattrsErr = CoredumpXattrs(path)
	format, err := Detect(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	src.Compression = format
	if format == None {
		src.f, src.size, src.Method = f, st.Size(), "direct"
		return src, nil
	}
	defer f.Close()

	dir := cacheDir(opts.CacheDir)
	key, err := cacheKey(f, st.Size(), st.ModTime(), format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cached := filepath.Join(dir, key+cacheSuffix)
	if cf, err := os.Open(cached); err == nil {
		if cst, err := cf.Stat(); err == nil && cst.Mode().IsRegular() {
			src.f, src.size, src.CachePath = cf, cst.Size(), cached
			src.Method = "reused cache " + cached
			diskcache.Touch(cached)
			return src, nil
		}
		cf.Close()
	}
	if err := decompressInto(src, io.NewSectionReader(f, 0, st.Size()), dir, opts); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if src.Incomplete != nil {
		return src, nil
	}
	if err := os.Rename(src.f.Name(), cached); err != nil {
		// The temporary copy still works; it just will not be reused.
		src.remove = true
		src.CachePath = src.f.Name()
		src.Method = "decompressed to temporary " + src.CachePath + " (removed on close; rename failed: " + err.Error() + ")"
		return src, nil
	}
	src.remove = false
	src.CachePath = cached
	src.Method = "decompressed to cache " + cached
	max := opts.CacheMax
	if max == 0 && opts.CacheDir == "" {
		max, _ = diskcache.Max()
	}
	if removed := diskcache.Prune(dir, max, cached); len(removed) > 0 {
		src.Method += fmt.Sprintf(" (over the cache's bound of %d bytes: %d least recently used entries removed)", max, len(removed))
	}
	return src, nil
}

func openStdin(opts Options) (*Source, error) {
	in := opts.Stdin
	if in == nil {
		in = os.Stdin
	}
	br := bufio.NewReaderSize(in, keyPrefixLen)
	head, err := br.Peek(keyPrefixLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("input: reading stdin: %w", err)
	}
	format, err := Detect(bytes.NewReader(head), int64(len(head)))
	if err != nil {
		return nil, fmt.Errorf("stdin: %w", err)
	}
	src := &Source{Path: "-", Compression: format}
	if err := decompressInto(src, br, cacheDir(opts.CacheDir), opts); err != nil {
		return nil, fmt.Errorf("stdin: %w", err)
	}
	return src, nil
}

// decompressInto decodes r (in src.Compression) into a new temporary file
// in dir and sets src.f, src.size, src.Elapsed, src.InputSize for stdin,
// and the temporary Method; the caller may rename the file into the cache.
func decompressInto(src *Source, r io.Reader, dir string, opts Options) error {
	start := time.Now()
	cr := &countingReader{r: r}
	tmp, err := os.CreateTemp(dir, ".partial-*"+cacheSuffix)
	if err != nil {
		return fmt.Errorf("input: cache: %w", err)
	}
	sw := &sparseWriter{f: tmp, maxLogical: opts.MaxSize, maxPhysical: -1}
	if free := freeSpace(dir); free >= 0 {
		sw.maxPhysical = max(free-diskReserve, 0)
		sw.dir = dir
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	var dec io.Reader = bufio.NewReaderSize(cr, copyBuf)
	var closeDec func()
	if src.Compression != None {
		dec, closeDec, err = newDecoder(src.Compression, dec)
		if err != nil {
			return fail(&CorruptError{Format: src.Compression, InOffset: cr.n, Err: err})
		}
		defer closeDec()
	}
	copyErr := copyAll(sw, dec)
	if err := sw.finish(); err != nil && copyErr == nil {
		copyErr = err
	}
	var limit *LimitError
	switch {
	case copyErr == nil:
	case errors.As(copyErr, &limit):
		return fail(copyErr)
	case errors.Is(copyErr, errWrite):
		return fail(fmt.Errorf("input: writing %s: %w", tmp.Name(), copyErr))
	case src.Compression == None:
		return fail(fmt.Errorf("input: reading stdin at offset %d: %w", cr.n, copyErr))
	default:
		cerr := &CorruptError{Format: src.Compression, InOffset: cr.n, OutOffset: sw.off, Err: copyErr}
		if !opts.KeepPartial {
			return fail(cerr)
		}
		src.Incomplete = cerr
	}
	src.f, src.size, src.Elapsed = tmp, sw.off, time.Since(start)
	src.CachePath, src.remove = tmp.Name(), true
	if src.Path == "-" {
		src.InputSize = cr.n
	}
	verb := "decompressed"
	switch {
	case src.Compression == None:
		verb = "copied stdin"
	case src.Incomplete != nil:
		verb = "decompressed the readable prefix"
	case src.Path == "-":
		verb = "decompressed stdin"
	}
	src.Method = verb + " to temporary " + tmp.Name() + " (removed on close)"
	return nil
}

var errWrite = errors.New("write failed")

// copyAll copies r to w, keeping reader errors apart from writer errors
// (which wrap errWrite or are *LimitError).
func copyAll(w *sparseWriter, r io.Reader) error {
	buf := make([]byte, copyBuf)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if werr := w.write(buf[:n]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func newDecoder(format string, r io.Reader) (io.Reader, func(), error) {
	switch format {
	case Zstd:
		d, err := zstd.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return d, d.Close, nil
	case LZ4:
		return newLZ4(r)
	case XZ:
		return newXZ(r)
	case Gzip:
		d, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return d, func() { d.Close() }, nil
	}
	return nil, nil, fmt.Errorf("no decoder for %q", format)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// sparseWriter writes sequentially at off, leaving holes for all-zero
// blocks (cores are full of untouched pages), and enforces the limits.
type sparseWriter struct {
	f           *os.File
	off         int64 // logical size so far
	physical    int64 // bytes actually written
	maxLogical  int64
	maxPhysical int64 // -1: unknown free space
	dir         string
}

var zeros = make([]byte, zeroBlock)

func (w *sparseWriter) write(p []byte) error {
	if int64(len(p)) > w.maxLogical-w.off {
		return &LimitError{What: "decompressed size (Options.MaxSize)", Limit: w.maxLogical}
	}
	for len(p) > 0 {
		n := min(len(p), zeroBlock)
		blk := p[:n]
		if !bytes.Equal(blk, zeros[:n]) {
			if w.maxPhysical >= 0 && w.physical+int64(n) > w.maxPhysical {
				return &LimitError{What: "free space in " + w.dir + " (less a 512 MiB reserve)", Limit: w.maxPhysical}
			}
			if _, err := w.f.WriteAt(blk, w.off); err != nil {
				return fmt.Errorf("%w: %w", errWrite, err)
			}
			w.physical += int64(n)
		}
		w.off += int64(n)
		p = p[n:]
	}
	return nil
}

// finish sets the file size, covering a trailing hole.
func (w *sparseWriter) finish() error {
	if err := w.f.Truncate(w.off); err != nil {
		return fmt.Errorf("%w: %w", errWrite, err)
	}
	return nil
}

// cacheKey identifies a compressed file by its first MiB, size,
// modification time and format.
func cacheKey(f *os.File, size int64, mtime time.Time, format string) (string, error) {
	h := sha256.New()
	h.Write([]byte(keyVersion))
	h.Write([]byte(format))
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(size))
	binary.LittleEndian.PutUint64(b[8:], uint64(mtime.UnixNano()))
	h.Write(b[:])
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, min(size, keyPrefixLen))); err != nil {
		return "", fmt.Errorf("input: hashing the first MiB: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:40], nil
}

// cacheDir returns the directory for decompressed cores, creating it.
func cacheDir(dir string) string {
	if dir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(d, "coredig")
		}
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err == nil {
			return dir
		}
	}
	d := filepath.Join(os.TempDir(), fmt.Sprintf("coredig-cache-%d", os.Getuid()))
	_ = os.MkdirAll(d, 0o700)
	return d
}
