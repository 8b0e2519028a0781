//go:build linux || darwin

package diskcache

import (
	"os"
	"syscall"
)

// allocated is the disk space a file takes: its blocks.
func allocated(st os.FileInfo) int64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Blocks * 512
	}
	return st.Size()
}
