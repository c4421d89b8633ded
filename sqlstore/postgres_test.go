package sqlstore

import (
	"crypto/rand"
	"database/sql"
	"net/url"
	"strings"
	"testing"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/storetest"
)

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock numauth.Clock) storetest.Stores {
		return stores(mustOpen(t, newPostgresDSN(t), clock))
	})
}

// newPostgresDSN creates a schema with a random name and returns a DSN whose search_path is that schema,
// so that tests running in parallel, or runs following each other, never meet. The schema is dropped when
// tb ends. It skips tb unless NUMAUTH_TEST_POSTGRES is set.
func newPostgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := numauthtest.PostgresDSN(tb)
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
