package hangs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/coredig/coredig/internal/arch"
)

// Memory reads process memory; n < len(p) comes with an error saying why.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// ReadError is a read of process memory that came up short.
type ReadError struct {
	What string
	Addr uint64
	Err  error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("reading %s at %#x: %v", e.What, e.Addr, e.Err)
}
func (e *ReadError) Unwrap() error { return e.Err }

func read(m Memory, p []byte, addr uint64, what string) error {
	n, err := m.ReadAt(p, addr)
	if n == len(p) {
		return nil
	}
	if err == nil {
		err = errors.New("short read")
	}
	return &ReadError{What: what, Addr: addr, Err: err}
}

// Mutex kinds and flags (glibc sysdeps/nptl/pthread.h, nptl/pthreadP.h).
const (
	PTHREAD_MUTEX_KIND_MASK_NP      = 3
	PTHREAD_MUTEX_ROBUST_NORMAL_NP  = 16
	PTHREAD_MUTEX_PRIO_INHERIT_NP   = 32
	PTHREAD_MUTEX_PRIO_PROTECT_NP   = 64
	PTHREAD_MUTEX_PSHARED_BIT       = 128
	PTHREAD_MUTEX_INCONSISTENT      = 0x7fffffff
	PTHREAD_MUTEX_NOTRECOVERABLE    = 0x7ffffffe
	pthreadMutexKnownKindBits       = 3 | 16 | 32 | 64 | 128 | 256 | 512
	pthreadMutexElisionFlagsNP      = 256 | 512
	maxPlausibleTID                 = FUTEX_TID_MASK
	pthreadMutexBaseKindsWithOwners = 3
)

// Mutex is a glibc pthread_mutex_t as read from memory.
type Mutex struct {
	Addr  uint64
	Lock  uint32 // __lock, the futex word
	Count uint32 // __count, the recursion depth
	Owner int32  // __owner
	Kind  int32  // __kind
}

// ReadMutex reads the pthread_mutex_t at addr.
func ReadMutex(a *arch.Arch, m Memory, addr uint64) (Mutex, error) {
	l := a.Pthread
	var b [24]byte
	if err := read(m, b[:], addr, "pthread_mutex_t"); err != nil {
		return Mutex{}, err
	}
	u32 := func(off int) uint32 {
		if off < 0 || off+4 > len(b) {
			return 0
		}
		return a.ByteOrder.Uint32(b[off:])
	}
	return Mutex{Addr: addr, Lock: u32(l.MutexLock), Count: u32(l.MutexCount),
		Owner: int32(u32(l.MutexOwner)), Kind: int32(u32(l.MutexKind))}, nil
}

// Plausible reports whether the words look like a pthread mutex: known kind bits only.
func (m Mutex) Plausible() bool { return m.Kind >= 0 && m.Kind&^pthreadMutexKnownKindBits == 0 }

// OwnerWord reports whether the owner's tid lives in the futex word (robust and
// priority-inheriting mutexes) rather than in __owner alone.
func (m Mutex) OwnerWord() bool {
	return m.Kind&(PTHREAD_MUTEX_ROBUST_NORMAL_NP|PTHREAD_MUTEX_PRIO_INHERIT_NP) != 0
}

// OwnerTID is the tid of the thread holding the mutex, 0 when it is free or the owner is
// not recorded (a normal mutex's __owner is written just after the lock is taken).
func (m Mutex) OwnerTID() int {
	if m.OwnerWord() {
		if t := int(m.Lock & FUTEX_TID_MASK); t != 0 {
			return t
		}
	}
	if m.Lock == 0 && !m.OwnerWord() {
		return 0
	}
	switch m.Owner {
	case 0, PTHREAD_MUTEX_INCONSISTENT, PTHREAD_MUTEX_NOTRECOVERABLE:
		return 0
	}
	if m.Owner < 0 || m.Owner > maxPlausibleTID {
		return 0
	}
	return int(m.Owner)
}

// OwnerDied reports the FUTEX_OWNER_DIED bit of a robust mutex: its owner exited holding
// it (the kernel's robust-list walk sets it, linux kernel/futex/core.c handle_futex_death).
func (m Mutex) OwnerDied() bool { return m.OwnerWord() && m.Lock&FUTEX_OWNER_DIED != 0 }

// Shared reports a process-shared mutex, whose owner may be a thread of another process.
// glibc sets PTHREAD_MUTEX_PSHARED_BIT on every robust mutex (nptl/pthread_mutex_init.c:
// the kernel's robust-list walk never uses private futexes), so for those the bit says
// nothing and Shared is false; MaybeShared keeps the doubt.
func (m Mutex) Shared() bool {
	return m.Kind&PTHREAD_MUTEX_PSHARED_BIT != 0 && m.Kind&PTHREAD_MUTEX_ROBUST_NORMAL_NP == 0
}

// MaybeShared reports a robust mutex, which may or may not be shared between processes.
func (m Mutex) MaybeShared() bool { return m.Kind&PTHREAD_MUTEX_ROBUST_NORMAL_NP != 0 }

// KindName names the mutex type: "normal", "recursive", "errorcheck", "adaptive", with
// "robust", "priority-inheriting", "priority-protected" and "process-shared" added.
func (m Mutex) KindName() string {
	base := []string{"normal", "recursive", "errorcheck", "adaptive"}[m.Kind&PTHREAD_MUTEX_KIND_MASK_NP]
	var mods []string
	if m.Kind&PTHREAD_MUTEX_ROBUST_NORMAL_NP != 0 {
		mods = append(mods, "robust")
	}
	if m.Kind&PTHREAD_MUTEX_PRIO_INHERIT_NP != 0 {
		mods = append(mods, "priority-inheriting")
	}
	if m.Kind&PTHREAD_MUTEX_PRIO_PROTECT_NP != 0 {
		mods = append(mods, "priority-protected")
	}
	if m.Shared() {
		mods = append(mods, "process-shared")
	}
	if len(mods) == 0 {
		return base
	}
	return strings.Join(mods, " ") + " " + base
}

// Describe renders the words: "normal mutex, __lock 2, __owner 1234, __count 0".
func (m Mutex) Describe() string {
	s := fmt.Sprintf("%s mutex, __lock %#x, __owner %d", m.KindName(), m.Lock, m.Owner)
	if m.Count != 0 {
		s += fmt.Sprintf(", __count %d", m.Count)
	}
	if m.OwnerDied() {
		s += ", FUTEX_OWNER_DIED set (the owner exited holding it)"
	}
	if m.MaybeShared() {
		s += "; a robust mutex may be shared with other processes, whose threads can own it"
	}
	switch m.Owner {
	case PTHREAD_MUTEX_INCONSISTENT:
		s += " (inconsistent: its owner died and no one called pthread_mutex_consistent)"
	case PTHREAD_MUTEX_NOTRECOVERABLE:
		s += " (not recoverable)"
	}
	return s
}

// Rwlock is a glibc pthread_rwlock_t as read from memory.
type Rwlock struct {
	Addr      uint64
	Readers   uint32 // __readers: the reader count << 3 and state bits
	CurWriter int32  // __cur_writer: the tid of the writer holding it, 0 when none
	Flags     uint32
}

// ReadRwlock reads the pthread_rwlock_t at addr.
func ReadRwlock(a *arch.Arch, m Memory, addr uint64) (Rwlock, error) {
	l := a.Pthread
	var b [56]byte
	if err := read(m, b[:], addr, "pthread_rwlock_t"); err != nil {
		return Rwlock{}, err
	}
	rw := Rwlock{Addr: addr, Readers: a.ByteOrder.Uint32(b[0:])}
	if o := l.RwlockCurWriter; o >= 0 && o+4 <= len(b) {
		rw.CurWriter = int32(a.ByteOrder.Uint32(b[o:]))
	}
	if o := l.RwlockFlags; o >= 0 && o+l.RwlockFlagsSize <= len(b) {
		switch l.RwlockFlagsSize {
		case 1:
			rw.Flags = uint32(b[o])
		case 4:
			rw.Flags = a.ByteOrder.Uint32(b[o:])
		}
	}
	return rw, nil
}

// ReaderCount is the number of readers holding the lock (__readers >> 3,
// PTHREAD_RWLOCK_READER_SHIFT in nptl/pthread_rwlock_common.c).
func (rw Rwlock) ReaderCount() uint32 { return rw.Readers >> 3 }

// FindRwlock finds the rwlock a thread waits on from the futex word it sleeps on: the
// word is one of __readers, __wrphase_futex or __writers_futex, so the lock starts at one
// of a few offsets before it; the candidate whose flags are valid and whose writer is one
// of the process's threads (isThread) wins, else the first with valid flags.
func FindRwlock(a *arch.Arch, m Memory, futex uint64, isThread func(int) bool) (Rwlock, bool) {
	var first *Rwlock
	for _, off := range a.Pthread.RwlockFutexes {
		if uint64(off) > futex {
			continue
		}
		rw, err := ReadRwlock(a, m, futex-uint64(off))
		if err != nil || rw.Flags > 2 || rw.CurWriter < 0 || rw.CurWriter > maxPlausibleTID {
			continue
		}
		if rw.CurWriter != 0 && isThread(int(rw.CurWriter)) {
			return rw, true
		}
		if first == nil {
			c := rw
			first = &c
		}
	}
	if first != nil {
		return *first, true
	}
	return Rwlock{}, false
}
