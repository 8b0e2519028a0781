package owner

import "testing"

func TestMayBePackaged(t *testing.T) {
	for path, want := range map[string]bool{
		"/usr/lib/x86_64-linux-gnu/libc.so.6":         true,
		"/lib/x86_64-linux-gnu/libc.so.6":             true,
		"/opt/app/lib/libx.so":                        true,
		"/usr/local/lib/libx.so":                      false,
		"/root/.pyenv/versions/3.12.1/bin/python3.12": false,
		"/tmp/crasher":                                false,
		"/home/u/app/a.out":                           false,
		"/usr":                                        false,
	} {
		if got := mayBePackaged(path); got != want {
			t.Errorf("mayBePackaged(%q) = %v, want %v", path, got, want)
		}
	}
}
