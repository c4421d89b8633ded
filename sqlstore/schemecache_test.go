package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
)

// TestSchemeCacheSeesOtherProcesses: the authorization hot path caches schemes; a review made through
// another handle on the same database (the admin CLI, another replica) reaches it within a poll.
func TestSchemeCacheSeesOtherProcesses(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newDSN func(testing.TB) string) {
		ctx := context.Background()
		clock := numauthtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		dsn := newDSN(t)
		server := mustOpen(t, dsn, clock)
		if err := server.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		admin := mustOpen(t, dsn, clock)

		acct, _, err := NewAccountService(admin).CreateAccount(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		sc := &numauth.Scheme{AccountID: acct.ID, Name: "s", Company: "c", Type: numauth.SchemeNormal}
		if err := NewSchemeService(admin).CreateScheme(ctx, sc); err != nil {
			t.Fatal(err)
		}
		in := numauth.AuthorizationInput{AccountID: acct.ID, SchemeID: sc.ID, PhoneNumber: "13900000000"}
		auth := NewAuthorizationService(server, nil)
		create := func() error { _, err := auth.CreateAuthorizationRequest(ctx, in); return err }

		// The scheme may be unknown to the server until its poll sees the new revision; then pending.
		deadline := time.Now().Add(time.Second)
		for numauth.ErrorReasonOf(create()) != numauth.ReasonSchemeNotApproved {
			if time.Now().After(deadline) {
				t.Fatal("the new scheme did not reach the server within a second")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := NewSchemeService(admin).SetSchemeState(ctx, acct.ID, sc.ID, numauth.ReviewApproved); err != nil {
			t.Fatal(err)
		}
		deadline = time.Now().Add(time.Second)
		for create() != nil {
			if time.Now().After(deadline) {
				t.Fatal("the approval did not reach the server within a second")
			}
			time.Sleep(10 * time.Millisecond)
		}

		// In the same process a review takes effect at once.
		if err := NewSchemeService(server).SetSchemeState(ctx, acct.ID, sc.ID, numauth.ReviewRejected); err != nil {
			t.Fatal(err)
		}
		if err := create(); numauth.ErrorReasonOf(err) != numauth.ReasonSchemeNotApproved {
			t.Errorf("after rejecting in-process: got %v, want SchemeNotPassed at once", err)
		}
	})
}
