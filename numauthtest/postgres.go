package numauthtest

import (
	"crypto/rand"
	"database/sql"
	"net/url"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// NewPostgresSchema creates a schema with a random name and returns a DSN whose search_path is that schema,
// so that tests running in parallel, or runs following each other, never meet. The schema is dropped when
// tb ends. It skips tb unless NUMAUTH_TEST_POSTGRES is set.
func NewPostgresSchema(tb testing.TB) string {
	tb.Helper()
	dsn := PostgresDSN(tb)
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("NUMAUTH_TEST_POSTGRES: want a postgres:// URL: %v", err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	schema := "numauth_test_" + strings.ToLower(rand.Text())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		tb.Fatalf("create test schema: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("drop test schema: %v", err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
