package pagecache

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"testing"
)

// countingReader counts the reads that reach the underlying reader.
type countingReader struct {
	r     io.ReaderAt
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// Every read through the cache returns exactly what the file holds, with the same count
// and EOF, for offsets and sizes across page boundaries and the end of the file; small
// reads at the same place reach the file once.
func TestReadAtMatchesFile(t *testing.T) {
	data := make([]byte, 3*pageSize+123)
	rand.New(rand.NewSource(1)).Read(data)
	under := &countingReader{r: bytes.NewReader(data)}
	c := New(under, 2*pageSize) // smaller than the file: eviction happens too
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 5000; i++ {
		off := rng.Int63n(int64(len(data)) + 200)
		size := rng.Intn(3 * pageSize)
		want := make([]byte, size)
		wn, werr := bytes.NewReader(data).ReadAt(want, off)
		got := make([]byte, size)
		gn, gerr := c.ReadAt(got, off)
		if gn != wn || !bytes.Equal(got[:gn], want[:wn]) || (gerr == nil) != (werr == nil) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; file gives %d, %v", size, off, gn, gerr, wn, werr)
		}
		if werr != nil && !errors.Is(gerr, io.EOF) {
			t.Fatalf("error %v at the end of the file, want io.EOF", gerr)
		}
	}
	under.reads = 0
	c = New(under, 1<<20)
	b := make([]byte, 8)
	for i := 0; i < 100; i++ {
		c.ReadAt(b, 100)
		c.ReadAt(b, 4000)
	}
	if under.reads != 1 {
		t.Errorf("%d reads reached the file for 200 reads in one page, want 1", under.reads)
	}
}

// FuzzReadAt checks the cache against the plain reader for arbitrary offsets and sizes.
func FuzzReadAt(f *testing.F) {
	f.Add([]byte("hello, pages"), int64(3), uint16(5), 64)
	f.Fuzz(func(t *testing.T, data []byte, off int64, size uint16, budget int) {
		c := New(bytes.NewReader(data), budget)
		got := make([]byte, int(size)%(maxDirect+10))
		want := make([]byte, len(got))
		gn, gerr := c.ReadAt(got, off)
		wn, werr := bytes.NewReader(data).ReadAt(want, off)
		if gn != wn || !bytes.Equal(got[:gn], want[:wn]) || (gerr == nil) != (werr == nil) {
			t.Fatalf("cache %d, %v; file %d, %v", gn, gerr, wn, werr)
		}
	})
}
