package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The contract: addresses are hex strings, and absent facts are omitted, never a fake 0.
func TestJSONContract(t *testing.T) {
	r := &Report{Schema: SchemaVersion, Warnings: []string{},
		Signal:  &Signal{Number: 6, Name: "SIGABRT", Code: -6, CodeName: "SI_TKILL", Source: "NT_SIGINFO"},
		Threads: []Thread{{TID: 7, Registers: map[string]Hex{"rip": 0x7f3a00001000}, Frames: []Frame{{PC: 0xffffffffffffffff, FoundBy: "context"}}}}}
	var b bytes.Buffer
	if err := JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`"schema": "coredig/1"`, `"rip": "0x7f3a00001000"`, `"pc": "0xffffffffffffffff"`, `"warnings": []`, `"code_name": "SI_TKILL"`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %s:\n%s", want, out)
		}
	}
	// No fault address, sender, module, function or python for facts nobody set.
	for _, absent := range []string{`"address"`, `"sender_pid"`, `"module"`, `"function"`, `"python"`, `"crashed_tid"`, `"diagnosis"`} {
		if strings.Contains(out, absent) {
			t.Errorf("JSON has %s though it is unknown:\n%s", absent, out)
		}
	}
	var back struct {
		Threads []struct {
			Frames []struct{ PC string }
		}
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Threads[0].Frames[0].PC != "0xffffffffffffffff" {
		t.Errorf("round trip: %v %+v", err, back)
	}
}
