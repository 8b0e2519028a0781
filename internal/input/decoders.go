package input

import (
	"io"

	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

func newLZ4(r io.Reader) (io.Reader, func(), error) {
	return lz4.NewReader(r), func() {}, nil
}

func newXZ(r io.Reader) (io.Reader, func(), error) {
	d, err := xz.NewReader(r)
	if err != nil {
		return nil, nil, err
	}
	return d, func() {}, nil
}
