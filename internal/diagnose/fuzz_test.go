package diagnose

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/disasm"
)

// FuzzClassify builds facts from random bytes: signal, code, address, registers, the
// instruction bytes at pc, mappings and a memory image. Classification must not panic,
// must give a known kind and a one-sentence summary, and rules must match without error.
func FuzzClassify(f *testing.F) {
	// Seeds: the incident (mov 0x60(%rax),%rdx with rax = 0), the aarch64 deref
	// (ldr x0, [x0, #96]), a ud2 trap, an idiv and an abort.
	f.Add(uint8(11), int8(1), uint64(0x60), []byte{0x48, 0x8b, 0x50, 0x60}, []byte{0, 1, 2, 3}, false)
	f.Add(uint8(11), int8(1), uint64(0x60), []byte{0x00, 0x30, 0x40, 0xf9}, []byte{9, 9, 9}, true)
	f.Add(uint8(4), int8(2), uint64(0x401000), []byte{0x0f, 0x0b}, []byte{}, false)
	f.Add(uint8(8), int8(1), uint64(0x401000), []byte{0xf7, 0x7d, 0xf8}, []byte{1, 0, 0, 0, 0, 0, 0, 0}, false)
	f.Add(uint8(6), int8(-6), uint64(0), []byte{0x90}, []byte("free(): invalid pointer\x00"), false)
	f.Add(uint8(11), int8(-128), uint64(0), []byte{0x48, 0x8b, 0x43, 0x10}, []byte{0xde, 0xad}, false)
	// SI_KERNEL with an rseq area at 0x1000 whose rseq_cs (0x1008) points into itself: a
	// version that is not 0, as redis's memory test leaves it.
	rs := make([]byte, 64)
	for i := 0; i+8 <= len(rs); i += 8 {
		binary.LittleEndian.PutUint64(rs[i:], 0x1000+uint64(i))
	}
	rs[1] |= 1
	f.Add(uint8(11), int8(-128), uint64(0), []byte{0x48, 0x89, 0x03}, rs, false)
	// A libstdc++ exception header: type_info pointer, then "GNUCC++\0" 80 bytes later.
	exc := make([]byte, 128)
	binary.LittleEndian.PutUint64(exc[0:], 0x1000)
	binary.LittleEndian.PutUint64(exc[80:], 0x474e5543432b2b00)
	f.Add(uint8(6), int8(-6), uint64(0), []byte{0x90}, exc, false)
	// SI_KERNEL with orig_rax 15 (seed[2]&3 == 3): a failed rt_sigreturn.
	f.Add(uint8(11), int8(-128), uint64(0), []byte{0x90}, []byte{0x0f, 0x05, 0x03, 0x0f, 0x05, 0x0f, 0x05, 0x0f}, false)
	kinds := map[string]bool{}
	for _, k := range []string{KindNullPointer, KindWildPointer, KindNonCanonical, KindGeneralProtection, KindWriteReadOnly, KindExecNonExecutable,
		KindStackOverflow, KindMisaligned, KindBusErrorMappedFile, KindBusError, KindHardwareMemory, KindControlProtection, KindTagMismatch, KindIllegalInstruction, KindTrap,
		KindDivideByZero, KindArithmetic, KindBreakpoint, KindAbort, KindKilledBySignal, KindReraised, KindRseq, KindFailedSigreturn, KindUnknown} {
		kinds[k] = true
	}
	rules := DefaultRules()
	f.Fuzz(func(t *testing.T, signo uint8, code int8, addr uint64, text, seed []byte, a64 bool) {
		a := arch.AMD64
		if a64 {
			a = arch.ARM64
		}
		word := func(i int) uint64 {
			var b [8]byte
			for j := range b {
				if len(seed) > 0 {
					b[j] = seed[(i*8+j)%len(seed)]
				}
			}
			return binary.LittleEndian.Uint64(b[:])
		}
		regs := map[string]uint64{}
		for i, n := range a.RegNames {
			if word(i)&3 != 0 {
				regs[n] = word(i) >> uint(word(i)&31)
			}
		}
		if len(seed) > 2 && seed[2]&3 == 3 && a.Syscall.Nr != "" {
			regs[a.Syscall.Nr] = 15 // x86_64's rt_sigreturn
		}
		pc := regs[a.RegNames[a.PC]]
		var maps []Mapping
		for i := 0; i < 6; i++ {
			s := word(i+40) &^ 0xfff
			perms := []string{"r-x", "rw-", "r--", "---", "rwx", ""}[i]
			maps = append(maps, Mapping{Start: s, End: s + (word(i+50)&0xffff)*0x1000, Perms: perms, Name: []string{"/bin/x", "[stack]", "", "/lib/libc.so.6", "", "[heap]"}[i], StackOf: i % 2})
		}
		fns := strings.Fields(string(seed))
		fin := len(seed)%2 == 0
		c := int(code)
		if c == -128 {
			c = SI_KERNEL // si_code 0x80 does not fit the int8
		}
		fc := &Facts{Arch: a, Signo: int(signo), Code: c, Addr: addr, HasAddr: len(text)%2 == 0,
			SenderPID: int(word(3) & 0xffff), HasSender: len(seed)%3 == 0, PID: int(word(4) & 0xffff), TID: 7,
			Regs: regs, Mappings: maps, Functions: fns, Modules: fns, PythonFinalizing: &fin,
			Mem:       fakeMem{pc &^ 0xfff: seed, regs[a.RegNames[a.SP]]: seed, 0x1000: seed},
			Symbolize: func(uint64) string { return "f" }, AbortMessage: string(seed)}
		if in, err := disasm.Decode(a, text, pc); err == nil {
			fc.Inst = &in
		} else {
			fc.InstErr = err.Error()
		}
		if len(seed) > 1 && seed[1]&1 == 1 {
			fc.Rseq = &RseqArea{Addr: 0x1000 + word(5)&0x1f, TP: 0x1000, Offset: int64(word(5) & 0x1f)}
		}
		if len(seed) > 4 && seed[0]&1 == 1 {
			o := *fc
			o.Signo, o.Code, o.Original = SIGSEGV, SEGV_MAPERR, nil
			fc.Original = &o
		}
		d := Diagnose(fc, rules)
		if !kinds[d.Kind] || d.Summary == "" || strings.Count(d.Summary, "\n") > 0 && !strings.Contains(string(seed), "\n") {
			t.Fatalf("kind %q summary %q", d.Kind, d.Summary)
		}
		_, _ = AbortMessage(fc.Mem, 0x1000)
		_, _ = FindMessage(fc.Mem, []uint64{0x1000, pc, addr})
		_, _ = FindException(fc.Mem, []uint64{0x1000, 0x1020, 0x1050, pc, addr &^ 7})
		_, _ = ParseRules(seed, "fuzz")
	})
}

// FuzzParseRules checks the rules parser on arbitrary documents, seeded with the
// embedded file.
func FuzzParseRules(f *testing.F) {
	f.Add(embeddedRules)
	f.Add([]byte(`{"rules":[{"id":"a","title":"t","explanation":"e","match":{"functions":["*x*"]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseRules(data, "fuzz")
		if err == nil {
			fc := &Facts{Signo: SIGSEGV, Code: SEGV_MAPERR, Functions: []string{"PyOS_setsig"}}
			d := Classify(fc)
			_ = Match(rs, fc, &d)
		}
	})
}
