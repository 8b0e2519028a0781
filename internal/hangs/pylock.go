package hangs

import (
	"bytes"

	"github.com/coredig/coredig/internal/arch"
)

// MaxStackWords bounds the search of a thread's stack for the Python lock object it
// waits on.
const MaxStackWords = 4096

// PyLock is a threading.Lock or threading.RLock object (CPython Modules/_threadmodule.c
// lockobject and rlockobject, 3.8-3.13: PyObject_HEAD (ob_refcnt, ob_type), then the
// PyThread_type_lock; an RLock then keeps rlock_owner, the owner's thread ident
// (pthread_self()), and rlock_count).
type PyLock struct {
	Addr uint64
	// Type is the type's tp_name: "_thread.lock" or "_thread.RLock".
	Type string
	// Lock is the PyThread_type_lock (a sem_t on Linux) the object wraps.
	Lock uint64
	// Owner and Count are an RLock's rlock_owner and rlock_count.
	Owner, Count uint64
}

// RLock reports whether the object is a threading.RLock.
func (l PyLock) RLock() bool { return l.Type == "_thread.RLock" }

// pyObject offsets: ob_type at 8 (after ob_refcnt) in every 64-bit CPython 3.x;
// tp_name at 24 in PyTypeObject (after PyObject_VAR_HEAD); the lock at 16.
const (
	pyObType   = 8
	pyTpName   = 24
	pyLockLock = 16
	pyRLockOwn = 24
	pyRLockCnt = 32
)

// ReadPyLock reads the lock object at addr, and fails unless its type is
// "_thread.lock" or "_thread.RLock".
func ReadPyLock(a *arch.Arch, m Memory, addr uint64) (PyLock, bool) {
	if a.PtrSize != 8 {
		return PyLock{}, false
	}
	var b [40]byte
	if read(m, b[:], addr, "lock object") != nil {
		return PyLock{}, false
	}
	bo := a.ByteOrder
	typ := bo.Uint64(b[pyObType:])
	var tb [8]byte
	if typ == 0 || read(m, tb[:], typ+pyTpName, "tp_name") != nil {
		return PyLock{}, false
	}
	var nb [16]byte
	if read(m, nb[:], bo.Uint64(tb[:]), "tp_name") != nil {
		return PyLock{}, false
	}
	name := string(nb[:bytes.IndexByte(append(nb[:], 0), 0)])
	l := PyLock{Addr: addr, Type: name, Lock: bo.Uint64(b[pyLockLock:])}
	switch name {
	case "_thread.lock":
	case "_thread.RLock":
		l.Owner, l.Count = bo.Uint64(b[pyRLockOwn:]), bo.Uint64(b[pyRLockCnt:])
	default:
		return PyLock{}, false
	}
	return l, true
}

// FindPyLock looks through the stack words from sp for a pointer to a Python lock object
// whose PyThread_type_lock is sem: the object whose acquire() the thread is in keeps
// itself on the C stack (the self argument of lock_PyThread_acquire_lock or
// rlock_acquire, spilled or saved across the call).
func FindPyLock(a *arch.Arch, m Memory, sp, sem uint64) (PyLock, bool) {
	const chunk = 512
	w := uint64(a.PtrSize)
	buf := make([]byte, chunk*w)
	seen := map[uint64]bool{}
	for done := uint64(0); done < MaxStackWords; done += chunk {
		n, _ := m.ReadAt(buf, sp+done*w)
		for i := 0; i+int(w) <= n; i += int(w) {
			p := a.ByteOrder.Uint64(buf[i:])
			if p == 0 || p%8 != 0 || seen[p] || !a.Canonical(p) {
				continue
			}
			seen[p] = true
			var lb [8]byte
			if read(m, lb[:], p+pyLockLock, "lock") != nil || a.ByteOrder.Uint64(lb[:]) != sem {
				continue
			}
			if l, ok := ReadPyLock(a, m, p); ok {
				return l, true
			}
		}
		if n < len(buf) {
			break
		}
	}
	return PyLock{}, false
}
