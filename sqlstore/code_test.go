package sqlstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
)

// mustCodeAccount creates an account with the limits given and returns its id.
func mustCodeAccount(tb testing.TB, db *DB, s *CodeService, l numauth.CodeLimits) int64 {
	tb.Helper()
	a, _, err := NewAccountService(db).CreateAccount(context.Background(), "acme")
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.SetCodeSettings(context.Background(), a.ID, &numauth.CodeSettings{Limits: l}); err != nil {
		tb.Fatal(err)
	}
	return a.ID
}

func codeRequest(accountID int64, phone string) numauth.CodeRequest {
	return numauth.CodeRequest{AccountID: accountID, Scope: "dypns:login", Phone: phone, Locale: "zh_CN",
		Channel: "outbox", Text: "您的验证码是##code##，5分钟内有效。"}
}

// queued prepares a send as SendCode would and returns it ready for the writer, from a caller whose
// context is ctx.
func queued(tb testing.TB, ctx context.Context, s *CodeService, r numauth.CodeRequest) *queuedSend {
	tb.Helper()
	r, err := numauth.CheckCodeRequest(r)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := s.prepare(context.Background(), r)
	if err != nil {
		tb.Fatal(err)
	}
	return &queuedSend{ctx: ctx, p: p, done: make(chan struct{})}
}

func TestSendGroupCommit(t *testing.T) {
	t.Run("FailingSendFailsAlone", func(t *testing.T) {
		db := mustOpenMigrated(t, newSQLiteDSN, numauth.SystemClock{})
		s := mustCodeService(db)
		account := mustCodeAccount(t, db, s, numauth.DefaultCodeLimits)
		batch := []*queuedSend{
			queued(t, t.Context(), s, codeRequest(account, "+8613900000001")),
			queued(t, t.Context(), s, codeRequest(account, "+8613900000002")),
			queued(t, t.Context(), s, codeRequest(account, "+8613900000001")), // within the interval of the first
			queued(t, t.Context(), s, codeRequest(account, "+8613900000003")),
		}
		// No such account: the foreign key refuses the rows, an error that is not the send's limits.
		batch[1].p.r.AccountID, batch[1].p.msg.AccountID = 123, 123
		s.sends.commit(batch)
		for i, q := range batch {
			<-q.done
			switch i {
			case 1:
				if q.err == nil || numauth.ErrorKindOf(q.err) != numauth.EINTERNAL {
					t.Errorf("send %d: got %v, want an internal error", i, q.err)
				}
			case 2:
				if numauth.ErrorReasonOf(q.err) != numauth.ReasonCodeInterval {
					t.Errorf("send %d: got %v, want ETHROTTLED/%s", i, q.err, numauth.ReasonCodeInterval)
				}
			default:
				if q.err != nil || q.sent == nil {
					t.Errorf("send %d: got %v, want it sent", i, q.err)
				}
			}
		}
		msgs, err := NewOutbox(db).FindMessages(t.Context(), numauth.MessageFilter{AccountID: account})
		if err != nil || len(msgs) != 2 {
			t.Errorf("outbox: got %d messages, %v; want 2", len(msgs), err)
		}
	})
	t.Run("CallerThatLeftIsSkipped", func(t *testing.T) {
		db := mustOpenMigrated(t, newSQLiteDSN, numauth.SystemClock{})
		s := mustCodeService(db)
		account := mustCodeAccount(t, db, s, numauth.DefaultCodeLimits)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		batch := []*queuedSend{
			queued(t, t.Context(), s, codeRequest(account, "+8613900000001")),
			queued(t, ctx, s, codeRequest(account, "+8613900000002")),
		}
		s.sends.commit(batch)
		if err := batch[0].err; err != nil {
			t.Errorf("live caller: got %v, want nil", err)
		}
		if err := batch[1].err; err != context.Canceled {
			t.Errorf("caller that left: got %v, want context.Canceled", err)
		}
		msgs, _ := NewOutbox(db).FindMessages(t.Context(), numauth.MessageFilter{AllAccounts: true, Phone: "+8613900000002"})
		if len(msgs) != 0 {
			t.Errorf("outbox: got a message for the caller that left, want none")
		}
	})
}

func TestSendLogIsPurged(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newDSN func(testing.TB) string) {
		clock := numauthtest.NewClock(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
		db := mustOpenMigrated(t, newDSN, clock)
		s := mustCodeService(db)
		account := mustCodeAccount(t, db, s, numauth.DefaultCodeLimits)
		count := func() int {
			var n int
			if err := db.queryRow(t.Context(), `SELECT count(*) FROM code_sends`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for i := range 3 {
			if _, err := s.SendCode(t.Context(), codeRequest(account, fmt.Sprintf("+86139000000%02d", i))); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(); n != 3 {
			t.Fatalf("send log: got %d rows, want 3", n)
		}
		clock.Advance(sendLogRetention + purgeEvery)
		if _, err := s.SendCode(t.Context(), codeRequest(account, "+8613900000099")); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Errorf("send log after a day: got %d rows, want only the newest", n)
		}
	})
}

// BenchmarkSendCode sends codes from many goroutines at once to ever new numbers (so every send passes
// the per-number limits, which are all checked), spread over a thousand prefixes, for one account whose
// velocity limits are raised out of the way but still counted.
//
//	go test -run '^$' -bench SendCode -benchtime 10s ./sqlstore/
//	NUMAUTH_TEST_POSTGRES=postgres://... go test -run '^$' -bench SendCode/postgres -benchtime 10s ./sqlstore/
func BenchmarkSendCode(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			db := mustOpenMigrated(b, e.newDSN, numauth.SystemClock{})
			s := mustCodeService(db)
			l := numauth.DefaultCodeLimits
			l.AccountPerMinute, l.PrefixPerMinute = 1_000_000_000, 1_000_000
			account := mustCodeAccount(b, db, s, l)
			var next atomic.Int64
			b.SetParallelism(64) // 128 callers on two cores: a busy server's requests in flight
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					// 13x, then two digits: a thousand prefixes; the last six digits make it unique.
					phone := fmt.Sprintf("+8613%d%02d%06d", i%10, i/10%100, i/1000)
					if _, err := s.SendCode(context.Background(), codeRequest(account, phone)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
		})
	}
}

// TestVoiceCodeIsSpelled: a voice message says the code character by character, in the locale's way; an
// SMS writes it as it is.
func TestVoiceCodeIsSpelled(t *testing.T) {
	ctx := context.Background()
	db := mustOpenMigrated(t, newSQLiteDSN, numauthtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	s, err := NewCodeService(db, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	acct := mustCodeAccount(t, db, s, numauth.CodeLimits{})
	for _, row := range []struct {
		kind  numauth.MessageKind
		phone string
		want  func(code string) string
	}{
		{numauth.MessageSMS, "13900000011", func(code string) string { return "Code: " + code }},
		{numauth.MessageVoice, "13900000012", func(code string) string {
			return fmt.Sprintf("Code: %c, %c, %c, %c, %c, %c", code[0], code[1], code[2], code[3], code[4], code[5])
		}},
	} {
		t.Run(string(row.kind), func(t *testing.T) {
			r := numauth.CodeRequest{AccountID: acct, Scope: "s", Phone: row.phone, Kind: row.kind, Locale: "en_US",
				Channel: "outbox", Text: "Code: " + numauth.CodePlaceholder}
			sent, err := s.SendCode(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := NewOutbox(db).FindMessages(ctx, numauth.MessageFilter{AllAccounts: true, Phone: sent.Phone})
			if err != nil || len(msgs) != 1 {
				t.Fatalf("got %d messages, %v", len(msgs), err)
			}
			if got, want := msgs[0].Body, row.want(sent.Code); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
