package numauth_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImportsNoInfrastructure keeps the root package a domain package: no driver, no HTTP, no Redis,
// not even through a dependency (as Tailscale's tstest/deptest does).
func TestDomainImportsNoInfrastructure(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{"net/http", "database/sql", "github.com/jackc", "github.com/redis", "modernc.org/sqlite", "github.com/mattn"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("package numauth depends on %s", dep)
			}
		}
	}
}
