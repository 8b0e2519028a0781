package core

import (
	"bytes"
	"errors"
	"fmt"
)

// Limits on what Argv reads, so a hostile core cannot make it read without end.
const (
	maxArgv       = 1 << 16   // argument pointers
	maxEnvp       = 1 << 16   // environment pointers
	maxArgBytes   = 2 << 20   // all argument strings together
	maxArgString  = 128 << 10 // one argument: MAX_ARG_STRLEN
	auxvSearchWin = 8 << 20   // how far below AT_EXECFN the auxv copy may sit
	auxvChunk     = 64 << 10
)

// Argv recovers the program's argument vector from its initial stack. The kernel keeps
// only the first 80 bytes of the arguments in NT_PRPSINFO, with NULs turned into spaces;
// the stack holds all of them, exactly.
//
// At exec the kernel lays out the top of the main thread's stack as (low to high)
// argc, argv[0..argc-1], NULL, envp[...], NULL, the auxiliary vector ending in AT_NULL,
// and, above it, the strings, the file name AT_EXECFN points to last
// (fs/binfmt_elf.c create_elf_tables). NT_AUXV is a copy of that vector, so Argv finds
// it in the memory below AT_EXECFN and walks down from there: past envp to argv, until
// the word equal to the number of pointers passed, which is argc.
//
// The strings are read as they are at the time of the dump, through the pointers as
// they are then: a daemon that set its title (setproctitle) shows the title as
// argv[0], followed by the copies of its original arguments.
func (c *Core) Argv() ([]string, error) {
	if len(c.Auxv) == 0 {
		return nil, errors.New("no NT_AUXV")
	}
	execfn, ok := c.AuxvValue(AT_EXECFN)
	if !ok {
		return nil, errors.New("no AT_EXECFN in the auxiliary vector")
	}
	seg := c.SegmentFor(execfn)
	if seg == nil {
		return nil, fmt.Errorf("AT_EXECFN %#x is outside every mapping", execfn)
	}
	auxv, err := c.findAuxv(seg, execfn)
	if err != nil {
		return nil, err
	}
	ps := uint64(c.Arch.PtrSize)
	// The pointers start out in this stack segment, but a program may point them
	// elsewhere (setproctitle copies the arguments to the heap), so only page zero is
	// ruled out; argc, which ends the walk, is a count far below any pointer.
	pointer := func(p uint64) bool { return p >= 4096 }

	pos := auxv - ps
	if w, err := c.ReadPtr(pos); err != nil || w != 0 {
		return nil, errors.New("no NULL ends the environment below the auxiliary vector")
	}
	for n := 0; ; n++ {
		if n > maxEnvp || pos < seg.Vaddr+ps {
			return nil, errors.New("the environment does not end")
		}
		pos -= ps
		w, err := c.ReadPtr(pos)
		if err != nil {
			return nil, err
		}
		if w == 0 {
			break // the NULL that ends argv
		}
		if !pointer(w) {
			return nil, fmt.Errorf("environment pointer %#x is not a pointer", w)
		}
	}
	var ptrs []uint64
	for {
		if len(ptrs) > maxArgv || pos < seg.Vaddr+ps {
			return nil, errors.New("no argc below the argument pointers")
		}
		pos -= ps
		w, err := c.ReadPtr(pos)
		if err != nil {
			return nil, err
		}
		if w == uint64(len(ptrs)) {
			break
		}
		if !pointer(w) {
			return nil, fmt.Errorf("argument pointer %#x is not a pointer", w)
		}
		ptrs = append(ptrs, w)
	}
	args := make([]string, len(ptrs))
	total := 0
	for i := range ptrs {
		p := ptrs[len(ptrs)-1-i] // collected from argv[argc-1] down
		s, _, err := c.ReadCString(p, min(maxArgString, maxArgBytes-total))
		if err != nil {
			return nil, fmt.Errorf("argv[%d] at %#x: %w", i, p, err)
		}
		total += len(s)
		args[i] = s
	}
	return args, nil
}

// findAuxv returns the address of the stack's copy of the auxiliary vector, searching
// down from limit in seg.
func (c *Core) findAuxv(seg *Segment, limit uint64) (uint64, error) {
	ps := c.Arch.PtrSize
	pat := make([]byte, 0, (len(c.Auxv)+1)*2*ps)
	put := func(v uint64) {
		var b [8]byte
		if ps == 8 {
			c.Arch.ByteOrder.PutUint64(b[:], v)
		} else {
			c.Arch.ByteOrder.PutUint32(b[:], uint32(v))
		}
		pat = append(pat, b[:ps]...)
	}
	for _, e := range c.Auxv {
		put(e.Tag)
		put(e.Value)
	}
	put(AT_NULL)
	put(0)

	floor := seg.Vaddr
	if limit-floor > auxvSearchWin {
		floor = limit - auxvSearchWin
	}
	buf := make([]byte, auxvChunk+len(pat))
	for hi := limit; hi > floor; {
		lo := max(floor, hi-uint64(auxvChunk))
		end := min(hi+uint64(len(pat)), limit)
		b := buf[:end-lo]
		if err := c.ReadFull(b, lo); err != nil {
			return 0, fmt.Errorf("reading the stack at %#x: %w", lo, err)
		}
		if i := bytes.LastIndex(b, pat); i >= 0 && (lo+uint64(i))%uint64(ps) == 0 {
			return lo + uint64(i), nil
		}
		hi = lo
	}
	return 0, errors.New("the auxiliary vector is not on the stack below AT_EXECFN")
}
