//go:build !coredig_lz4xz

package input

import "io"

// The LZ4 and xz decoders need github.com/pierrec/lz4/v4 and
// github.com/ulikunitz/xz in go.mod, which the module does not require at
// the moment. Build with -tags coredig_lz4xz once it does (and then
// delete this file and the build tag of decoders_lz4xz.go).

// lz4xzBuilt says whether LZ4 and xz decoding is compiled in.
const lz4xzBuilt = false

func newLZ4(io.Reader) (io.Reader, func(), error) { return nil, nil, ErrNotBuilt }

func newXZ(io.Reader) (io.Reader, func(), error) { return nil, nil, ErrNotBuilt }
