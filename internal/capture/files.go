package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
)

// What each open file descriptor of a process is, for the COREDIG files note
// (corewriter.NT_COREDIG_FILES): the target of /proc/PID/fd/N (a path, "pipe:[ino]",
// "socket:[ino]", "anon_inode:[eventfd]"); a pipe's end from the access mode in
// /proc/PID/fdinfo/N ("flags:", octal, O_ACCMODE 3: O_RDONLY the read end, O_WRONLY the
// write end); a socket's protocol, addresses and state from the process's network
// namespace, /proc/PID/net/{tcp,tcp6,udp,udp6,unix}, found by inode (proc(5);
// linux/net/ipv4/tcp_ipv4.c get_tcp4_sock prints an address as the __be32 in host
// order with %08X and a port with %04X after ntohs; tcp6 prints the four 32-bit words
// of the address so; linux/include/net/tcp_states.h numbers the states; af_unix.c
// unix_seq_show prints "Num RefCount Protocol Flags Type St Inode Path").
//
// Bounds: maxFiles descriptors, maxSocketLines lines of each net file, a description
// at most maxFileDesc bytes, the note at most maxFilesNote bytes.

const (
	maxFiles       = 1 << 14
	maxSocketLines = 1 << 20
	maxFileDesc    = 512
	maxFilesNote   = 1 << 20
)

// tcpStates are linux/include/net/tcp_states.h's states, by number.
var tcpStates = map[uint64]string{1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1",
	5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
	12: "NEW_SYN_RECV"}

// unixTypes are the socket types of /proc/net/unix's Type column.
var unixTypes = map[uint64]string{1: "stream", 2: "dgram", 5: "seqpacket"}

// describeFiles returns the COREDIG files note's descriptor for pid, nil when its
// descriptors cannot be listed.
func describeFiles(pid int, order binary.ByteOrder) []byte {
	dir := fmt.Sprintf("/proc/%d", pid)
	ents, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return nil
	}
	var fds []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n >= 0 {
			fds = append(fds, n)
		}
	}
	sort.Ints(fds)
	if len(fds) > maxFiles {
		fds = fds[:maxFiles]
	}
	targets := map[int]string{}
	sockets := map[uint64]string{}
	for _, fd := range fds {
		t, err := os.Readlink(fmt.Sprintf("%s/fd/%d", dir, fd))
		if err != nil {
			continue
		}
		targets[fd] = t
		if ino, ok := inode(t, "socket:["); ok {
			sockets[ino] = ""
		}
	}
	if len(sockets) > 0 {
		for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
			inetSockets(dir+"/net/"+proto, strings.ToUpper(proto[:3]), order, sockets)
		}
		unixSockets(dir+"/net/unix", sockets)
	}
	descs := make([]fileDesc, 0, len(fds))
	for _, fd := range fds {
		t, ok := targets[fd]
		if !ok {
			continue
		}
		d := t
		if ino, ok := inode(t, "socket:["); ok && sockets[ino] != "" {
			d += " " + sockets[ino]
		} else if strings.HasPrefix(t, "pipe:[") {
			b, err := readSmall(fmt.Sprintf("%s/fdinfo/%d", dir, fd))
			mode := -1
			if err == nil {
				mode = accessMode(b)
			}
			switch mode {
			case 0:
				d += " (read end)"
			case 1:
				d += " (write end)"
			}
		}
		descs = append(descs, fileDesc{fd, d})
	}
	return filesNote(descs)
}

// fileDesc is one descriptor and what it is.
type fileDesc struct {
	fd   int
	desc string
}

// filesNote lays out the COREDIG files note: a line "N\tdescription" for each
// descriptor, in the order given, the description cut to maxFileDesc bytes with its
// newlines and tabs made spaces (its other bytes are kept as they are: a path is bytes,
// not necessarily UTF-8). A descriptor with a negative number or an empty description
// is left out; the note stops before maxFilesNote bytes.
func filesNote(descs []fileDesc) []byte {
	var b []byte
	for _, f := range descs {
		d := f.desc
		if f.fd < 0 || d == "" {
			continue
		}
		if len(d) > maxFileDesc {
			d = d[:maxFileDesc]
		}
		line := strconv.AppendInt(nil, int64(f.fd), 10)
		line = append(line, '\t')
		for i := 0; i < len(d); i++ {
			c := d[i]
			if c == '\n' || c == '\t' {
				c = ' '
			}
			line = append(line, c)
		}
		line = append(line, '\n')
		if len(b)+len(line) > maxFilesNote {
			break
		}
		b = append(b, line...)
	}
	return b
}

// inode parses "socket:[123]" (with prefix "socket:[").
func inode(target, prefix string) (uint64, bool) {
	if !strings.HasPrefix(target, prefix) || !strings.HasSuffix(target, "]") {
		return 0, false
	}
	v, err := strconv.ParseUint(target[len(prefix):len(target)-1], 10, 64)
	return v, err == nil
}

// accessMode is the O_ACCMODE bits of the flags in the text of a descriptor's fdinfo
// ("flags:\t0100002", octal), -1 when unknown.
func accessMode(fdinfo []byte) int {
	for _, line := range strings.Split(string(fdinfo), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			f, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			if err != nil {
				return -1
			}
			return int(f & 3)
		}
	}
	return -1
}

// inetSockets describes the sockets of want found in a /proc/net/{tcp,udp}{,6} file:
// "TCP 127.0.0.1:40000 -> 127.0.0.1:8080 (ESTABLISHED)".
func inetSockets(path, proto string, order binary.ByteOrder, want map[uint64]string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	scanInet(f, proto, order, want)
}

// scanInet is inetSockets over the text of the file.
func scanInet(r io.Reader, proto string, order binary.ByteOrder, want map[uint64]string) {
	sc := bufio.NewScanner(r)
	for n := 0; sc.Scan() && n < maxSocketLines; n++ {
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 || n == 0 {
			continue
		}
		ino, err := strconv.ParseUint(fs[9], 10, 64)
		if err != nil {
			continue
		}
		if _, ok := want[ino]; !ok || want[ino] != "" {
			continue
		}
		local, ok1 := inetAddr(fs[1], order)
		remote, ok2 := inetAddr(fs[2], order)
		st, err := strconv.ParseUint(fs[3], 16, 8)
		if !ok1 || !ok2 || err != nil {
			continue
		}
		d := proto + " " + local
		if !strings.HasSuffix(remote, ":0") {
			d += " -> " + remote
		}
		if proto == "TCP" {
			if name, ok := tcpStates[st]; ok {
				d += " (" + name + ")"
			}
		}
		want[ino] = d
	}
}

// inetAddr decodes "0100007F:1F90" or a tcp6 address: the words of the address in host
// order, then the port.
func inetAddr(s string, order binary.ByteOrder) (string, bool) {
	h, p, ok := strings.Cut(s, ":")
	if !ok || (len(h) != 8 && len(h) != 32) {
		return "", false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return "", false
	}
	ip := make(net.IP, len(h)/2)
	for i := 0; i < len(h); i += 8 {
		w, err := strconv.ParseUint(h[i:i+8], 16, 32)
		if err != nil {
			return "", false
		}
		order.PutUint32(ip[i/2:], uint32(w))
	}
	return net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10)), true
}

// unixSockets describes the sockets of want found in /proc/net/unix: "unix stream
// /run/x.sock", "unix stream (unnamed)".
func unixSockets(path string, want map[uint64]string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	scanUnix(f, want)
}

// scanUnix is unixSockets over the text of the file.
func scanUnix(r io.Reader, want map[uint64]string) {
	sc := bufio.NewScanner(r)
	for n := 0; sc.Scan() && n < maxSocketLines; n++ {
		fs := strings.Fields(sc.Text())
		if len(fs) < 7 || n == 0 {
			continue
		}
		ino, err := strconv.ParseUint(fs[6], 10, 64)
		if err != nil {
			continue
		}
		if _, ok := want[ino]; !ok || want[ino] != "" {
			continue
		}
		d := "unix"
		if t, err := strconv.ParseUint(fs[4], 16, 16); err == nil && unixTypes[t] != "" {
			d += " " + unixTypes[t]
		}
		if len(fs) >= 8 {
			d += " " + fs[7]
		} else {
			d += " (unnamed)"
		}
		want[ino] = d
	}
}
