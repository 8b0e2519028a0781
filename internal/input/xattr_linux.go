package input

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// XattrPrefix is the prefix of the extended attributes systemd-coredump
// sets on the cores it stores (src/coredump/coredump.c, xattr_meta):
// user.coredump.pid, .uid, .gid, .signal, .timestamp, .rlimit,
// .hostname, .comm, .exe.
const XattrPrefix = "user.coredump."

// Bounds on extended attributes read: the kernel's XATTR_LIST_MAX and
// XATTR_SIZE_MAX are both 64 KiB (include/uapi/linux/limits.h).
const (
	maxXattrList  = 64 << 10
	maxXattrValue = 64 << 10
	maxXattrs     = 256
)

// CoredumpXattrs returns the user.coredump.* extended attributes of the
// file at path, keyed by the name after the prefix ("pid", "exe", ...),
// with values as stored (systemd writes them as text without a NUL). It
// returns nil, nil when there are none or the filesystem has no extended
// attributes.
func CoredumpXattrs(path string) (map[string]string, error) {
	names, err := listXattr(path)
	if err != nil {
		if errors.Is(err, syscall.ENOTSUP) {
			return nil, nil
		}
		return nil, fmt.Errorf("input: listing extended attributes of %s: %w", path, err)
	}
	var out map[string]string
	count := 0
	for _, name := range bytes.Split(names, []byte{0}) {
		n := string(name)
		if !strings.HasPrefix(n, XattrPrefix) || len(n) == len(XattrPrefix) {
			continue
		}
		count++
		if count > maxXattrs {
			return out, fmt.Errorf("input: %s: more than %d user.coredump attributes, rest ignored", path, maxXattrs)
		}
		v, err := getXattr(path, n)
		if errors.Is(err, syscall.ENODATA) {
			continue // removed since it was listed
		}
		if err != nil {
			return out, fmt.Errorf("input: reading %s of %s: %w", n, path, err)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[n[len(XattrPrefix):]] = strings.TrimRight(string(v), "\x00")
	}
	return out, nil
}

// listXattr returns the NUL-separated attribute names, retrying if the
// list grows between the size query and the read.
func listXattr(path string) ([]byte, error) {
	for range 3 {
		sz, err := syscall.Listxattr(path, nil)
		if err != nil {
			return nil, err
		}
		if sz == 0 {
			return nil, nil
		}
		if sz > maxXattrList {
			return nil, fmt.Errorf("attribute list of %d bytes exceeds %d", sz, maxXattrList)
		}
		buf := make([]byte, sz)
		n, err := syscall.Listxattr(path, buf)
		if errors.Is(err, syscall.ERANGE) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	return nil, syscall.ERANGE
}

func getXattr(path, name string) ([]byte, error) {
	for range 3 {
		sz, err := syscall.Getxattr(path, name, nil)
		if err != nil {
			return nil, err
		}
		if sz > maxXattrValue {
			return nil, fmt.Errorf("value of %d bytes exceeds %d", sz, maxXattrValue)
		}
		if sz == 0 {
			return nil, nil
		}
		buf := make([]byte, sz)
		n, err := syscall.Getxattr(path, name, buf)
		if errors.Is(err, syscall.ERANGE) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	return nil, syscall.ERANGE
}
