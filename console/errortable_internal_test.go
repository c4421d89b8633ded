package console

import (
	"testing"

	"github.com/numauth/numauth"
)

// TestErrorTable checks every key of the pages' table against numauth's reasons and this package's own,
// and that it has the internal entry that answers what matches nothing else.
func TestErrorTable(t *testing.T) {
	if err := problems.Check(reasonForgery, reasonSession, reasonNoCode); err != nil {
		t.Error(err)
	}
	if _, ok := problems[numauth.ErrorKey{Kind: numauth.EINTERNAL}]; !ok {
		t.Error("no entry for kind internal")
	}
}
