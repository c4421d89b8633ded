package submail

import (
	"testing"

	"github.com/numauth/numauth"
)

// TestErrorTables checks every key of both tables against numauth's reasons and this package's own, and
// that each has the internal entry that answers what matches nothing else.
func TestErrorTables(t *testing.T) {
	for name, p := range map[string]*protocol{"vfmobile": vfmobile, "ocl": ocl} {
		if err := p.errors.Check(reasonAppKey, reasonAccount, reasonIPAllow, reasonCarrier); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, ok := p.errors[numauth.ErrorKey{Kind: numauth.EINTERNAL}]; !ok {
			t.Errorf("%s: no entry for kind internal", name)
		}
	}
}
