package main

import (
	"encoding/json"
	"testing"
)

func TestAdminPrune(t *testing.T) {
	s := mustRunMain(t, "")
	s.mustCreateAccount(t, "acme")
	for _, args := range [][]string{
		{"admin", "prune", "--now", "2099-01-01T00:00:00Z", "--dry-run", "-o", "json"},
		{"admin", "prune", "--retention", "messages=1h,grants=1h", "-o", "json"},
	} {
		out, err := s.cli(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var rows []struct {
			Kind    string
			Removed *int64
		}
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if len(rows) != 7 {
			t.Errorf("%v: %d kinds, want 7:\n%s", args, len(rows), out)
		}
		for _, r := range rows {
			if r.Kind == "" || r.Removed == nil {
				t.Errorf("%v: row without Kind or Removed:\n%s", args, out)
			}
		}
	}
	for _, args := range [][]string{
		{"admin", "prune", "--now", "tomorrow"},
		{"admin", "prune", "--retention", "ledger=1h"},
		{"admin", "prune", "--retention", "messages=90d"},
	} {
		if out, err := s.cli(t, args...); err == nil {
			t.Errorf("%v: got no error, want one:\n%s", args, out)
		}
	}
}
