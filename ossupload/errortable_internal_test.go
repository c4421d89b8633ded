package ossupload

import (
	"testing"

	"github.com/numauth/numauth"
)

// TestErrorTable checks every key of OSS's table, and that it has the internal entry that answers what
// matches nothing else.
func TestErrorTable(t *testing.T) {
	if err := errorTable.Check(); err != nil {
		t.Error(err)
	}
	if _, ok := errorTable[numauth.ErrorKey{Kind: numauth.EINTERNAL}]; !ok {
		t.Error("no entry for kind internal")
	}
}
