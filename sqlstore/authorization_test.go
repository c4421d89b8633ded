package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/numauth/numauth"
)

// pending returns a queued row for a request in scheme sc, as CreateAuthorizationRequest would make it.
func pending(ctx context.Context, db *DB, sc *numauth.Scheme) *pendingAuth {
	now := db.now()
	return &pendingAuth{ctx: ctx, result: make(chan error, 1), r: &numauth.AuthorizationRequest{
		ID: numauth.NewAuthorizationRequestID(now), AccountID: sc.AccountID, SchemeID: sc.ID, PhoneNumber: "+8613900000000",
		Status: numauth.AuthorizationPending, CreatedAt: now, ExpiresAt: now.Add(numauth.AuthorizationLinkTTL),
	}}
}

func TestGroupCommit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newDSN func(testing.TB) string) {
		t.Run("BadRowFailsAlone", func(t *testing.T) {
			db := mustOpenMigrated(t, newDSN, numauth.SystemClock{})
			sc := mustApprovedScheme(t, db)
			bad := *sc
			bad.ID = 123456789 // no such scheme: the foreign key refuses the row
			batch := []*pendingAuth{pending(t.Context(), db, sc), pending(t.Context(), db, &bad), pending(t.Context(), db, sc)}
			db.auth.commit(batch)

			svc := NewAuthorizationService(db, nil)
			for i, p := range batch {
				err := <-p.result
				_, findErr := svc.FindAuthorizationRequestByID(t.Context(), p.r.ID)
				if i == 1 {
					if err == nil || findErr == nil {
						t.Errorf("bad row: got error %v and find error %v, want both", err, findErr)
					}
					continue
				}
				if err != nil || findErr != nil {
					t.Errorf("row %d: got error %v and find error %v, want the row committed", i, err, findErr)
				}
			}
		})
		t.Run("CallerThatLeftIsSkipped", func(t *testing.T) {
			db := mustOpenMigrated(t, newDSN, numauth.SystemClock{})
			sc := mustApprovedScheme(t, db)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			batch := []*pendingAuth{pending(t.Context(), db, sc), pending(ctx, db, sc)}
			db.auth.commit(batch)
			if err := <-batch[0].result; err != nil {
				t.Errorf("live caller: got %v, want nil", err)
			}
			if err := <-batch[1].result; err != context.Canceled {
				t.Errorf("caller that left: got %v, want context.Canceled", err)
			}
			if _, err := NewAuthorizationService(db, nil).FindAuthorizationRequestByID(t.Context(), batch[1].r.ID); numauth.ErrorKindOf(err) != numauth.ENOTFOUND {
				t.Errorf("row of the caller that left: got %v, want ENOTFOUND", err)
			}
		})
		t.Run("CloseKeepsEveryAcceptedRequest", func(t *testing.T) {
			dsn := newDSN(t)
			db := mustOpen(t, dsn, numauth.SystemClock{})
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			sc := mustApprovedScheme(t, db)
			svc := NewAuthorizationService(db, nil)
			const n = 200
			var (
				wg        sync.WaitGroup
				reqs      [n]*numauth.AuthorizationRequest
				errs      [n]error
				succeeded = make(chan struct{}, n)
			)
			for i := range n {
				wg.Go(func() {
					reqs[i], errs[i] = svc.CreateAuthorizationRequest(context.Background(), numauth.AuthorizationInput{
						AccountID: sc.AccountID, SchemeID: sc.ID, PhoneNumber: fmt.Sprintf("139%08d", i),
					})
					if errs[i] == nil {
						succeeded <- struct{}{}
					}
				})
			}
			// Close while requests are in flight: some done, some queued, some not yet arrived.
			for range 10 {
				<-succeeded
			}
			if err := db.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			wg.Wait()

			// Whatever was accepted is stored; whatever was refused says so.
			reopened := NewAuthorizationService(mustOpen(t, dsn, numauth.SystemClock{}), nil)
			accepted := 0
			for i := range n {
				if errs[i] != nil {
					continue
				}
				accepted++
				if _, err := reopened.FindAuthorizationRequestByID(t.Context(), reqs[i].ID); err != nil {
					t.Errorf("accepted request %d after Close: %v", i, err)
				}
			}
			t.Logf("%d of %d requests accepted before Close", accepted, n)
		})
	})
}

// BenchmarkCreateAuthorizationRequest measures the hot path on each engine from many concurrent callers,
// as a busy server makes it: with only GOMAXPROCS callers, group commit could never batch more rows than
// there are processors.
func BenchmarkCreateAuthorizationRequest(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			db := mustOpenMigrated(b, e.newDSN, numauth.SystemClock{})
			sc := mustApprovedScheme(b, db)
			svc := NewAuthorizationService(db, nil)
			in := numauth.AuthorizationInput{AccountID: sc.AccountID, SchemeID: sc.ID, PhoneNumber: "13900000000"}
			ctx := context.Background()
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := svc.CreateAuthorizationRequest(ctx, in); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
