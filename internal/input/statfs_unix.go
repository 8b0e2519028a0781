//go:build linux || darwin

package input

import "syscall"

// freeSpace returns the bytes available to this user on the filesystem
// holding dir, or -1 when unknown.
func freeSpace(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1
	}
	free := uint64(st.Bavail) * uint64(st.Bsize)
	if free > 1<<62 {
		return 1 << 62
	}
	return int64(free)
}
