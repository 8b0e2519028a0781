package dwarfsym

import (
	"encoding/binary"
	"strings"
	"testing"
)

// lineHeader builds a 32-bit DWARF 5 line program header: one directory format
// (DW_LNCT_path as form), dirs directories of body bytes each, and a file list with no
// formats and files entries.
func lineHeader(version uint16, form uint64, dirs uint64, body []byte, files uint64) []byte {
	le := binary.LittleEndian
	var h []byte
	h = append(h, 1, 1, 1, 0xfb, 14, 13) // min_inst_length .. opcode_base
	h = append(h, make([]byte, 12)...)   // standard_opcode_lengths
	h = append(h, 1, 1, byte(form))      // one directory format: (DW_LNCT_path, form)
	h = append(h, byte(dirs))            // directories_count (ULEB, < 128)
	for i := uint64(0); i < dirs; i++ {
		h = append(h, body...)
	}
	h = append(h, 0, byte(files)) // no file formats; files_count
	var b []byte
	b = le.AppendUint32(b, uint32(2+2+4+len(h)))
	b = le.AppendUint16(b, version)
	b = append(b, 8, 0) // address_size, segment_selector_size
	b = le.AppendUint32(b, uint32(len(h)))
	return append(b, h...)
}

// The checks that keep debug/dwarf from allocating a forged count: a header whose counts
// fit passes, and every way of not fitting says so.
func TestCheckLineHeader(t *testing.T) {
	le := binary.LittleEndian
	for _, c := range []struct {
		name string
		b    []byte
		want string // "" for no error
	}{
		{"valid", lineHeader(5, DW_FORM_data4, 2, []byte{1, 2, 3, 4}, 0), ""},
		{"DWARF 4 is not checked", lineHeader(4, DW_FORM_data4, 2, []byte{1, 2, 3, 4}, 0), ""},
		{"forged directory count", lineHeader(5, DW_FORM_data4, 100, nil, 0), "directory count 100 does not fit"},
		{"files without formats", lineHeader(5, DW_FORM_data4, 1, []byte{1, 2, 3, 4}, 3), "file name count 3 does not fit"},
		{"entries past the header", append(lineHeader(5, DW_FORM_block, 1, []byte{0x7f}, 0), make([]byte, 200)...), "directory entries run past the header"},
		{"entries past the section", lineHeader(5, DW_FORM_block, 1, []byte{0x7f}, 0), "truncated"},
		// debug/dwarf reads no byte of a DW_FORM_block2 value, so what it takes for the
		// file count is elsewhere (the fuzz campaign's 127 GB allocation).
		{"a form debug/dwarf skips", lineHeader(5, DW_FORM_block2, 1, []byte{2, 0, 0xff, 0xff}, 0), "form 0x3 in a line header entry format"},
		{"unknown form", lineHeader(5, 0x21, 1, []byte{0}, 0), "form 0x21 in a line header entry format"},
		{"cut in the version", lineHeader(5, DW_FORM_data4, 2, []byte{1, 2, 3, 4}, 0)[:5], "truncated"},
		{"cut in the header length", lineHeader(5, DW_FORM_data4, 2, []byte{1, 2, 3, 4}, 0)[:9], "header length 0x0 runs past the section"},
		{"offset past the end", nil, "past the section end"},
	} {
		err := checkLineHeader(c.b, 0, le)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}
