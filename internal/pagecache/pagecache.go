// Package pagecache puts a small, bounded cache of fixed-size pages in front of an
// io.ReaderAt. Unwinding and symbolizing read memory a few bytes at a time, over and over
// at the same places (stack words, code at each return address, the same GOT slots); one
// pread per read made the system call the largest cost of a backtrace.
package pagecache

import (
	"io"
	"sync"
)

const (
	pageSize = 4096
	// maxDirect is the read size from which the cache is bypassed: big reads gain
	// nothing from it and would only evict the small ones' pages.
	maxDirect = 4 * pageSize
)

// Reader is a caching io.ReaderAt. It is safe for concurrent use.
type Reader struct {
	r        io.ReaderAt
	maxPages int
	mu       sync.Mutex
	pages    map[int64][]byte // page index -> its bytes (short at the end of the file)
	errs     map[int64]error  // the error that came with a short page
}

// New caches r's pages, keeping at most maxBytes of them.
func New(r io.ReaderAt, maxBytes int) *Reader {
	return &Reader{r: r, maxPages: max(1, maxBytes/pageSize), pages: map[int64][]byte{}, errs: map[int64]error{}}
}

// ReadAt implements io.ReaderAt.
func (c *Reader) ReadAt(p []byte, off int64) (int, error) {
	if len(p) >= maxDirect || len(p) == 0 || off < 0 {
		return c.r.ReadAt(p, off)
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		idx := pos / pageSize
		page, err := c.page(idx)
		in := int(pos - idx*pageSize)
		if in >= len(page) {
			if err == nil {
				err = io.EOF
			}
			return n, err
		}
		n += copy(p[n:], page[in:])
	}
	return n, nil
}

func (c *Reader) page(idx int64) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.pages[idx]; ok {
		return b, c.errs[idx]
	}
	if len(c.pages) >= c.maxPages {
		// Start over rather than track recency: the working set of one analysis is
		// far below the bound, so this only happens on unusual cores.
		clear(c.pages)
		clear(c.errs)
	}
	b := make([]byte, pageSize)
	k, err := c.r.ReadAt(b, idx*pageSize)
	b = b[:k]
	if k == pageSize {
		err = nil // a full page: io.EOF right at its end says nothing about it
	}
	c.pages[idx] = b
	if err != nil {
		c.errs[idx] = err
	}
	return b, err
}
