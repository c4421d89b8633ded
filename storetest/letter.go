package storetest

import (
	"testing"
	"time"

	"github.com/numauth/numauth"
)

func newLetter(accountID int64, name string, signs ...string) *numauth.AuthorizationLetter {
	return &numauth.AuthorizationLetter{AccountID: accountID, Name: name, Authorization: "菜鸟网络科技有限公司",
		ProxyAuthorization: "支付宝(中国)网络技术有限公司", OrganizationCode: "91330100MA27XXXX0A",
		From: "2025-01-01", To: "2026-12-31", FileKey: "1/dysms/letter.png", Signs: signs}
}

func testAuthorizationLetters(t *testing.T, open opener) {
	f := mustOpen(t, open)
	a, _ := mustCreateAccount(t, f, "a")
	b, _ := mustCreateAccount(t, f, "b")
	first := newLetter(a.ID, "菜鸟公司授权书", "菜鸟网络", "菜鸟裹裹")
	if err := f.Letters.CreateAuthorizationLetter(t.Context(), first); err != nil {
		t.Fatalf("CreateAuthorizationLetter: %v", err)
	}
	if first.ID == 0 || first.State != numauth.LetterPending || !first.CreatedAt.Equal(start) {
		t.Errorf("letter %+v", first)
	}
	checkError(t, f.Letters.CreateAuthorizationLetter(t.Context(), newLetter(a.ID, "菜鸟公司授权书", "x")),
		numauth.ECONFLICT, numauth.ReasonLetterNameTaken)
	// Another account may use the name.
	if err := f.Letters.CreateAuthorizationLetter(t.Context(), newLetter(b.ID, "菜鸟公司授权书", "菜鸟网络")); err != nil {
		t.Fatalf("another account's letter: %v", err)
	}
	f.clock.Advance(time.Second) // letters list oldest first
	expired := newLetter(a.ID, "Old letter", "旧签名")
	expired.From, expired.To = "2020-01-01", "2021-01-01"
	if err := f.Letters.CreateAuthorizationLetter(t.Context(), expired); err != nil {
		t.Fatal(err)
	}
	checkError(t, f.Letters.CreateAuthorizationLetter(t.Context(), newLetter(12345, "x")), numauth.ENOTFOUND, "")

	find := func(filter numauth.LetterFilter) []int64 {
		t.Helper()
		filter.AccountID = a.ID
		ls, err := f.Letters.FindAuthorizationLetters(t.Context(), filter)
		if err != nil {
			t.Fatalf("FindAuthorizationLetters: %v", err)
		}
		var ids []int64
		for _, l := range ls {
			ids = append(ids, l.ID)
		}
		return ids
	}
	same := func(got []int64, want ...int64) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}
	now := f.clock.Now()
	for name, tt := range map[string]struct {
		filter numauth.LetterFilter
		want   []int64
	}{
		"all":          {numauth.LetterFilter{}, []int64{first.ID, expired.ID}},
		"by id":        {numauth.LetterFilter{IDs: []int64{expired.ID}}, []int64{expired.ID}},
		"by sign":      {numauth.LetterFilter{SignName: "菜鸟裹裹"}, []int64{first.ID}},
		"by code":      {numauth.LetterFilter{OrganizationCode: "91330100MA27XXXX0A"}, []int64{first.ID, expired.ID}},
		"valid":        {numauth.LetterFilter{Status: numauth.LetterValid, Now: now}, []int64{first.ID}},
		"invalid":      {numauth.LetterFilter{Status: numauth.LetterInvalid, Now: now}, []int64{expired.ID}},
		"pending":      {numauth.LetterFilter{State: numauth.LetterPending}, []int64{first.ID, expired.ID}},
		"another's id": {numauth.LetterFilter{IDs: []int64{999}}, nil},
	} {
		if got := find(tt.filter); !same(got, tt.want...) {
			t.Errorf("%s: got %v, want %v", name, got, tt.want)
		}
	}
	ls, _ := f.Letters.FindAuthorizationLetters(t.Context(), numauth.LetterFilter{AccountID: a.ID, IDs: []int64{first.ID}})
	if len(ls) != 1 || len(ls[0].Signs) != 2 || ls[0].Signs[1] != "菜鸟裹裹" || ls[0].Authorization != "菜鸟网络科技有限公司" ||
		ls[0].StatusAt(now) != numauth.LetterValid {
		t.Errorf("letter read back: %+v", ls)
	}

	f.clock.Advance(time.Hour)
	if err := f.Letters.ReviewAuthorizationLetter(t.Context(), numauth.Review{Kind: "letter", ID: first.ID, Approve: true, By: "ops@example", Reason: "ok"}); err != nil {
		t.Fatalf("ReviewAuthorizationLetter: %v", err)
	}
	if got := find(numauth.LetterFilter{State: numauth.LetterPassed}); !same(got, first.ID) {
		t.Errorf("passed: %v", got)
	}
	reviews, err := f.Letters.FindReviews(t.Context(), "letter", first.ID)
	if err != nil || len(reviews) != 1 || !reviews[0].Approve || reviews[0].By != "ops@example" || reviews[0].AccountID != a.ID ||
		!reviews[0].At.Equal(start.Add(time.Hour+time.Second)) {
		t.Errorf("reviews %+v, %v", reviews, err)
	}
	pending, err := f.Letters.FindPendingReviews(t.Context())
	if err != nil || len(pending) != 2 { // a's expired letter and b's
		t.Errorf("pending %+v, %v", pending, err)
	}
	checkError(t, f.Letters.ReviewAuthorizationLetter(t.Context(), numauth.Review{ID: 1, Approve: true}), numauth.ENOTFOUND, numauth.ReasonLetter)
}
