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
	name := typeName(a, m, bo.Uint64(b[pyObType:]))
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
	// The object layouts above are 64-bit ones, as in ReadPyLock; the scan below also
	// reads 8-byte words.
	if a.PtrSize != 8 {
		return PyLock{}, false
	}
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

// MaxPyStackFrames and MaxPyStackWords bound the search of a thread's Python frames for
// the `with` blocks it is in: the innermost frames, and the first words of each from its
// localsplus (the locals, then the value stack).
const (
	MaxPyStackFrames = 8
	MaxPyStackWords  = 64
)

// PyCFunctionObject (CPython 3.8-3.13 Include/cpython/methodobject.h): PyObject_HEAD,
// then m_ml (PyMethodDef *, whose first field is ml_name) and m_self.
const (
	pyCFuncML   = 16
	pyCFuncSelf = 24
)

// HeldPyLocks returns the Python lock objects whose bound __exit__ sits in the first
// words of the frames at localsplus (innermost first): `with lock:` pushes it when the
// block starts and pops it when the block ends. A word left over from a block that
// already ended can make a lock look held, so callers say the holder is inferred.
func HeldPyLocks(a *arch.Arch, m Memory, localsplus []uint64) map[uint64]bool {
	held := map[uint64]bool{}
	if a.PtrSize != 8 {
		return held
	}
	w := uint64(a.PtrSize)
	buf := make([]byte, MaxPyStackWords*w)
	for i, base := range localsplus {
		if i >= MaxPyStackFrames {
			break
		}
		n, _ := m.ReadAt(buf, base)
		for j := 0; j+int(w) <= n; j += int(w) {
			p := a.ByteOrder.Uint64(buf[j:])
			if p == 0 || p%8 != 0 || !a.Canonical(p) {
				continue
			}
			if self, ok := boundExit(a, m, p); ok {
				held[self] = true
			}
		}
	}
	return held
}

// boundExit reports whether obj is a builtin method named __exit__ bound to a Python
// lock object, and which.
func boundExit(a *arch.Arch, m Memory, obj uint64) (uint64, bool) {
	var b [32]byte
	if read(m, b[:], obj, "object") != nil {
		return 0, false
	}
	bo := a.ByteOrder
	if typeName(a, m, bo.Uint64(b[pyObType:])) != "builtin_function_or_method" {
		return 0, false
	}
	var ml [8]byte
	if read(m, ml[:], bo.Uint64(b[pyCFuncML:]), "PyMethodDef") != nil || cString(m, bo.Uint64(ml[:]), 16) != "__exit__" {
		return 0, false
	}
	self := bo.Uint64(b[pyCFuncSelf:])
	if _, ok := ReadPyLock(a, m, self); !ok {
		return 0, false
	}
	return self, true
}

// typeName reads a type object's tp_name (at most 32 bytes).
func typeName(a *arch.Arch, m Memory, typ uint64) string {
	var tb [8]byte
	if typ == 0 || read(m, tb[:], typ+pyTpName, "tp_name") != nil {
		return ""
	}
	return cString(m, a.ByteOrder.Uint64(tb[:]), 32)
}

// cString reads a NUL-terminated string of at most max bytes, "" when unreadable.
func cString(m Memory, addr uint64, max int) string {
	b := make([]byte, max)
	n, _ := m.ReadAt(b, addr)
	b = b[:n]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return ""
}
