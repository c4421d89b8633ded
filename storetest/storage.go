package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth"
)

func mustQuota(tb testing.TB, f *fixture, accountID int64) *numauth.StorageQuota {
	tb.Helper()
	q, err := f.Storage.FindStorageQuota(tb.Context(), accountID)
	if err != nil {
		tb.Fatalf("FindStorageQuota: %v", err)
	}
	return q
}

func testStorageQuota(t *testing.T, open opener) {
	f := mustOpen(t, open)
	ctx := t.Context()
	a, _ := mustCreateAccount(t, f, "a")
	b, _ := mustCreateAccount(t, f, "b")

	if q := mustQuota(t, f, a.ID); q.Bytes != numauth.DefaultStorageQuota || !q.IsDefault || q.UsedBytes != 0 {
		t.Errorf("new account: got %+v, want the default quota, nothing used", q)
	}
	checkError(t, f.Storage.SetStorageQuota(ctx, 1234567890123456, 10), numauth.ENOTFOUND, "")
	if _, err := f.Storage.FindStorageQuota(ctx, 1234567890123456); numauth.ErrorKindOf(err) != numauth.ENOTFOUND {
		t.Errorf("FindStorageQuota(unknown account): got %v, want ENOTFOUND", err)
	}

	mustDo(t, f.Storage.SetStorageQuota(ctx, a.ID, 1000))
	mustDo(t, f.Storage.ReserveUpload(ctx, a.ID, fmt.Sprintf("%d/dysms/one.png", a.ID), 600))
	t.Run("ReservedBytesCount", func(t *testing.T) {
		if q := mustQuota(t, f, a.ID); q.Bytes != 1000 || q.IsDefault || q.UsedBytes != 600 {
			t.Errorf("got %+v, want 600 of 1000 used", q)
		}
	})
	t.Run("OverTheQuotaIsRefusedAndNotRecorded", func(t *testing.T) {
		key := fmt.Sprintf("%d/dysms/two.png", a.ID)
		checkError(t, f.Storage.ReserveUpload(ctx, a.ID, key, 401), numauth.EINSUFFICIENT, numauth.ReasonStorageQuota)
		if q := mustQuota(t, f, a.ID); q.UsedBytes != 600 {
			t.Errorf("used after a refusal: got %d, want 600", q.UsedBytes)
		}
		// The refused key was not recorded: it can be reserved once it fits.
		mustDo(t, f.Storage.ReserveUpload(ctx, a.ID, key, 400))
		mustDo(t, f.Storage.CancelUpload(ctx, a.ID, key))
	})
	t.Run("OneRecordPerKey", func(t *testing.T) {
		key := fmt.Sprintf("%d/dysms/one.png", a.ID)
		checkError(t, f.Storage.ReserveUpload(ctx, a.ID, key, 1), numauth.ECONFLICT, numauth.ReasonUploadExists)
		mustDo(t, f.Storage.CompleteUpload(ctx, a.ID, key))
		checkError(t, f.Storage.ReserveUpload(ctx, a.ID, key, 1), numauth.ECONFLICT, numauth.ReasonUploadExists)
		// A stored object is not cancelled, and completes once.
		mustDo(t, f.Storage.CancelUpload(ctx, a.ID, key))
		checkError(t, f.Storage.CompleteUpload(ctx, a.ID, key), numauth.ENOTFOUND, "")
		if q := mustQuota(t, f, a.ID); q.UsedBytes != 600 {
			t.Errorf("used: got %d, want 600", q.UsedBytes)
		}
	})
	t.Run("CancelReleasesTheBytes", func(t *testing.T) {
		key := fmt.Sprintf("%d/dysms/three.png", a.ID)
		mustDo(t, f.Storage.ReserveUpload(ctx, a.ID, key, 400))
		checkError(t, f.Storage.CompleteUpload(ctx, b.ID, key), numauth.ENOTFOUND, "")
		mustDo(t, f.Storage.CancelUpload(ctx, b.ID, key)) // another account's: left alone
		if q := mustQuota(t, f, a.ID); q.UsedBytes != 1000 {
			t.Errorf("used: got %d, want 1000", q.UsedBytes)
		}
		mustDo(t, f.Storage.CancelUpload(ctx, a.ID, key))
		if q := mustQuota(t, f, a.ID); q.UsedBytes != 600 {
			t.Errorf("used after cancel: got %d, want 600", q.UsedBytes)
		}
	})
	t.Run("QuotasArePerAccount", func(t *testing.T) {
		if q := mustQuota(t, f, b.ID); q.UsedBytes != 0 || !q.IsDefault {
			t.Errorf("b: got %+v", q)
		}
		mustDo(t, f.Storage.ReserveUpload(ctx, b.ID, fmt.Sprintf("%d/dysms/big.pdf", b.ID), 5<<20))
	})
	t.Run("LoweredQuotaRefusesAndKeeps", func(t *testing.T) {
		mustDo(t, f.Storage.SetStorageQuota(ctx, a.ID, 100))
		checkError(t, f.Storage.ReserveUpload(ctx, a.ID, fmt.Sprintf("%d/dysms/four.png", a.ID), 0), numauth.EINSUFFICIENT, numauth.ReasonStorageQuota)
		if q := mustQuota(t, f, a.ID); q.UsedBytes != 600 || q.Bytes != 100 {
			t.Errorf("got %+v, want 600 used of 100", q)
		}
		mustDo(t, f.Storage.SetStorageQuota(ctx, a.ID, -1))
		if q := mustQuota(t, f, a.ID); !q.IsDefault || q.Bytes != numauth.DefaultStorageQuota {
			t.Errorf("after reset: got %+v, want the default", q)
		}
	})
	checkError(t, f.Storage.ReserveUpload(ctx, a.ID, fmt.Sprintf("%d/dysms/neg.png", a.ID), -1), numauth.EINVALID, "")
}

// testConcurrentReservations: uploads racing for the last bytes of a quota never pass it together.
func testConcurrentReservations(t *testing.T, open opener) {
	f := mustOpen(t, open)
	a, _ := mustCreateAccount(t, f, "a")
	mustDo(t, f.Storage.SetStorageQuota(t.Context(), a.ID, 10_000))
	const n = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for i := range n {
		wg.Go(func() {
			err := f.Storage.ReserveUpload(t.Context(), a.ID, fmt.Sprintf("%d/dysms/%d.png", a.ID, i), 1000)
			switch numauth.ErrorKindOf(err) {
			case "":
				mu.Lock()
				admitted++
				mu.Unlock()
			case numauth.EINSUFFICIENT:
			default:
				t.Errorf("ReserveUpload: %v", err)
			}
		})
	}
	wg.Wait()
	if q := mustQuota(t, f, a.ID); admitted != 10 || q.UsedBytes != 10_000 {
		t.Errorf("admitted %d using %d bytes, want 10 using 10000", admitted, q.UsedBytes)
	}
}

// testOrphanUploads: uploads nothing references are claimed 24 hours after they began, not before;
// referenced ones never.
func testOrphanUploads(t *testing.T, open opener) {
	f := mustSignFixture(t, open)
	ctx := t.Context()
	s := f.Storage
	reserve := func(key string, complete bool) {
		t.Helper()
		mustDo(t, s.ReserveUpload(ctx, f.a.ID, key, 100))
		if complete {
			mustDo(t, s.CompleteUpload(ctx, f.a.ID, key))
		}
	}
	uploaded := f.clock.Now()
	// The fixture's letters cite 1/dysms/letter.png and its qualifications the 1/dysms/ ID cards and
	// files; the sign and template below cite 1/fcMediaSms/ keys. All are the account's uploads here.
	referenced := []string{"1/dysms/letter.png", "1/dysms/legal-front.png", "1/dysms/legal-back.png",
		"1/dysms/admin-front.png", "1/dysms/admin-back.png", "1/dysms/license.png", "1/dysms/credit.jpg",
		"1/dysms/more.pdf", "1/fcMediaSms/shop.png", "1/fcMediaSms/login.png"}
	for _, k := range referenced {
		reserve(k, true)
	}
	reserve("1/dysms/orphan.png", true)
	reserve("1/dysms/unfinished.png", false) // a writer that died
	mustDo(t, f.Signs.CreateSign(ctx, f.thirdPartySign("菜鸟网络")))
	mustDo(t, f.Signs.CreateSmsTemplate(ctx, &numauth.SmsTemplate{AccountID: f.a.ID, Name: "验证码",
		Type: numauth.TemplateTypeVerification, Content: "您的验证码为${code}", MoreData: []string{"x/other.png", "1/fcMediaSms/login.png"}}))
	f.clock.Advance(time.Hour)
	reserve("1/dysms/later.png", true)

	claim := func(before time.Time, limit int) []string {
		t.Helper()
		us, err := s.ClaimOrphanUploads(ctx, before, limit)
		if err != nil {
			t.Fatalf("ClaimOrphanUploads: %v", err)
		}
		var keys []string
		for _, u := range us {
			if u.AccountID != f.a.ID || u.Size != 100 {
				t.Errorf("claimed %+v", u)
			}
			keys = append(keys, u.Key)
		}
		slices.Sort(keys)
		return keys
	}
	if got := claim(uploaded.Add(-time.Microsecond), 100); len(got) != 0 {
		t.Errorf("before 24 hours: claimed %v, want none", got)
	}
	want := []string{"1/dysms/orphan.png", "1/dysms/unfinished.png"}
	if got := claim(uploaded, 1); len(got) != 1 {
		t.Errorf("limit 1: claimed %v", got)
	}
	// The one claimed before comes back until it is deleted, with the rest.
	if got := claim(uploaded, 100); !slices.Equal(got, want) {
		t.Errorf("claimed %v, want %v", got, want)
	}
	checkError(t, s.ReserveUpload(ctx, f.a.ID, "1/dysms/orphan.png", 1), numauth.ECONFLICT, numauth.ReasonUploadExists)
	used := mustQuota(t, f.fixture, f.a.ID).UsedBytes
	for _, k := range want {
		mustDo(t, s.DeleteUpload(ctx, k))
	}
	mustDo(t, s.DeleteUpload(ctx, "1/dysms/never.png"))
	if q := mustQuota(t, f.fixture, f.a.ID); q.UsedBytes != used-200 {
		t.Errorf("used after deleting two: got %d, want %d", q.UsedBytes, used-200)
	}
	if got := claim(uploaded.Add(time.Hour), 100); !slices.Equal(got, []string{"1/dysms/later.png"}) {
		t.Errorf("an hour later: claimed %v, want only the later orphan", got)
	}
	mustDo(t, s.DeleteUpload(ctx, "1/dysms/later.png"))
	if got := claim(uploaded.Add(1000*time.Hour), 100); len(got) != 0 {
		t.Errorf("referenced uploads claimed: %v", got)
	}
	// A deleted qualification's files become orphans; files also cited elsewhere stay.
	mustDo(t, f.Qualifications.DeleteQualification(ctx, f.a.ID, f.pending.ID))
	if got := claim(uploaded.Add(1000*time.Hour), 100); len(got) != 0 {
		t.Errorf("files of the other qualifications too: claimed %v", got)
	}
	// The key can be uploaded again once its record is gone.
	mustDo(t, s.ReserveUpload(ctx, f.a.ID, "1/dysms/orphan.png", 1))
}
