package diagnose

import (
	"encoding/binary"
	"fmt"
)

// Restartable sequences (kernel/rseq.c). A thread that registered a struct rseq with the
// kernel has it checked every time it returns to user space after being preempted,
// migrated or given a signal: the kernel reads the area's rseq_cs pointer and, when it
// is not 0, the struct rseq_cs it points to. If the pointer or the descriptor is not
// valid, or the area cannot be written, the kernel kills the thread with SIGSEGV,
// si_code SI_KERNEL and no address (force_sigsegv), at whatever instruction it was
// about to resume. glibc 2.35 and later register an area for every thread, inside the
// thread control block at the thread pointer plus __rseq_offset, so a stray write over
// a thread's TLS kills it at an innocent instruction, long after the write.
//
// Validity, in the kernel's order (rseq_get_rseq_cs and rseq_need_restart): rseq_cs is a
// user address of 32 readable bytes; version is 0; start_ip, start_ip+post_commit_offset
// and abort_ip are user addresses, the sum does not overflow, and abort_ip is outside
// [start_ip, start_ip+post_commit_offset); the 4 bytes before abort_ip equal the
// signature the thread registered; and, when the thread was inside the critical section,
// neither the descriptor's flags nor the area's hold the retired NO_RESTART bits.

// RseqArea is the crashing thread's registered struct rseq as the caller found it.
type RseqArea struct {
	// Addr is the struct rseq: TP + Offset.
	Addr uint64
	// TP is the thread pointer, Offset glibc's __rseq_offset.
	TP     uint64
	Offset int64
}

// rseqSig is the signature glibc registers its areas with, by architecture
// (sysdeps/unix/sysv/linux/*/bits/rseq.h, little-endian builds). Architectures not listed
// are not checked against a signature.
var rseqSig = map[string]uint32{
	"x86_64":  0x53053053, // ud1 0x53053053(%rip),%edi
	"i386":    0x53053053,
	"x32":     0x53053053,
	"aarch64": 0xd428bc00, // brk #0x45e0
	"riscv64": 0xf1401073, // csrr mhartid,x0
}

// rseqUserLimit is an upper bound of TASK_SIZE, the end of user space, by pointer size:
// every 64-bit architecture's largest (x86_64 with 5-level paging, 0x00fffffffffff000,
// is under 2^56) and the 4 GiB of a 32-bit one. An address at or above it is certainly
// not a user address; one below it may still be, on a kernel with a smaller user space.
func rseqUserLimit(ptrSize int) uint64 {
	if ptrSize == 4 {
		return 1 << 32
	}
	return 1 << 56
}

// rseqCS is struct rseq_cs (include/uapi/linux/rseq.h).
type rseqCS struct {
	version, flags                     uint32
	startIP, postCommitOffset, abortIP uint64
}

// rseqNoRestart are RSEQ_CS_FLAG_NO_RESTART_ON_PREEMPT, _ON_SIGNAL and _ON_MIGRATE.
const rseqNoRestart = 7

// rseqProblem returns why the kernel's check of area fails ("" when it passes or cannot
// be decided from the core) and the rseq_cs value it read.
func (f *Facts) rseqProblem(area uint64, pc uint64) (problem string, csPtr uint64, known bool) {
	if f.Arch == nil || f.Mem == nil {
		return "", 0, false
	}
	bo := f.Arch.ByteOrder
	limit := rseqUserLimit(f.Arch.PtrSize)
	if len(f.Mappings) > 0 {
		if m := mappingAt(f.Mappings, area); m == nil {
			return "the area is in no mapping, so the kernel cannot write it", 0, true
		} else if !m.Writable() {
			return fmt.Sprintf("the area is in the read-only mapping %s, so the kernel cannot write it", mappingText(m)), 0, true
		}
	}
	var a [32]byte
	if n, _ := f.Mem.ReadAt(a[:], area); n < 20 {
		return "", 0, false // the area is not in the core
	}
	csPtr = bo.Uint64(a[8:16])
	areaFlags := bo.Uint32(a[16:20])
	if csPtr == 0 {
		return "", 0, false
	}
	if csPtr >= limit {
		return fmt.Sprintf("its rseq_cs %s is not a user-space address", hex(csPtr)), csPtr, true
	}
	if len(f.Mappings) > 0 {
		m := mappingAt(f.Mappings, csPtr)
		if m == nil || !m.Readable() {
			return fmt.Sprintf("its rseq_cs %s points to no readable mapping", hex(csPtr)), csPtr, true
		}
		if csPtr+31 >= m.End && mappingAt(f.Mappings, m.End) == nil {
			return fmt.Sprintf("its rseq_cs %s points to a 32-byte struct rseq_cs that runs past the end of its mapping", hex(csPtr)), csPtr, true
		}
	}
	var b [32]byte
	if n, _ := f.Mem.ReadAt(b[:], csPtr); n < len(b) {
		return "", csPtr, false
	}
	cs := rseqCS{version: bo.Uint32(b[0:]), flags: bo.Uint32(b[4:]), startIP: bo.Uint64(b[8:]),
		postCommitOffset: bo.Uint64(b[16:]), abortIP: bo.Uint64(b[24:])}
	end := cs.startIP + cs.postCommitOffset
	switch {
	case cs.version != 0:
		return fmt.Sprintf("its rseq_cs %s points to a struct rseq_cs of version %s, not 0", hex(csPtr), hex(uint64(cs.version))), csPtr, true
	case cs.startIP >= limit:
		return fmt.Sprintf("the struct rseq_cs at %s has start_ip %s, not a user-space address", hex(csPtr), hex(cs.startIP)), csPtr, true
	case end < cs.startIP:
		return fmt.Sprintf("the struct rseq_cs at %s has start_ip %s and post_commit_offset %s, whose sum overflows", hex(csPtr), hex(cs.startIP), hex(cs.postCommitOffset)), csPtr, true
	case end >= limit:
		return fmt.Sprintf("the struct rseq_cs at %s has a critical section %s + %s that ends above user space", hex(csPtr), hex(cs.startIP), hex(cs.postCommitOffset)), csPtr, true
	case cs.abortIP >= limit:
		return fmt.Sprintf("the struct rseq_cs at %s has abort_ip %s, not a user-space address", hex(csPtr), hex(cs.abortIP)), csPtr, true
	case cs.abortIP-cs.startIP < cs.postCommitOffset:
		return fmt.Sprintf("the struct rseq_cs at %s has abort_ip %s inside its own critical section %s-%s", hex(csPtr), hex(cs.abortIP), hex(cs.startIP), hex(end)), csPtr, true
	}
	sigAt := cs.abortIP - 4
	if len(f.Mappings) > 0 {
		if m := mappingAt(f.Mappings, sigAt); m == nil || !m.Readable() {
			return fmt.Sprintf("the struct rseq_cs at %s has abort_ip %s, and the signature before it is in no readable mapping", hex(csPtr), hex(cs.abortIP)), csPtr, true
		}
	}
	if want, ok := rseqSig[f.Arch.Name]; ok && bo == binary.LittleEndian {
		var s [4]byte
		if n, _ := f.Mem.ReadAt(s[:], sigAt); n == 4 {
			if got := bo.Uint32(s[:]); got != want {
				return fmt.Sprintf("the struct rseq_cs at %s has abort_ip %s, and the 4 bytes before it are %s, not glibc's signature %s", hex(csPtr), hex(cs.abortIP), hex(uint64(got)), hex(uint64(want))), csPtr, true
			}
		}
	}
	if pc-cs.startIP < cs.postCommitOffset && (cs.flags|areaFlags)&rseqNoRestart != 0 {
		return fmt.Sprintf("the thread was inside the critical section of the struct rseq_cs at %s, and the retired NO_RESTART flags are set (descriptor %s, area %s)", hex(csPtr), hex(uint64(cs.flags)), hex(uint64(areaFlags))), csPtr, true
	}
	return "", csPtr, true
}

// rseqFault explains a SIGSEGV with SI_KERNEL that the kernel's rseq check sent; it
// returns false when the crashing thread's rseq area passes the check or cannot be read.
func (f *Facts) rseqFault(d *Diagnosis, a *access) bool {
	if f.Rseq == nil || f.Code != SI_KERNEL || f.Signo != SIGSEGV {
		return false
	}
	pc, _ := f.reg(f.pcName())
	problem, csPtr, known := f.rseqProblem(f.Rseq.Addr, pc)
	if !known || problem == "" {
		return false
	}
	r := f.Rseq
	d.Kind = KindRseq
	d.add("rseq_area", "%s (thread pointer %s %s %s, glibc's __rseq_offset)", hex(r.Addr), hex(r.TP), sign(r.Offset), hex(abs(r.Offset)))
	if csPtr != 0 {
		d.add("rseq_cs", "%s", hex(csPtr))
	}
	d.add("rseq_problem", "%s", problem)
	what := fmt.Sprintf("The kernel killed the thread%s with SIGSEGV (SI_KERNEL) as it returned to user space, not because of the instruction at the pc: the thread's restartable-sequence area at %s (in its thread control block) fails the kernel's check: %s.", f.in(), hex(r.Addr), problem)
	if a != nil && a.err == nil && a.op.Write {
		if m := mappingAt(f.Mappings, r.Addr); m != nil && m.Start <= a.ea && a.ea < m.End {
			d.add("writes_near_area", "the interrupted instruction writes %s, in the area's mapping %s", hex(a.ea), mappingText(m))
			what += fmt.Sprintf(" The interrupted instruction writes into the same mapping (at %s): it is probably what overwrote the area.", hex(a.ea))
			d.Summary = what
			return true
		}
	}
	d.Summary = what + " Something overwrote the thread's TLS or control block."
	return true
}

func sign(v int64) string {
	if v < 0 {
		return "-"
	}
	return "+"
}

func abs(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}
