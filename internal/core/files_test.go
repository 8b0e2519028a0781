package core

import (
	"bytes"
	"strings"
	"testing"
)

// The COREDIG files note of a snapshot: each descriptor's description, a malformed line
// skipped with a warning.
func TestFilesNote(t *testing.T) {
	b := coredigNotesSeed(t)
	c, err := NewCore(bytes.NewReader(b), int64(len(b)), "seed")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Descriptors) != 2 || c.Descriptors[0] != "/dev/null" || c.Descriptors[3] != "pipe:[42] (read end)" {
		t.Errorf("descriptors %v", c.Descriptors)
	}
	if !strings.Contains(strings.Join(c.Warnings, "\n"), "1 malformed lines skipped") {
		t.Errorf("warnings %q lack the malformed line", c.Warnings)
	}
	if ff := c.FirstFault; ff == nil || ff.SigInfo == nil || ff.TID != 7 {
		t.Errorf("first fault %+v", ff)
	}
}
