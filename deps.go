package coredig

import (
	_ "github.com/ianlancetaylor/demangle"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/pierrec/lz4/v4"
	_ "github.com/spf13/cobra"
	_ "github.com/ulikunitz/xz"
	_ "golang.org/x/arch/x86/x86asm"
	_ "golang.org/x/arch/arm64/arm64asm"
)
