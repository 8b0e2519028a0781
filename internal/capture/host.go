package capture

import (
	"runtime"

	"github.com/coredig/coredig/internal/arch"
)

// hostArch is the architecture value of the machine coredig runs on, nil when there is
// none. GOARCH names it; this is the one place an architecture is chosen by name.
func hostArch() *arch.Arch {
	switch runtime.GOARCH {
	case "amd64":
		return arch.AMD64
	case "arm64":
		return arch.ARM64
	}
	return nil
}
