//go:build !linux && !darwin

package input

// freeSpace is unknown on this system; only Options.MaxSize bounds the
// decompressed size.
func freeSpace(dir string) int64 { return -1 }
