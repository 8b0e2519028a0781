package diagnose

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// rseqFacts is a SIGSEGV SI_KERNEL on x86_64 whose thread has its rseq area at
// 0x55d0c1000100 (the heap of x86Maps), holding rseq_cs csPtr and flags areaFlags; cs, if
// not nil, is the struct rseq_cs placed at csPtr; sig is the word before abort_ip.
func rseqFacts(t *testing.T, csPtr uint64, areaFlags uint32, cs []byte, sigAt uint64, sig uint32) *Facts {
	t.Helper()
	const area, pc = 0x55d0c1000100, 0x55d0c0100000
	f := x86Facts(SIGSEGV, SI_KERNEL, 0, map[string]uint64{"rip": pc, "rbx": 0x55d0c1000000})
	f.Inst = inst(t, arch.AMD64, pc, 0x48, 0x89, 0x03) // mov %rax,(%rbx)
	f.Functions = []string{"scribble"}
	a := make([]byte, 32)
	binary.LittleEndian.PutUint64(a[8:], csPtr)
	binary.LittleEndian.PutUint32(a[16:], areaFlags)
	mem := fakeMem{area: a}
	if cs != nil {
		mem[csPtr] = cs
	}
	if sigAt != 0 {
		var s [4]byte
		binary.LittleEndian.PutUint32(s[:], sig)
		mem[sigAt] = s[:]
	}
	f.Mem = mem
	f.Rseq = &RseqArea{Addr: area, TP: area - 0x920, Offset: 0x920}
	return f
}

// rseqCSBytes lays out a struct rseq_cs.
func rseqCSBytes(version, flags uint32, start, postCommit, abort uint64) []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint32(b[0:], version)
	binary.LittleEndian.PutUint32(b[4:], flags)
	binary.LittleEndian.PutUint64(b[8:], start)
	binary.LittleEndian.PutUint64(b[16:], postCommit)
	binary.LittleEndian.PutUint64(b[24:], abort)
	return b
}

// TestRseqChecks holds each of the kernel's checks (kernel/rseq.c, rseq_get_rseq_cs and
// rseq_need_restart) to its own reason, and a descriptor that passes them all to the
// general-protection explanation.
func TestRseqChecks(t *testing.T) {
	const cs, start, abort = 0x55d0c0500040, 0x55d0c0100000 - 0x10, 0x55d0c0100200
	good := func() []byte { return rseqCSBytes(0, 0, start, 0x20, abort) }
	for _, tc := range []struct {
		name    string
		f       *Facts
		problem string // "" when the check passes: the crash is a general protection fault
	}{
		{"kernel address", rseqFacts(t, 0xffff888000000000, 0, nil, 0, 0),
			"its rseq_cs 0xffff888000000000 is not a user-space address"},
		{"unmapped", rseqFacts(t, 0x66660000, 0, nil, 0, 0),
			"its rseq_cs 0x66660000 points to no readable mapping"},
		{"version", rseqFacts(t, cs, 0, rseqCSBytes(0x2690ab68, 0, start, 0x20, abort), 0, 0),
			"its rseq_cs 0x55d0c0500040 points to a struct rseq_cs of version 0x2690ab68, not 0"},
		{"start", rseqFacts(t, cs, 0, rseqCSBytes(0, 0, 1<<60, 0x20, abort), 0, 0),
			"the struct rseq_cs at 0x55d0c0500040 has start_ip 0x1000000000000000, not a user-space address"},
		{"overflow", rseqFacts(t, cs, 0, rseqCSBytes(0, 0, start, ^uint64(0)-0x8, abort), 0, 0),
			"the struct rseq_cs at 0x55d0c0500040 has start_ip 0x55d0c00ffff0 and post_commit_offset 0xfffffffffffffff7, whose sum overflows"},
		{"abort inside", rseqFacts(t, cs, 0, rseqCSBytes(0, 0, start, 0x20, start+8), 0, 0),
			"the struct rseq_cs at 0x55d0c0500040 has abort_ip 0x55d0c00ffff8 inside its own critical section 0x55d0c00ffff0-0x55d0c0100010"},
		{"signature", rseqFacts(t, cs, 0, good(), abort-4, 0x90909090),
			"the struct rseq_cs at 0x55d0c0500040 has abort_ip 0x55d0c0100200, and the 4 bytes before it are 0x90909090, not glibc's signature 0x53053053"},
		{"no restart flags", rseqFacts(t, cs, 1, good(), abort-4, 0x53053053),
			"the thread was inside the critical section of the struct rseq_cs at 0x55d0c0500040, and the retired NO_RESTART flags are set (descriptor 0x0, area 0x1)"},
		{"valid", rseqFacts(t, cs, 0, good(), abort-4, 0x53053053), ""},
		{"cleared", rseqFacts(t, 0, 0, nil, 0, 0), ""},
	} {
		d := Classify(tc.f)
		if tc.problem == "" {
			check(t, tc.name, d, KindGeneralProtection, []string{"General protection fault in scribble"}, nil)
			continue
		}
		check(t, tc.name, d, KindRseq, []string{
			"The kernel killed the thread in scribble with SIGSEGV (SI_KERNEL) as it returned to user space",
			"area at 0x55d0c1000100 (in its thread control block) fails the kernel's check: " + tc.problem + ".",
			"The interrupted instruction writes into the same mapping (at 0x55d0c1000000)",
		}, map[string]string{
			"rseq_area":        "0x55d0c1000100 (thread pointer 0x55d0c0fff7e0 + 0x920, glibc's __rseq_offset)",
			"rseq_problem":     tc.problem,
			"writes_near_area": "the interrupted instruction writes 0x55d0c1000000, in the area's mapping [heap] [0x55d0c1000000-0x55d0c1400000 rw-]",
		})
	}

	// An area the core does not hold, or one in read-only memory.
	f := rseqFacts(t, cs, 0, nil, 0, 0)
	f.Mem = fakeMem{}
	check(t, "area not in the core", Classify(f), KindGeneralProtection, nil, nil)
	f = rseqFacts(t, cs, 0, nil, 0, 0)
	f.Rseq.Addr = 0x55d0c0380000
	f.Mem = fakeMem{0x55d0c0380000: make([]byte, 32)}
	check(t, "read-only area", Classify(f), KindRseq, []string{"Something overwrote the thread's TLS or control block."},
		map[string]string{"rseq_problem": "the area is in the read-only mapping /usr/local/bin/python3.12 [0x55d0c037d000-0x55d0c0500000 r--], so the kernel cannot write it"})
	// Only SI_KERNEL is the kernel's check.
	f = rseqFacts(t, 0xffff888000000000, 0, nil, 0, 0)
	f.Code, f.Addr, f.HasAddr = SEGV_MAPERR, 0x55d0c1000000, true
	if d := Classify(f); d.Kind == KindRseq {
		t.Errorf("SEGV_MAPERR classified as %s: %s", d.Kind, d.Summary)
	}
}

// TestRequiredAlignment: which x86 instructions raise #GP at a misaligned operand, and
// the general protection fault they explain.
func TestRequiredAlignment(t *testing.T) {
	for _, tc := range []struct {
		code []byte
		want int
	}{
		{[]byte{0x0f, 0x29, 0x07}, 16},             // movaps %xmm0,(%rdi)
		{[]byte{0x66, 0x0f, 0x6f, 0x07}, 16},       // movdqa (%rdi),%xmm0
		{[]byte{0x66, 0x0f, 0xef, 0x07}, 16},       // pxor (%rdi),%xmm0
		{[]byte{0xf3, 0x0f, 0x6f, 0x07}, 0},        // movdqu (%rdi),%xmm0
		{[]byte{0x0f, 0x11, 0x07}, 0},              // movups %xmm0,(%rdi)
		{[]byte{0xf2, 0x0f, 0x10, 0x07}, 0},        // movsd (%rdi),%xmm0: 8 bytes
		{[]byte{0xc5, 0xf8, 0x28, 0x07}, 16},       // vmovaps (%rdi),%xmm0
		{[]byte{0xc5, 0xfc, 0x28, 0x07}, 32},       // vmovaps (%rdi),%ymm0
		{[]byte{0xc5, 0xf9, 0xef, 0x07}, 0},        // vpxor (%rdi),%xmm0,%xmm0: VEX needs none
		{[]byte{0x48, 0x0f, 0xc7, 0x0f}, 16},       // cmpxchg16b (%rdi)
		{[]byte{0x0f, 0xae, 0x07}, 16},             // fxsave (%rdi)
		{[]byte{0x48, 0x8b, 0x07}, 0},              // mov (%rdi),%rax
		{[]byte{0x0f, 0x28, 0x44, 0x24, 0x10}, 16}, // movaps 0x10(%rsp),%xmm0
	} {
		in := inst(t, arch.AMD64, 0x1000, tc.code...)
		if len(in.Mem) != 1 {
			t.Fatalf("%s: %d memory operands", in.Text, len(in.Mem))
		}
		if got := requiredAlignment("x86_64", in, in.Mem[0]); got != tc.want {
			t.Errorf("%s: alignment %d, want %d", in.Text, got, tc.want)
		}
		if got := requiredAlignment("aarch64", in, in.Mem[0]); got != 0 {
			t.Errorf("%s on aarch64: alignment %d", in.Text, got)
		}
	}

	const pc = 0x55d0c0100000
	f := x86Facts(SIGSEGV, SI_KERNEL, 0, map[string]uint64{"rip": pc, "rsp": 0x7ffd5a800008})
	f.HasAddr = false
	f.Inst = inst(t, arch.AMD64, pc, 0x0f, 0x29, 0x44, 0x24, 0x50) // movaps %xmm0,0x50(%rsp)
	f.Functions = []string{"printf"}
	check(t, "misaligned stack", Classify(f), KindMisaligned, []string{
		"General protection fault in printf: movaps needs a 16-byte aligned address, but the instruction writes 16 bytes at rsp+0x50 = 0x7ffd5a800058 (rsp = 0x7ffd5a800008), 8 bytes past a 16-byte boundary.",
		"The stack pointer 0x7ffd5a800008 is misaligned"},
		map[string]string{"required_alignment": "16", "misaligned_by": "0x8", "sp": "0x7ffd5a800008"})
	// Aligned and mapped: no bad pointer, and coredig says it cannot tell more.
	f.Regs["rsp"] = 0x7ffd5a800000
	check(t, "aligned", Classify(f), KindGeneralProtection, []string{"General protection fault in printf (the kernel gives no fault address): the instruction writes 16 bytes at rsp+0x50; rsp = 0x7ffd5a800000, and 0x7ffd5a800050 is a canonical, mapped address, so the processor rejected something else"}, nil)
}

// TestPrivileged: instructions user space may not execute, and one it may.
func TestPrivileged(t *testing.T) {
	const pc = 0x55d0c0100000
	for _, tc := range []struct {
		code []byte
		want string // summary fragment; "" when not privileged
	}{
		{[]byte{0xf4}, "the instruction hlt is privileged: hlt halts the processor, which only the kernel may do. glibc executes hlt as its last resort"},
		{[]byte{0xec}, "the instruction in (%dx),%al is privileged: in reads an I/O port, which only the kernel may do. Port I/O needs ioperm(2) or iopl(2) first"},
		{[]byte{0x0f, 0x20, 0xc0}, "the instruction mov %cr0,%rax is privileged: a move to or from a control or debug register is for the kernel only. User space never runs it on purpose"},
		{[]byte{0xcd, 0x29}, "the instruction int $0x29 is privileged: int $0x29 goes through an interrupt gate user space may not use"},
		{[]byte{0xcd, 0x80}, ""},
		{[]byte{0x90}, ""},
	} {
		f := x86Facts(SIGSEGV, SI_KERNEL, 0, map[string]uint64{"rip": pc})
		f.HasAddr = false
		f.Inst = inst(t, arch.AMD64, pc, tc.code...)
		f.Functions = []string{"halt"}
		d := Classify(f)
		if tc.want == "" {
			check(t, f.Inst.Text, d, KindGeneralProtection, []string{"the instruction " + f.Inst.Text + " accesses no memory coredig can compute, so the cause is not known."}, nil)
			continue
		}
		check(t, f.Inst.Text, d, KindIllegalInstruction, []string{"General protection fault in halt: " + tc.want}, map[string]string{"privileged_instruction": f.Inst.Text})
	}
}

// TestFailedSigreturn: rt_sigreturn that could not read its frame leaves the call's
// number in orig_rax and the pc after the syscall; each place the frame can be gets its
// own reason, and a stale number (the bytes before the pc are no syscall) or any other
// number is not a failed sigreturn.
func TestFailedSigreturn(t *testing.T) {
	const pc = 0x55d0c0100002
	facts := func(nr, sp uint64, code ...byte) *Facts {
		f := x86Facts(SIGSEGV, SI_KERNEL, 0, map[string]uint64{"rip": pc, "rsp": sp, "orig_rax": nr, "rax": 0})
		f.Inst = inst(t, arch.AMD64, pc, 0x90) // nop
		f.Functions = []string{"__restore_rt"}
		f.Mem = fakeMem{pc - 2: code}
		return f
	}
	syscall := []byte{0x0f, 0x05}
	const cause = " The handler returned on a stack other than the one the signal was delivered on"
	for _, tc := range []struct {
		name  string
		f     *Facts
		where string // "" when it is not a failed sigreturn
	}{
		{"unmapped", facts(15, 0x10, syscall...), "at 0x8, which is in no mapping: the stack pointer does not point at a signal frame."},
		{"guard page", facts(15, 0x7f1235000040, syscall...), "at 0x7f1235000038, which is in anonymous [0x7f1235000000-0x7f1235001000 ---], not readable."},
		{"past the end", facts(15, 0x55d0c1400000-100, syscall...), "at 0x55d0c13fff94, whose 312 bytes run past the end of [heap] [0x55d0c1000000-0x55d0c1400000 rw-]."},
		{"readable", facts(15, 0x55d0c1000100, syscall...), "at 0x55d0c10000f8, in [heap] [0x55d0c1000000-0x55d0c1400000 rw-], readable in the core; coredig cannot tell why the kernel could not read it."},
		{"code not in the core", facts(15, 0x10), "at 0x8, which is in no mapping: the stack pointer does not point at a signal frame."},
		{"stale number", facts(15, 0x10, 0x90, 0x90), ""},
		{"another call", facts(14, 0x10, syscall...), ""},
		{"no call", facts(^uint64(0), 0x10, syscall...), ""},
	} {
		d := Classify(tc.f)
		if tc.where == "" {
			if d.Kind == KindFailedSigreturn {
				t.Errorf("%s: kind %s: %s", tc.name, d.Kind, d.Summary)
			}
			continue
		}
		at := "at 0x55d0c0100000"
		if tc.name == "code not in the core" {
			at = "just before the pc"
		}
		sp := tc.f.Regs["rsp"]
		check(t, tc.name, d, KindFailedSigreturn, []string{
			"The thread in __restore_rt called rt_sigreturn, the return from a signal handler, and the kernel killed it with SIGSEGV (SI_KERNEL): the signal frame it had to restore the thread from is " + tc.where + cause},
			map[string]string{"sigreturn_call": "rt_sigreturn (orig_rax = 15), the system call instruction " + at,
				"signal_frame": fmt.Sprintf("%#x (rsp %#x - 0x8)", sp-8, sp)})
	}

	// i386's older sigreturn reads its frame 8 bytes below the esp.
	f := &Facts{Arch: arch.I386, Signo: SIGSEGV, Code: SI_KERNEL, Regs: map[string]uint64{"eip": 0x8049002, "esp": 0x1000, "orig_eax": 119},
		Mem: fakeMem{0x8049000: {0xcd, 0x80}}, Mappings: []Mapping{{Start: 0x8048000, End: 0x804a000, Perms: "r-xp", Name: "/bin/prog"}}}
	check(t, "i386 sigreturn", Classify(f), KindFailedSigreturn, []string{"the signal frame it had to restore the thread from is at 0xff8, which is in no mapping"},
		map[string]string{"sigreturn_call": "sigreturn (orig_eax = 119), the system call instruction at 0x8049000", "signal_frame": "0xff8 (esp 0x1000 - 0x8)"})
}

// TestSegmentLoad: a mov into a segment register that raised #GP names the selector and
// the processor's reason; a mov between general registers is not one.
func TestSegmentLoad(t *testing.T) {
	const pc = 0x55d0c0100000
	for _, tc := range []struct {
		code     []byte
		rax      uint64
		selector string // evidence; "" when not a segment load
		why      string
	}{
		{[]byte{0x8e, 0xd8}, 0x1234, "0x1234: LDT index 582, requested privilege level 0", // mov %eax,%ds
			"loads the segment register ds with the selector 0x1234 (the low 16 bits of eax), and the processor rejected it: it points into the local descriptor table"},
		{[]byte{0x8e, 0xe8}, 0xffff0323, "0x323: GDT index 100, requested privilege level 3", // mov %eax,%gs
			"loads the segment register gs with the selector 0x323 (the low 16 bits of eax), and the processor rejected it: GDT entry 100 is not a segment user code may load into gs."},
		{[]byte{0x8e, 0xd0}, 0, "0x0: GDT index 0, requested privilege level 0", "ss may not hold the null selector"}, // mov %eax,%ss
		{[]byte{0x8e, 0xd0}, 0x28, "0x28: GDT index 5, requested privilege level 0", "not 0"},                         // mov %eax,%ss
		{[]byte{0x89, 0xc3}, 0x1234, "", ""}, // mov %eax,%ebx
	} {
		f := x86Facts(SIGSEGV, SI_KERNEL, 0, map[string]uint64{"rip": pc, "rax": tc.rax})
		f.HasAddr = false
		f.Inst = inst(t, arch.AMD64, pc, tc.code...)
		f.Functions = []string{"load_selector"}
		d := Classify(f)
		if tc.selector == "" {
			if _, ok := d.Get("segment_selector"); ok {
				t.Errorf("%s: %s", f.Inst.Text, d.Summary)
			}
			continue
		}
		check(t, f.Inst.Text, d, KindGeneralProtection, []string{"General protection fault in load_selector: the instruction " + f.Inst.Text, tc.why}, map[string]string{"segment_selector": tc.selector})
	}
}
