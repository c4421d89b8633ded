package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

func TestAdminCLI(t *testing.T) {
	s := mustRunMain(t, "")

	t.Run("table output by default", func(t *testing.T) {
		out, err := s.cli(t, "admin", "account", "create", "--name", "acme")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"AccountId", "AccessKeyId", "AccessKeySecret", "LTAI"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.HasPrefix(strings.TrimSpace(out), "{") {
			t.Errorf("default output is JSON, want a table:\n%s", out)
		}
	})
	t.Run("every command answers one JSON object with -o json", func(t *testing.T) {
		a := s.mustCreateAccount(t, "json")
		key := s.admin(t, "accesskey", "create", "--account", a.ID)
		policy := mustWriteFile(t, "p.json", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"dypns:*","Resource":"*"}]}`)
		user := s.admin(t, "ram-user", "create", "--account", a.ID, "--name", "ops", "--policy-file", policy)
		scheme := s.admin(t, "scheme", "create", "--account", a.ID, "--name", "n", "--company", "c", "--purpose", "p", "--contract")
		for name, got := range map[string]map[string]any{
			"accesskey create": key, "ram-user create": user, "scheme create": scheme,
			"account suspend":   s.admin(t, "account", "suspend", "--account", a.ID),
			"account resume":    s.admin(t, "account", "resume", "--account", a.ID),
			"subscription set":  s.admin(t, "subscription", "set", "--account", a.ID, "--product", "cams", "--enabled=false"),
			"accesskey disable": s.admin(t, "accesskey", "disable", "--account", a.ID, "--access-key-id", key["AccessKeyId"].(string)),
			"quota set":         s.admin(t, "quota", "set", "--account", a.ID, "--action", "Dypnsapi.GetAuthorizationUrl", "--qps", "5"),
			"scheme reject":     s.admin(t, "scheme", "reject", "--account", a.ID, "--scheme", jsonID(t, scheme["SchemeId"])),
		} {
			if len(got) == 0 {
				t.Errorf("%s: empty object", name)
			}
		}
		for _, k := range []string{"UserId", "AccessKeyId", "AccessKeySecret"} {
			if user[k] == nil {
				t.Errorf("ram-user create lacks %s: %v", k, user)
			}
		}
		if scheme["SchemeId"] == nil || scheme["Type"] != "contract" || scheme["State"] != "pending" {
			t.Errorf("scheme create: %v", scheme)
		}
	})
	errorRows := []struct {
		name string
		args []string
		want string
	}{
		{"unknown account", []string{"admin", "account", "suspend", "--account", "1234"}, "not found"},
		{"unknown product", []string{"admin", "subscription", "set", "--account", "1234", "--product", "sms", "--enabled=true"}, "unknown product"},
		{"missing flag", []string{"admin", "scheme", "create", "--account", "1234", "--name", "x"}, "company"},
		{"policy with a Condition", []string{"admin", "ram-user", "create", "--account", "1234", "--name", "x", "--policy-file",
			mustWriteFile(t, "c.json", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}]}`)}, "Condition"},
		{"bad output format", []string{"admin", "account", "create", "--name", "x", "-o", "yaml"}, "table or json"},
	}
	for _, row := range errorRows {
		t.Run(row.name+" is refused", func(t *testing.T) {
			out, err := s.cli(t, row.args...)
			if err == nil || !strings.Contains(err.Error()+out, row.want) {
				t.Errorf("got %v\n%s\nwant an error mentioning %q", err, out, row.want)
			}
		})
	}
}

func TestMigrate(t *testing.T) {
	s := &testServer{store: StoreConfig{DataDir: t.TempDir()}}
	out, err := s.cli(t, "migrate")
	if err != nil || !strings.Contains(out, "sqlite schema at version") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out2, err := s.cli(t, "migrate"); err != nil || out2 != out {
		t.Errorf("second migrate: %v\n%s", err, out2)
	}
}

// TestInternalErrorHidesTheCause: when the database fails, the client gets Dypnsapi's InternalError, and
// only the log says why.
func TestInternalErrorHidesTheCause(t *testing.T) {
	f := newGetAuthorizationURLFixture(t, "")
	// The server's workers write while the test drops the table: wait for their lock, as the store's own
	// connections do (without a busy timeout SQLite refuses at once, "database is locked").
	db, err := sql.Open("sqlite", filepath.Join(f.s.store.DataDir, "numauth.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP TABLE authorization_requests`); err != nil {
		t.Fatal(err)
	}
	got := callV1(t, f.s.Addr(), f.a, map[string]string{"PhoneNo": "13900000000", "SchemeId": f.approved}, false)
	if got.Status != 500 || got.Code != "InternalError" {
		t.Fatalf("got %d %s", got.Status, got.Code)
	}
	if strings.Contains(got.Raw, "authorization_requests") || strings.Contains(got.Raw, "table") {
		t.Errorf("the client sees the cause: %s", got.Raw)
	}
	if !strings.Contains(f.s.logs.String(), "authorization_requests") {
		t.Error("the log does not say what failed")
	}
}
