package diagnose

import (
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

func TestRedelivered(t *testing.T) {
	pc := uint64(0x55d0c0100000)
	// movl $1,(%rax) into python's read-only data: the re-run write faults again.
	f := x86Facts(SIGSEGV, SI_TKILL, 0, map[string]uint64{"rip": pc, "rax": 0x55d0c037d010})
	f.HasSender, f.SenderPID = true, 630
	f.Inst = inst(t, arch.AMD64, pc, 0xc7, 0x00, 0x01, 0x00, 0x00, 0x00)
	o := Redelivered(f)
	if o == nil || o.Signo != SIGSEGV || o.Code != SEGV_ACCERR || o.Addr != 0x55d0c037d010 || !o.HasAddr || o.HasSender {
		t.Fatalf("write to .rodata: %+v", o)
	}
	// A read through NULL+0x60: unmapped.
	f.Regs = map[string]uint64{"rip": pc, "rax": 0}
	f.Inst = inst(t, arch.AMD64, pc, 0x48, 0x8b, 0x40, 0x60) // mov 0x60(%rax),%rax
	if o := Redelivered(f); o == nil || o.Code != SEGV_MAPERR || o.Addr != 0x60 {
		t.Fatalf("NULL read: %+v", o)
	}
	// A read of mapped memory faults nowhere: not a redelivery.
	f.Regs["rax"] = 0x55d0c1000000
	if o := Redelivered(f); o != nil {
		t.Errorf("a valid read was taken for a fault: %+v", o)
	}
	f.Signo = SIGABRT
	f.Regs["rax"] = 0
	if o := Redelivered(f); o != nil {
		t.Errorf("only a SIGSEGV is redelivered here: %+v", o)
	}
}

func TestTrapFits(t *testing.T) {
	pc := uint64(0x55d0c0100000)
	read := inst(t, arch.AMD64, pc, 0x48, 0x8b, 0x40, 0x60) // mov 0x60(%rax),%rax
	for _, tc := range []struct {
		name    string
		signo   int
		addr    uint64
		hasAddr bool
		regs    map[string]uint64
		in      bool // give the instruction
		mem     fakeMem
		want    bool
	}{
		{"page fault at the operand's page", SIGSEGV, 0x64, true, map[string]uint64{"rip": pc, "rax": 0}, true, nil, true},
		{"page fault elsewhere", SIGSEGV, 0x7000, true, map[string]uint64{"rip": pc, "rax": 0}, true, nil, false},
		{"jump to the fault address", SIGSEGV, pc + 8, true, map[string]uint64{"rip": pc}, false, nil, true},
		{"#GP on a non-canonical address", SIGSEGV, 0, false, map[string]uint64{"rip": pc, "rax": 0x8000_0000_0000_0000}, true, nil, true},
		{"#GP on a canonical address", SIGSEGV, 0, false, map[string]uint64{"rip": pc, "rax": 0x1000}, true, nil, false},
		{"#DE at a mov", SIGFPE, pc, true, map[string]uint64{"rip": pc, "rax": 0}, true, nil, false},
		{"#UD without an instruction", SIGILL, pc, true, map[string]uint64{"rip": pc}, false, nil, true},
		{"#BP after int3", SIGTRAP, 0, false, map[string]uint64{"rip": pc + 1}, false, fakeMem{pc: {0xcc, 0x90}}, true},
		{"#BP after a nop", SIGTRAP, 0, false, map[string]uint64{"rip": pc + 1}, false, fakeMem{pc: {0x90, 0x90}}, false},
	} {
		o := x86Facts(tc.signo, 0, tc.addr, tc.regs)
		o.HasAddr = tc.hasAddr
		if tc.in {
			o.Inst = read
		}
		if tc.mem != nil {
			o.Mem = tc.mem
		}
		if got := TrapFits(o); got != tc.want {
			t.Errorf("%s: TrapFits = %v, want %v", tc.name, got, tc.want)
		}
	}
	div := x86Facts(SIGFPE, 0, pc, map[string]uint64{"rip": pc})
	div.Inst = inst(t, arch.AMD64, pc, 0x48, 0xf7, 0xf1) // div %rcx
	if !TrapFits(div) {
		t.Error("#DE at a div does not fit")
	}
}
