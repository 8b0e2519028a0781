package capture

import (
	"runtime"

	"github.com/coredig/coredig/internal/arch"
)

// hostArch is the architecture value of the machine coredig runs on, nil when coredig
// cannot capture there (an architecture whose register-set notes it does not know).
func hostArch() *arch.Arch {
	if a := arch.ByGOARCH(runtime.GOARCH); a != nil && a.CoreRegSets != nil {
		return a
	}
	return nil
}
