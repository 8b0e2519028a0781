package arch

import (
	"encoding/binary"
	"testing"
)

// FuzzMachineCode feeds arbitrary bytes to every architecture's decoders of saved
// machine contexts, signal frames, PLT stubs, prologues and call instructions: they must
// never panic, and what they return must lie inside what they were given. Seeds: an
// x86_64 sigcontext, x86_64 and aarch64 PLT stubs, a call, ARM prologues, a riscv64 PLT
// stub and a ppc64le rt_sigframe.
func FuzzMachineCode(f *testing.F) {
	mc := make([]byte, 288+64)
	binary.LittleEndian.PutUint64(mc[160:], 14)
	binary.LittleEndian.PutUint64(mc[176:], 0x60)
	binary.LittleEndian.PutUint32(mc[288:], 0x45535201)
	binary.LittleEndian.PutUint32(mc[292:], 16)
	binary.LittleEndian.PutUint64(mc[296:], 0x25<<26|0x0f)
	f.Add(mc, uint8(11))
	f.Add([]byte{0xf3, 0x0f, 0x1e, 0xfa, 0xf2, 0xff, 0x25, 0xe2, 0x2f, 0, 0, 0x0f, 0x1f, 0x44, 0, 0}, uint8(6))
	f.Add([]byte{0x90, 0, 0, 0x90, 0x11, 0xc2, 0x47, 0xf9, 0x10, 0x02, 0x3e, 0x91, 0x20, 0x02, 0x1f, 0xd6}, uint8(11))
	f.Add([]byte{0xe8, 1, 2, 3, 4}, uint8(5))
	// ARM prologues: Thumb-2 push {r7, lr}; sub sp, #144 and A32 push {r4, fp, lr}; sub sp, sp, #1024.
	f.Add([]byte{0x80, 0xb5, 0xa4, 0xb0, 0x2d, 0xe9, 0xf0, 0x4f}, uint8(6))
	f.Add([]byte{0x10, 0x48, 0x2d, 0xe9, 0x01, 0xdb, 0x4d, 0xe2}, uint8(6))
	// riscv64: pthread_create@plt of a gcc 12 PIE (see TestRISCV64PLTStubs) after a
	// 32-byte PLT header of zeros.
	rv := make([]byte, 32)
	for _, i := range []uint32{0x00002e17, 0x9f8e3e03, 0x000e0367, 0x00000013} {
		rv = binary.LittleEndian.AppendUint32(rv, i)
	}
	f.Add(rv, uint8(11))
	// ppc64le: an rt_sigframe 128 bytes above the stack pointer (the fuzzed bytes start at
	// it) whose pinfo and puc point at its info and its ucontext, as Linux 4.x and later
	// without transactional memory lay it out, with gp_regs' trap 0x300 and dar 0x60 at
	// the start (the fuzzed bytes are also read as a sigcontext).
	const base = 0x10000
	ppc := make([]byte, 128+1744+16+128)
	binary.LittleEndian.PutUint64(ppc[128+1744:], base+128+1744+16)
	binary.LittleEndian.PutUint64(ppc[128+1744+8:], base+128)
	binary.LittleEndian.PutUint64(ppc[64+40*8:], 0x300)
	binary.LittleEndian.PutUint64(ppc[64+41*8:], 0x60)
	f.Add(ppc, uint8(11))
	f.Fuzz(func(t *testing.T, b []byte, signo uint8) {
		read := func(p []byte, addr uint64) error {
			if addr < base || addr-base > uint64(len(b)) || uint64(len(p)) > uint64(len(b))-(addr-base) {
				return errUnmapped
			}
			copy(p, b[addr-base:])
			return nil
		}
		for _, a := range All {
			for _, l := range a.Signals {
				if l.SigInfoAt != nil {
					if info, ok := l.SigInfoAt(read, base); ok && (info <= base || info > base+uint64(len(b))) {
						t.Fatalf("%s: siginfo at %#x, outside the %d bytes at %#x", a.Name, info, len(b), base)
					}
				}
				if l.Fault == nil {
					continue
				}
				if fault, ok := l.Fault(read, base, int(signo), func(uint64) bool { return signo&1 == 0 }); ok && (fault.Signo <= 0 || fault.Signo > 64) {
					t.Fatalf("%s: fault with signal %d", a.Name, fault.Signo)
				}
			}
			for _, sec := range []string{".plt", ".plt.sec", ".plt.got"} {
				if a.PLT.Stubs == nil {
					break
				}
				a.PLT.Stubs(sec, 8, b, base, base, func(stub, size, slot uint64) {
					if stub < base || stub+size > base+uint64(len(b)) {
						t.Fatalf("%s %s: stub %#x+%d outside the section", a.Name, sec, stub, size)
					}
				})
			}
			a.CallBefore(b)
			a.SignalFrameAt(b)
			if a.ReadPrologue != nil {
				for _, mode := range []bool{false, true} {
					if p, ok := a.ReadPrologue(b, mode); ok && p.Size > uint64(len(b))<<32 {
						t.Fatalf("%s: frame of %d bytes from %d bytes of code", a.Name, p.Size, len(b))
					} else if ok {
						for _, s := range p.Saved {
							if s.Reg < 0 || s.Reg >= len(a.RegNames) || s.Off >= 0 || uint64(-s.Off) > p.Size {
								t.Fatalf("%s: save %+v outside the frame of %d bytes", a.Name, s, p.Size)
							}
						}
					}
				}
			}
		}
	})
}

type errString string

func (e errString) Error() string { return string(e) }

const errUnmapped = errString("unmapped")
