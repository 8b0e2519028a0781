//go:build !linux

package input

// XattrPrefix is the prefix of the extended attributes systemd-coredump
// sets on the cores it stores.
const XattrPrefix = "user.coredump."

// CoredumpXattrs is not implemented off Linux (systemd-coredump is Linux
// only); it returns nil, nil.
func CoredumpXattrs(path string) (map[string]string, error) { return nil, nil }
