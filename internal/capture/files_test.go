package capture

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// The descriptors of this test process: a pipe's two ends, a loopback TCP connection
// and its listener, a unix socket pair, with what /proc says of each.
func TestDescribeFiles(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(pair[0])
	defer syscall.Close(pair[1])
	note := string(describeFiles(os.Getpid(), binary.LittleEndian))
	ino := func(fd uintptr) uint64 {
		var st syscall.Stat_t
		if err := syscall.Fstat(int(fd), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	cf, err := conn.(*net.TCPConn).File() // a dup: the same socket under another fd
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	lf, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	for _, want := range []string{
		fmt.Sprintf("\n%d\tpipe:[%d] (read end)\n", r.Fd(), ino(r.Fd())),
		fmt.Sprintf("\n%d\tpipe:[%d] (write end)\n", w.Fd(), ino(w.Fd())),
		fmt.Sprintf("\tsocket:[%d] TCP %s -> %s (ESTABLISHED)\n", ino(cf.Fd()), conn.LocalAddr(), conn.RemoteAddr()),
		fmt.Sprintf("\tsocket:[%d] TCP %s (LISTEN)\n", ino(lf.Fd()), ln.Addr()),
		fmt.Sprintf("\n%d\tsocket:[%d] unix stream (unnamed)\n", pair[0], ino(uintptr(pair[0]))),
	} {
		if !strings.Contains("\n"+note, want) {
			t.Errorf("the note lacks %q:\n%s", want, note)
		}
	}
}

func TestInetAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"00000000:0000":                         "0.0.0.0:0",
		"00000000000000000000000001000000:0050": "[::1]:80",
		"0000000000000000FFFF00000100007F:01BB": "127.0.0.1:443", // v4-mapped, as Go prints it
	} {
		got, ok := inetAddr(in, binary.LittleEndian)
		if !ok || got != want {
			t.Errorf("inetAddr(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "0100007F", "0100007F:XYZ", "01007F:0050", "0100007G:0050"} {
		if got, ok := inetAddr(bad, binary.LittleEndian); ok {
			t.Errorf("inetAddr(%q) = %q, want failure", bad, got)
		}
	}
}
