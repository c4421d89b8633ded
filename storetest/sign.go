package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/numauth/numauth"
)

// signFixture is an account with what signatures are filed under: a passed qualification for third-party
// use and one for its own use (both for organization 91330100MA27XXXX0A), a pending one, and letters.
type signFixture struct {
	*fixture
	a, b                 *numauth.Account
	thirdParty, self     *numauth.Qualification
	pending, othersQual  *numauth.Qualification
	letter, otherCode    *numauth.AuthorizationLetter
	expired, othersLettr *numauth.AuthorizationLetter
}

func mustSignFixture(t *testing.T, open opener) *signFixture {
	t.Helper()
	f := &signFixture{fixture: mustOpen(t, open)}
	ctx := t.Context()
	f.a, _ = mustCreateAccount(t, f.fixture, "a")
	f.b, _ = mustCreateAccount(t, f.fixture, "b")
	submit := func(q *numauth.Qualification, approve bool) *numauth.Qualification {
		t.Helper()
		mustDo(t, f.Qualifications.SubmitQualification(ctx, q))
		f.clock.Advance(numauth.QualificationInterval)
		if approve {
			mustDo(t, f.Qualifications.ReviewQualification(ctx, numauth.Review{Kind: numauth.ReviewKindQualification, ID: q.ID, Approve: true, By: "ops"}))
		}
		return q
	}
	f.thirdParty = submit(newQualification(f.a.ID, "他用资质"), true)
	self := newQualification(f.a.ID, "自用资质")
	self.UseBySelf = true
	f.self = submit(self, true)
	f.pending = submit(newQualification(f.a.ID, "待审资质"), false)
	f.othersQual = submit(newQualification(f.b.ID, "他用资质"), true)
	letter := func(accountID int64, name string, edit func(*numauth.AuthorizationLetter)) *numauth.AuthorizationLetter {
		t.Helper()
		l := newLetter(accountID, name, "菜鸟网络", "菜鸟裹裹")
		if edit != nil {
			edit(l)
		}
		mustDo(t, f.Letters.CreateAuthorizationLetter(ctx, l))
		return l
	}
	f.letter = letter(f.a.ID, "菜鸟授权书", nil)
	f.otherCode = letter(f.a.ID, "别家授权书", func(l *numauth.AuthorizationLetter) { l.OrganizationCode = "91110000XXXXXXXX1B" })
	f.expired = letter(f.a.ID, "过期授权书", func(l *numauth.AuthorizationLetter) { l.From, l.To = "2020-01-01", "2021-01-01" })
	f.othersLettr = letter(f.b.ID, "菜鸟授权书", nil)
	f.clock.Advance(time.Minute)
	return f
}

// thirdPartySign is a valid third party's signature of account a.
func (f *signFixture) thirdPartySign(name string) *numauth.Sign {
	return &numauth.Sign{AccountID: f.a.ID, Name: name, Source: numauth.SignSourceCompany, Type: numauth.SignTypeGeneral,
		QualificationID: f.thirdParty.ID, ThirdParty: true, LetterID: f.letter.ID, Remark: "物流通知",
		MoreData: []string{"1/fcMediaSms/shop.png"}}
}

func testSigns(t *testing.T, open opener) {
	f := mustSignFixture(t, open)
	ctx := t.Context()

	first := f.thirdPartySign("菜鸟网络")
	filed := *first
	mustDo(t, f.Signs.CreateSign(ctx, first))
	created := f.clock.Now()
	t.Run("CreatedIsPendingWithIDsAndTimes", func(t *testing.T) {
		if first.ID < 1e8 || first.ID >= 1e9 || first.OrderID < 1e10 || first.OrderID >= 1e11 {
			t.Errorf("IDs: got %d and order %d, want 9 and 11 digits", first.ID, first.OrderID)
		}
		want := filed
		want.ID, want.OrderID, want.State = first.ID, first.OrderID, numauth.AuditPending
		want.SubmittedAt, want.CreatedAt, want.UpdatedAt = created, created, created
		if diff := cmp.Diff(&want, first); diff != "" {
			t.Errorf("created (-want +got):\n%s", diff)
		}
		found, err := f.Signs.FindSignByName(ctx, f.a.ID, "菜鸟网络")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, found); diff != "" {
			t.Errorf("FindSignByName (-created +found):\n%s", diff)
		}
	})

	t.Run("FilingRefusals", func(t *testing.T) {
		for name, tt := range map[string]struct {
			edit       func(*numauth.Sign)
			wantKind   numauth.ErrorKind
			wantReason string
		}{
			"name taken":                          {func(s *numauth.Sign) { s.Name = "菜鸟网络" }, numauth.ECONFLICT, numauth.ReasonSignNameTaken},
			"unknown account":                     {func(s *numauth.Sign) { s.AccountID = 1234567890123456 }, numauth.ENOTFOUND, ""},
			"another account's qualification":     {func(s *numauth.Sign) { s.QualificationID = f.othersQual.ID }, numauth.ENOTFOUND, numauth.ReasonQualification},
			"no such qualification":               {func(s *numauth.Sign) { s.QualificationID = 1 }, numauth.ENOTFOUND, numauth.ReasonQualification},
			"qualification not passed":            {func(s *numauth.Sign) { s.QualificationID = f.pending.ID }, numauth.EPRECONDITION, numauth.ReasonQualificationNotPassed},
			"third party, self-use qualification": {func(s *numauth.Sign) { s.QualificationID = f.self.ID }, numauth.EINVALID, numauth.ReasonThirdPartyMismatch},
			"own use, third-party qualification":  {func(s *numauth.Sign) { s.ThirdParty = false }, numauth.EINVALID, numauth.ReasonThirdPartyMismatch},
			"third party without a letter":        {func(s *numauth.Sign) { s.LetterID = 0 }, numauth.ENOTFOUND, numauth.ReasonLetter},
			"another account's letter":            {func(s *numauth.Sign) { s.LetterID = f.othersLettr.ID }, numauth.ENOTFOUND, numauth.ReasonLetter},
			"name outside the letter":             {func(s *numauth.Sign) { s.Name = "菜鸟驿站" }, numauth.EINVALID, numauth.ReasonSignNotInLetter},
			"letter of another organization":      {func(s *numauth.Sign) { s.LetterID = f.otherCode.ID }, numauth.EINVALID, numauth.ReasonLetterCodeMismatch},
			"expired letter":                      {func(s *numauth.Sign) { s.LetterID = f.expired.ID }, numauth.EINVALID, numauth.ReasonLetterDatesNotValid},
		} {
			s := f.thirdPartySign("菜鸟裹裹")
			tt.edit(s)
			err := f.Signs.CreateSign(ctx, s)
			if numauth.ErrorKindOf(err) != tt.wantKind || tt.wantReason != "" && numauth.ErrorReasonOf(err) != tt.wantReason {
				t.Errorf("%s: got %v, want %s/%s", name, err, tt.wantKind, tt.wantReason)
			}
		}
		if _, total, _ := f.Signs.FindSigns(ctx, numauth.SignFilter{AccountID: f.a.ID}); total != 1 {
			t.Errorf("after refusals: %d signatures, want 1", total)
		}
	})

	f.clock.Advance(time.Second) // signatures list newest first
	own := &numauth.Sign{AccountID: f.a.ID, Name: "阿里云", Source: numauth.SignSourceWebsite, Type: numauth.SignTypeVerification,
		QualificationID: f.self.ID, LetterID: f.letter.ID, ApplyScene: "https://www.aliyun.com"}
	mustDo(t, f.Signs.CreateSign(ctx, own))
	t.Run("OwnUseKeepsNoLetter", func(t *testing.T) {
		found, err := f.Signs.FindSignByName(ctx, f.a.ID, "阿里云")
		if err != nil || found.LetterID != 0 || found.ThirdParty || found.MoreData != nil || found.LetterPassed {
			t.Errorf("got %+v, %v", found, err)
		}
	})
	t.Run("AnotherAccountMayUseTheName", func(t *testing.T) {
		s := f.thirdPartySign("菜鸟网络")
		s.AccountID, s.QualificationID, s.LetterID = f.b.ID, f.othersQual.ID, f.othersLettr.ID
		mustDo(t, f.Signs.CreateSign(ctx, s))
		_, err := f.Signs.FindSignByName(ctx, f.b.ID, "阿里云")
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonSign)
	})

	t.Run("FindSignsPagesNewestFirst", func(t *testing.T) {
		names := func(filter numauth.SignFilter) ([]string, int) {
			t.Helper()
			filter.AccountID = f.a.ID
			signs, total, err := f.Signs.FindSigns(ctx, filter)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range signs {
				out = append(out, s.Name)
			}
			return out, total
		}
		for _, tt := range []struct {
			filter numauth.SignFilter
			want   []string
		}{
			{numauth.SignFilter{}, []string{"阿里云", "菜鸟网络"}},
			{numauth.SignFilter{Limit: 1}, []string{"阿里云"}},
			{numauth.SignFilter{Offset: 1, Limit: 1}, []string{"菜鸟网络"}},
			{numauth.SignFilter{Offset: 5}, nil},
		} {
			got, total := names(tt.filter)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" || total != 2 {
				t.Errorf("%+v: got %v (total %d), want %v (total 2)", tt.filter, got, total, tt.want)
			}
		}
	})

	t.Run("PendingSignaturesDoNotSend", func(t *testing.T) {
		r, err := f.Signs.FindSendRights(ctx, f.a.ID)
		if err != nil || !r.AnySigns || len(r.Signs) != 0 {
			t.Fatalf("send rights: got %+v, %v", r, err)
		}
		checkError(t, r.CheckSend("菜鸟网络", "100001", f.clock.Now()), numauth.EPRECONDITION, numauth.ReasonSignNotUsable)
		checkError(t, r.CheckSend("随便什么", "100001", f.clock.Now()), numauth.EPRECONDITION, numauth.ReasonSignNotUsable)
	})

	t.Run("ReviewPassesTheSignatureAndItsLetter", func(t *testing.T) {
		pending, err := f.Signs.FindPendingSigns(ctx)
		if err != nil || len(pending) != 3 || pending[0].ID != first.ID || pending[0].Kind != numauth.ReviewKindSign ||
			pending[0].AccountID != f.a.ID || pending[0].Name != "菜鸟网络" || !pending[0].CreatedAt.Equal(created) {
			t.Fatalf("pending: got %d (%+v), %v, want 3, the first filed first", len(pending), pending, err)
		}
		f.clock.Advance(time.Hour)
		at := f.clock.Now()
		mustDo(t, f.Signs.ReviewSign(ctx, numauth.Review{Kind: numauth.ReviewKindSign, ID: first.ID, Approve: true, Reason: "ok", By: "ops@example"}))
		got, err := f.Signs.FindSignByName(ctx, f.a.ID, "菜鸟网络")
		if err != nil || got.State != numauth.AuditPassed || got.AuditRemark != "ok" || !got.AuditTime.Equal(at) || !got.LetterPassed ||
			got.OrderID != first.OrderID {
			t.Errorf("approved: got %+v, %v", got, err)
		}
		ls, _ := f.Letters.FindAuthorizationLetters(ctx, numauth.LetterFilter{AccountID: f.a.ID, IDs: []int64{f.letter.ID}})
		if len(ls) != 1 || ls[0].State != numauth.LetterPassed {
			t.Errorf("letter: got %+v, want PASSED", ls)
		}
		for kind, id := range map[string]int64{numauth.ReviewKindSign: first.ID, numauth.ReviewKindLetter: f.letter.ID} {
			reviews, err := f.Letters.FindReviews(ctx, kind, id)
			if err != nil || len(reviews) != 1 || !reviews[0].Approve || reviews[0].By != "ops@example" || reviews[0].AccountID != f.a.ID ||
				!reviews[0].At.Equal(at) {
				t.Errorf("%s reviews: got %+v, %v", kind, reviews, err)
			}
		}
		if pending, _ := f.Signs.FindPendingSigns(ctx); len(pending) != 2 {
			t.Errorf("pending after review: %d, want 2", len(pending))
		}
		checkError(t, f.Signs.ReviewSign(ctx, numauth.Review{ID: 1, Approve: true}), numauth.ENOTFOUND, numauth.ReasonSign)
	})

	t.Run("APassedSignatureSendsWhileItsPaperworkHolds", func(t *testing.T) {
		r, err := f.Signs.FindSendRights(ctx, f.a.ID)
		if err != nil {
			t.Fatal(err)
		}
		now := f.clock.Now()
		mustDo(t, r.CheckSend("菜鸟网络", "100001", now))
		checkError(t, r.CheckSend("阿里云", "100001", now), numauth.EPRECONDITION, numauth.ReasonSignNotUsable)
		// The letter ends on 2026-12-31, China time.
		lastDay := time.Date(2026, 12, 31, 23, 0, 0, 0, time.FixedZone("CST", 8*3600))
		mustDo(t, r.CheckSend("菜鸟网络", "100001", lastDay))
		checkError(t, r.CheckSend("菜鸟网络", "100001", lastDay.Add(time.Hour)), numauth.EPRECONDITION, numauth.ReasonSignNotUsable)
		if r.AnyTemplates {
			t.Error("AnyTemplates with no template filed")
		}

		// Rejecting the letter, or the qualification, stops it; passing them again lets it send.
		for _, step := range []struct {
			review func(numauth.Review) error
			kind   string
			id     int64
		}{
			{func(r numauth.Review) error { return f.Letters.ReviewAuthorizationLetter(ctx, r) }, numauth.ReviewKindLetter, f.letter.ID},
			{func(r numauth.Review) error { return f.Qualifications.ReviewQualification(ctx, r) }, numauth.ReviewKindQualification, f.thirdParty.ID},
		} {
			mustDo(t, step.review(numauth.Review{Kind: step.kind, ID: step.id, Approve: false, By: "ops"}))
			r, err := f.Signs.FindSendRights(ctx, f.a.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkError(t, r.CheckSend("菜鸟网络", "100001", now), numauth.EPRECONDITION, numauth.ReasonSignNotUsable)
			mustDo(t, step.review(numauth.Review{Kind: step.kind, ID: step.id, Approve: true, By: "ops"}))
			if r, _ := f.Signs.FindSendRights(ctx, f.a.ID); r.CheckSend("菜鸟网络", "100001", now) != nil {
				t.Errorf("after passing the %s again: refused", step.kind)
			}
		}
	})

	t.Run("AQualificationWithSignaturesStays", func(t *testing.T) {
		checkError(t, f.Qualifications.DeleteQualification(ctx, f.a.ID, f.thirdParty.ID), numauth.EPRECONDITION, numauth.ReasonQualificationInUse)
		mustDo(t, f.Qualifications.DeleteQualification(ctx, f.a.ID, f.pending.ID))
	})

	t.Run("UpdateFilesAgain", func(t *testing.T) {
		f.clock.Advance(time.Minute)
		at := f.clock.Now()
		s := f.thirdPartySign("菜鸟网络")
		s.Remark, s.MoreData = "改过的说明", nil
		mustDo(t, f.Signs.UpdateSign(ctx, s))
		if s.ID != first.ID || s.State != numauth.AuditPending || s.OrderID == first.OrderID || s.OrderID == 0 || s.Remark != "改过的说明" ||
			!s.SubmittedAt.Equal(at) || !s.CreatedAt.Equal(created) || !s.AuditTime.IsZero() || s.AuditRemark != "" || s.MoreData != nil ||
			!s.LetterPassed {
			t.Errorf("updated: %+v", s)
		}
		if r, _ := f.Signs.FindSendRights(ctx, f.a.ID); r.CheckSend("菜鸟网络", "100001", at) == nil {
			t.Error("a signature under review again still sends")
		}
		missing := f.thirdPartySign("菜鸟裹裹")
		checkError(t, f.Signs.UpdateSign(ctx, missing), numauth.ENOTFOUND, numauth.ReasonSign)
		bad := f.thirdPartySign("菜鸟网络")
		bad.QualificationID = f.self.ID
		checkError(t, f.Signs.UpdateSign(ctx, bad), numauth.EINVALID, numauth.ReasonThirdPartyMismatch)
		if got, _ := f.Signs.FindSignByName(ctx, f.a.ID, "菜鸟网络"); got.OrderID != s.OrderID || got.QualificationID != f.thirdParty.ID {
			t.Errorf("a refused update changed the signature: %+v", got)
		}
	})

	t.Run("DeleteRemovesItAndFreesTheQualification", func(t *testing.T) {
		checkError(t, f.Signs.DeleteSign(ctx, f.b.ID, "阿里云"), numauth.ENOTFOUND, numauth.ReasonSign)
		mustDo(t, f.Signs.DeleteSign(ctx, f.a.ID, "菜鸟网络"))
		checkError(t, f.Signs.DeleteSign(ctx, f.a.ID, "菜鸟网络"), numauth.ENOTFOUND, numauth.ReasonSign)
		_, err := f.Signs.FindSignByName(ctx, f.a.ID, "菜鸟网络")
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonSign)
		if reviews, _ := f.Letters.FindReviews(ctx, numauth.ReviewKindSign, first.ID); len(reviews) != 1 {
			t.Errorf("reviews after delete: %d, want the one on record", len(reviews))
		}
		mustDo(t, f.Qualifications.DeleteQualification(ctx, f.a.ID, f.thirdParty.ID))
		mustDo(t, f.Signs.DeleteSign(ctx, f.a.ID, "阿里云"))
		r, err := f.Signs.FindSendRights(ctx, f.a.ID)
		if err != nil || r.AnySigns {
			t.Fatalf("send rights without signatures: %+v, %v", r, err)
		}
		mustDo(t, r.CheckSend("随便什么", "100001", f.clock.Now()))
	})
}

func testSmsTemplates(t *testing.T, open opener) {
	f := mustOpen(t, open)
	ctx := t.Context()
	a, _ := mustCreateAccount(t, f, "a")
	b, _ := mustCreateAccount(t, f, "b")

	t.Run("AnAccountWithoutTemplatesSendsAnyCode", func(t *testing.T) {
		r, err := f.Signs.FindSendRights(ctx, a.ID)
		if err != nil || r.AnySigns || r.AnyTemplates {
			t.Fatalf("got %+v, %v", r, err)
		}
		mustDo(t, r.CheckSend("速通互联验证码", "100001", f.clock.Now()))
	})

	first := &numauth.SmsTemplate{AccountID: a.ID, Name: "验证码", Type: numauth.TemplateTypeVerification,
		Content: "您的验证码为${code}，5分钟内有效。", Remark: "登录", Rule: `{"code":"numberCaptcha"}`,
		MoreData: []string{"1/fcMediaSms/login.png"}}
	filed := *first
	mustDo(t, f.Signs.CreateSmsTemplate(ctx, first))
	created := f.clock.Now()
	t.Run("CreatedIsPendingWithACode", func(t *testing.T) {
		want := filed
		want.ID, want.OrderID, want.State = first.ID, first.OrderID, numauth.AuditPending
		want.SubmittedAt, want.CreatedAt, want.UpdatedAt = created, created, created
		if diff := cmp.Diff(&want, first); diff != "" {
			t.Errorf("created (-want +got):\n%s", diff)
		}
		if id, ok := numauth.ParseTemplateCode(first.Code()); !ok || id != first.ID || len(first.Code()) != len("SMS_")+9 {
			t.Errorf("code %q", first.Code())
		}
		found, err := f.Signs.FindSmsTemplateByCode(ctx, a.ID, first.Code())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, found); diff != "" {
			t.Errorf("FindSmsTemplateByCode (-created +found):\n%s", diff)
		}
		for _, code := range []string{"SMS_1", "100001", "SMS_", "sms_" + first.Code()[4:]} {
			_, err := f.Signs.FindSmsTemplateByCode(ctx, a.ID, code)
			checkError(t, err, numauth.ENOTFOUND, numauth.ReasonSmsTemplate)
		}
		_, err = f.Signs.FindSmsTemplateByCode(ctx, b.ID, first.Code())
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonSmsTemplate)
		checkError(t, f.Signs.CreateSmsTemplate(ctx, &numauth.SmsTemplate{AccountID: 1234567890123456, Name: "x", Content: "x"}), numauth.ENOTFOUND, "")
	})

	f.clock.Advance(time.Second)
	notice := &numauth.SmsTemplate{AccountID: a.ID, Name: "发货通知", Type: numauth.TemplateTypeNotice, Content: "您的订单${order}已发货。"}
	mustDo(t, f.Signs.CreateSmsTemplate(ctx, notice))

	t.Run("FindSmsTemplatesPagesNewestFirst", func(t *testing.T) {
		ts, total, err := f.Signs.FindSmsTemplates(ctx, numauth.SmsTemplateFilter{AccountID: a.ID, Limit: 1})
		if err != nil || total != 2 || len(ts) != 1 || ts[0].ID != notice.ID {
			t.Errorf("first page: %+v (total %d), %v", ts, total, err)
		}
		ts, _, _ = f.Signs.FindSmsTemplates(ctx, numauth.SmsTemplateFilter{AccountID: a.ID, Offset: 1})
		if len(ts) != 1 || ts[0].ID != first.ID {
			t.Errorf("second page: %+v", ts)
		}
		if ts, total, _ := f.Signs.FindSmsTemplates(ctx, numauth.SmsTemplateFilter{AccountID: b.ID}); len(ts) != 0 || total != 0 {
			t.Errorf("another account's: %+v", ts)
		}
	})

	t.Run("OnlyAPassedTemplateSends", func(t *testing.T) {
		r, _ := f.Signs.FindSendRights(ctx, a.ID)
		if !r.AnyTemplates || r.AnySigns {
			t.Fatalf("send rights: %+v", r)
		}
		checkError(t, r.CheckSend("任何签名", first.Code(), f.clock.Now()), numauth.EPRECONDITION, numauth.ReasonTemplateNotUsable)
		checkError(t, r.CheckSend("任何签名", "100001", f.clock.Now()), numauth.EPRECONDITION, numauth.ReasonTemplateNotUsable)

		pending, err := f.Signs.FindPendingSmsTemplates(ctx)
		if err != nil || len(pending) != 2 || pending[0].ID != first.ID || pending[0].Kind != numauth.ReviewKindTemplate ||
			pending[0].Name != "验证码" || !pending[0].CreatedAt.Equal(created) {
			t.Fatalf("pending: %+v, %v", pending, err)
		}
		f.clock.Advance(time.Hour)
		mustDo(t, f.Signs.ReviewSmsTemplate(ctx, numauth.Review{Kind: numauth.ReviewKindTemplate, ID: first.ID, Approve: true, By: "ops"}))
		mustDo(t, f.Signs.ReviewSmsTemplate(ctx, numauth.Review{Kind: numauth.ReviewKindTemplate, ID: notice.ID, Approve: false, Reason: "变量不符合规范", By: "ops"}))
		r, _ = f.Signs.FindSendRights(ctx, a.ID)
		mustDo(t, r.CheckSend("任何签名", first.Code(), f.clock.Now()))
		checkError(t, r.CheckSend("任何签名", notice.Code(), f.clock.Now()), numauth.EPRECONDITION, numauth.ReasonTemplateNotUsable)
		got, _ := f.Signs.FindSmsTemplateByCode(ctx, a.ID, notice.Code())
		if got.State != numauth.AuditRejected || got.AuditRemark != "变量不符合规范" || !got.AuditTime.Equal(f.clock.Now()) {
			t.Errorf("rejected: %+v", got)
		}
		if reviews, err := f.Letters.FindReviews(ctx, numauth.ReviewKindTemplate, notice.ID); err != nil || len(reviews) != 1 || reviews[0].Approve {
			t.Errorf("reviews: %+v, %v", reviews, err)
		}
		if pending, _ := f.Signs.FindPendingSmsTemplates(ctx); len(pending) != 0 {
			t.Errorf("pending after reviews: %+v", pending)
		}
		checkError(t, f.Signs.ReviewSmsTemplate(ctx, numauth.Review{ID: 1, Approve: true}), numauth.ENOTFOUND, numauth.ReasonSmsTemplate)
	})

	t.Run("UpdateFilesAgain", func(t *testing.T) {
		f.clock.Advance(time.Minute)
		u := *notice
		u.Content, u.Name = "您的订单${order}已发货，运单号${waybill}。", "发货通知2"
		mustDo(t, f.Signs.UpdateSmsTemplate(ctx, &u))
		if u.State != numauth.AuditPending || u.OrderID == notice.OrderID || !u.SubmittedAt.Equal(f.clock.Now()) || !u.CreatedAt.Equal(notice.CreatedAt) ||
			u.AuditRemark != "" || u.Name != "发货通知2" {
			t.Errorf("updated: %+v", u)
		}
		other := u
		other.AccountID = b.ID
		checkError(t, f.Signs.UpdateSmsTemplate(ctx, &other), numauth.ENOTFOUND, numauth.ReasonSmsTemplate)
	})

	t.Run("Delete", func(t *testing.T) {
		checkError(t, f.Signs.DeleteSmsTemplate(ctx, b.ID, first.Code()), numauth.ENOTFOUND, numauth.ReasonSmsTemplate)
		checkError(t, f.Signs.DeleteSmsTemplate(ctx, a.ID, "100001"), numauth.ENOTFOUND, numauth.ReasonSmsTemplate)
		mustDo(t, f.Signs.DeleteSmsTemplate(ctx, a.ID, first.Code()))
		checkError(t, f.Signs.DeleteSmsTemplate(ctx, a.ID, first.Code()), numauth.ENOTFOUND, numauth.ReasonSmsTemplate)
		r, _ := f.Signs.FindSendRights(ctx, a.ID)
		checkError(t, r.CheckSend("任何签名", first.Code(), f.clock.Now()), numauth.EPRECONDITION, numauth.ReasonTemplateNotUsable)
		mustDo(t, f.Signs.DeleteSmsTemplate(ctx, a.ID, notice.Code()))
		r, _ = f.Signs.FindSendRights(ctx, a.ID)
		mustDo(t, r.CheckSend("任何签名", "100001", f.clock.Now()))
	})
}

// testConcurrentSigns files one name many times at once, and races filing a signature against deleting
// its qualification: one filing of a name wins, and a qualification is never deleted from under a
// signature.
func testConcurrentSigns(t *testing.T, open opener) {
	f := mustSignFixture(t, open)
	ctx := t.Context()
	const n = 10
	var (
		wg   sync.WaitGroup
		errs [n]error
	)
	for i := range n {
		wg.Go(func() { errs[i] = f.Signs.CreateSign(ctx, f.thirdPartySign("菜鸟裹裹")) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch numauth.ErrorKindOf(err) {
		case "":
			ok++
		case numauth.ECONFLICT:
		default:
			t.Errorf("filing %d: got %v, want nil or ECONFLICT", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d filings of one name at once: %d went through, want 1", n, ok)
	}

	for round := range 5 {
		q := newQualification(f.a.ID, "竞争资质"+string(rune('A'+round)))
		q.UseBySelf = true
		mustDo(t, f.Qualifications.SubmitQualification(ctx, q))
		f.clock.Advance(numauth.QualificationInterval)
		mustDo(t, f.Qualifications.ReviewQualification(ctx, numauth.Review{ID: q.ID, Approve: true, By: "ops"}))
		sign := &numauth.Sign{AccountID: f.a.ID, Name: "竞争签名" + string(rune('A'+round)), QualificationID: q.ID, Type: numauth.SignTypeGeneral}
		var filed, deleted error
		wg.Go(func() { filed = f.Signs.CreateSign(ctx, sign) })
		wg.Go(func() { deleted = f.Qualifications.DeleteQualification(ctx, f.a.ID, q.ID) })
		wg.Wait()
		switch {
		case filed == nil && numauth.ErrorReasonOf(deleted) == numauth.ReasonQualificationInUse:
		case deleted == nil && numauth.ErrorReasonOf(filed) == numauth.ReasonQualification:
		default:
			t.Errorf("round %d: filing %v, deleting %v; want one to win and the other refused", round, filed, deleted)
		}
	}
}
