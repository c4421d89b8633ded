package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAdminAccountList: an operator who lost an account id finds it by name, in a table or as JSON.
func TestAdminAccountList(t *testing.T) {
	s := mustRunMain(t, "")
	acme := s.mustCreateAccount(t, "acme")
	globex := s.mustCreateAccount(t, "globex")
	s.admin(t, "account", "suspend", "--account", globex.ID)

	t.Run("JSONIsAnArrayOfEveryAccount", func(t *testing.T) {
		out, err := s.cli(t, "admin", "account", "list", "-o", "json")
		if err != nil {
			t.Fatalf("account list: %v\n%s", err, out)
		}
		var rows []map[string]any
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		if err := dec.Decode(&rows); err != nil {
			t.Fatalf("output %q is not a JSON array: %v", out, err)
		}
		got := map[string]map[string]any{}
		for _, r := range rows {
			got[jsonID(t, r["AccountId"])] = r
		}
		if len(rows) != 2 {
			t.Errorf("got %d accounts, want 2 (numauth's own account 0 is not listed):\n%s", len(rows), out)
		}
		for id, want := range map[string][2]string{acme.ID: {"acme", "active"}, globex.ID: {"globex", "suspended"}} {
			r := got[id]
			if r == nil {
				t.Errorf("account %s (%s) is not listed:\n%s", id, want[0], out)
				continue
			}
			if r["Name"] != want[0] || r["State"] != want[1] {
				t.Errorf("account %s: got Name %v State %v, want %s %s", id, r["Name"], r["State"], want[0], want[1])
			}
			if _, err := time.Parse(time.RFC3339, r["CreatedAt"].(string)); err != nil {
				t.Errorf("account %s: CreatedAt %v is not RFC 3339", id, r["CreatedAt"])
			}
		}
	})
	t.Run("NameFindsTheLostID", func(t *testing.T) {
		out, err := s.cli(t, "admin", "account", "list", "--name", "acme")
		if err != nil {
			t.Fatalf("account list: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "ACCOUNTID") {
			t.Fatalf("got %q, want a header and one row", out)
		}
		if f := strings.Fields(lines[1]); len(f) != 4 || f[0] != acme.ID || f[1] != "acme" || f[2] != "active" {
			t.Errorf("row %q, want %s acme active CREATED", lines[1], acme.ID)
		}
	})
	t.Run("NoMatchIsAnEmptyArray", func(t *testing.T) {
		out, err := s.cli(t, "admin", "account", "list", "--name", "initech", "-o", "json")
		if err != nil || strings.TrimSpace(out) != "[]" {
			t.Errorf("got %q, %v, want []", out, err)
		}
	})
}
