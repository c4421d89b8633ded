package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/numauth/numauth"
)

func newQualification(accountID int64, name string) *numauth.Qualification {
	return &numauth.Qualification{
		AccountID: accountID, Name: name, UseBySelf: false, WhetherShare: true,
		CompanyName: "菜鸟网络科技有限公司", CompanyType: numauth.CompanyTypeCompany, OrganizationCode: "91330100MA27XXXX0A",
		LicenseFrom: "2020-01-01", LicenseTo: numauth.LongTermDate,
		LegalPerson: numauth.QualificationPerson{Name: "李华", IDCardType: numauth.IDCardIdentityCard, IDCardNo: "11010519491231002X",
			IDCardFrom: "2015-01-01", IDCardTo: "2035-01-01", FrontKey: "1/dysms/legal-front.png", BackKey: "1/dysms/legal-back.png"},
		Admin: numauth.QualificationPerson{Name: "Jean-Luc O'Neil", IDCardType: numauth.IDCardPassport, IDCardNo: "E12345678",
			IDCardFrom: "2020-01-01", IDCardTo: "2030-01-01", FrontKey: "1/dysms/admin-front.png", BackKey: "1/dysms/admin-back.png"},
		AdminPhoneNo: "+8613800001234",
		BusinessLicensePics: []numauth.LicensePic{{Key: "1/dysms/license.png", Type: numauth.LicenseBusiness},
			{Key: "1/dysms/credit.jpg", Type: numauth.LicenseSocialCredit}},
		OtherFiles: []string{"1/dysms/more.pdf"},
		Remark:     "for 菜鸟 signatures",
	}
}

func testQualifications(t *testing.T, open opener) {
	f := mustOpen(t, open)
	ctx := t.Context()
	a, _ := mustCreateAccount(t, f, "a")
	b, _ := mustCreateAccount(t, f, "b")
	submit := func(q *numauth.Qualification) error {
		t.Helper()
		err := f.Qualifications.SubmitQualification(ctx, q)
		f.clock.Advance(numauth.QualificationInterval) // the next submission is not too soon
		return err
	}

	first := newQualification(a.ID, "菜鸟资质")
	submitted := *first
	mustDo(t, submit(first))
	t.Run("SubmittedIsPendingWithIDsAndTimes", func(t *testing.T) {
		if first.ID < 1e8 || first.ID >= 1e9 || first.WorkOrderID < 1e7 || first.WorkOrderID >= 1e8 {
			t.Errorf("IDs: got %d and work order %d, want 9 and 8 digits", first.ID, first.WorkOrderID)
		}
		want := submitted
		want.ID, want.WorkOrderID, want.State, want.CreatedAt, want.UpdatedAt = first.ID, first.WorkOrderID, numauth.QualificationPending, start, start
		if diff := cmp.Diff(&want, first); diff != "" {
			t.Errorf("submitted (-want +got):\n%s", diff)
		}
		found, err := f.Qualifications.FindQualificationByID(ctx, a.ID, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, found); diff != "" {
			t.Errorf("FindQualificationByID (-submitted +found):\n%s", diff)
		}
	})

	self := newQualification(a.ID, "自用资质")
	self.UseBySelf, self.BusinessLicensePics, self.OtherFiles = true, nil, nil
	self.CompanyName, self.LegalPerson.Name = "阿里云计算有限公司", "张三"
	mustDo(t, submit(self))
	t.Run("WithoutFilesReadsBackWithout", func(t *testing.T) {
		found, err := f.Qualifications.FindQualificationByID(ctx, a.ID, self.ID)
		if err != nil || len(found.BusinessLicensePics) != 0 || len(found.OtherFiles) != 0 || !found.UseBySelf {
			t.Errorf("got %+v, %v", found, err)
		}
	})
	others := newQualification(b.ID, "菜鸟资质")
	t.Run("AnotherAccountMayUseTheName", func(t *testing.T) {
		mustDo(t, submit(others))
	})

	t.Run("Refusals", func(t *testing.T) {
		checkError(t, submit(newQualification(a.ID, "菜鸟资质")), numauth.ECONFLICT, numauth.ReasonQualificationNameTaken)
		checkError(t, submit(newQualification(1234567890123456, "x")), numauth.ENOTFOUND, "")
	})

	t.Run("SubmissionWithinTheIntervalIsThrottled", func(t *testing.T) {
		mustDo(t, f.Qualifications.SubmitQualification(ctx, newQualification(a.ID, "第三份")))
		f.clock.Advance(2 * time.Second)
		err := f.Qualifications.SubmitQualification(ctx, newQualification(a.ID, "第四份"))
		checkError(t, err, numauth.ETHROTTLED, numauth.ReasonQualificationTooSoon)
		if got := numauth.AsError(err).RetryAfter; got != 3*time.Second {
			t.Errorf("RetryAfter: got %v, want 3s", got)
		}
		// Another account is not held back.
		mustDo(t, f.Qualifications.SubmitQualification(ctx, newQualification(b.ID, "第四份")))
		f.clock.Advance(3 * time.Second)
		mustDo(t, submit(newQualification(a.ID, "第四份")))
	})

	find := func(filter numauth.QualificationFilter) ([]string, int) {
		t.Helper()
		filter.AccountID = a.ID
		qs, total, err := f.Qualifications.FindQualifications(ctx, filter)
		if err != nil {
			t.Fatalf("FindQualifications: %v", err)
		}
		var names []string
		for _, q := range qs {
			if q.AccountID != a.ID {
				t.Errorf("FindQualifications: got account %d's qualification", q.AccountID)
			}
			names = append(names, q.Name)
		}
		return names, total
	}
	yes, no := true, false
	t.Run("FindFiltersNewestFirst", func(t *testing.T) {
		for name, tt := range map[string]struct {
			filter    numauth.QualificationFilter
			want      []string
			wantTotal int
		}{
			"all":            {numauth.QualificationFilter{}, []string{"第四份", "第三份", "自用资质", "菜鸟资质"}, 4},
			"by name":        {numauth.QualificationFilter{Name: "菜鸟资质"}, []string{"菜鸟资质"}, 1},
			"by company":     {numauth.QualificationFilter{CompanyName: "阿里云计算有限公司"}, []string{"自用资质"}, 1},
			"by legal":       {numauth.QualificationFilter{LegalPersonName: "张三"}, []string{"自用资质"}, 1},
			"by work order":  {numauth.QualificationFilter{WorkOrderID: first.WorkOrderID}, []string{"菜鸟资质"}, 1},
			"self use":       {numauth.QualificationFilter{UseBySelf: &yes}, []string{"自用资质"}, 1},
			"third party":    {numauth.QualificationFilter{UseBySelf: &no}, []string{"第四份", "第三份", "菜鸟资质"}, 3},
			"pending":        {numauth.QualificationFilter{State: numauth.QualificationPending}, []string{"第四份", "第三份", "自用资质", "菜鸟资质"}, 4},
			"passed":         {numauth.QualificationFilter{State: numauth.QualificationPassed}, nil, 0},
			"first page":     {numauth.QualificationFilter{Limit: 3}, []string{"第四份", "第三份", "自用资质"}, 4},
			"second page":    {numauth.QualificationFilter{Offset: 3, Limit: 3}, []string{"菜鸟资质"}, 4},
			"past the end":   {numauth.QualificationFilter{Offset: 8, Limit: 3}, nil, 4},
			"another's name": {numauth.QualificationFilter{WorkOrderID: others.WorkOrderID}, nil, 0},
		} {
			got, total := find(tt.filter)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" || total != tt.wantTotal {
				t.Errorf("%s: got %v (total %d), want %v (total %d)", name, got, total, tt.want, tt.wantTotal)
			}
		}
		qs, _, _ := f.Qualifications.FindQualifications(ctx, numauth.QualificationFilter{AccountID: a.ID, Name: "菜鸟资质"})
		if len(qs) != 1 || cmp.Diff(first, qs[0]) != "" {
			t.Errorf("FindQualifications reads back (-submitted +found):\n%s", cmp.Diff(first, qs))
		}
	})

	t.Run("AnotherAccountsQualificationIsNotFound", func(t *testing.T) {
		_, err := f.Qualifications.FindQualificationByID(ctx, b.ID, first.ID)
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonQualification)
		checkError(t, f.Qualifications.DeleteQualification(ctx, b.ID, first.ID), numauth.ENOTFOUND, numauth.ReasonQualification)
	})

	t.Run("ReviewIsRecordedAndLeavesTheQueue", func(t *testing.T) {
		pending, err := f.Qualifications.FindPendingQualifications(ctx)
		if err != nil || len(pending) != 6 || pending[0].ID != first.ID || pending[0].Kind != numauth.ReviewKindQualification ||
			pending[0].AccountID != a.ID || pending[0].Name != "菜鸟资质" || !pending[0].CreatedAt.Equal(start) {
			t.Fatalf("pending: got %d items (%+v), %v, want 6, the first submitted first", len(pending), pending, err)
		}
		f.clock.Advance(time.Hour)
		at := f.clock.Now()
		mustDo(t, f.Qualifications.ReviewQualification(ctx, numauth.Review{Kind: numauth.ReviewKindQualification, ID: first.ID,
			Approve: true, Reason: "材料齐全", By: "ops@example"}))
		mustDo(t, f.Qualifications.ReviewQualification(ctx, numauth.Review{Kind: numauth.ReviewKindQualification, ID: self.ID,
			Approve: false, Reason: "营业执照不清晰", By: "ops@example"}))
		got, err := f.Qualifications.FindQualificationByID(ctx, a.ID, first.ID)
		if err != nil || got.State != numauth.QualificationPassed || got.AuditRemark != "材料齐全" || !got.AuditTime.Equal(at) ||
			!got.UpdatedAt.Equal(at) {
			t.Errorf("approved: got %+v, %v", got, err)
		}
		if names, _ := find(numauth.QualificationFilter{State: numauth.QualificationRejected}); len(names) != 1 || names[0] != "自用资质" {
			t.Errorf("rejected: got %v", names)
		}
		reviews, err := f.Letters.FindReviews(ctx, numauth.ReviewKindQualification, first.ID)
		if err != nil || len(reviews) != 1 || !reviews[0].Approve || reviews[0].By != "ops@example" || reviews[0].AccountID != a.ID ||
			reviews[0].Reason != "材料齐全" || !reviews[0].At.Equal(at) {
			t.Errorf("reviews: got %+v, %v", reviews, err)
		}
		if pending, _ := f.Qualifications.FindPendingQualifications(ctx); len(pending) != 4 {
			t.Errorf("pending after two reviews: got %d, want 4", len(pending))
		}
		checkError(t, f.Qualifications.ReviewQualification(ctx, numauth.Review{ID: 1, Approve: true}), numauth.ENOTFOUND, numauth.ReasonQualification)
	})

	t.Run("DeleteRemovesItAndFreesTheName", func(t *testing.T) {
		mustDo(t, f.Qualifications.DeleteQualification(ctx, a.ID, first.ID))
		_, err := f.Qualifications.FindQualificationByID(ctx, a.ID, first.ID)
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonQualification)
		checkError(t, f.Qualifications.DeleteQualification(ctx, a.ID, first.ID), numauth.ENOTFOUND, numauth.ReasonQualification)
		if reviews, _ := f.Letters.FindReviews(ctx, numauth.ReviewKindQualification, first.ID); len(reviews) != 1 {
			t.Errorf("reviews after delete: got %d, want the one on record", len(reviews))
		}
		if _, err := f.Qualifications.FindQualificationByID(ctx, b.ID, others.ID); err != nil {
			t.Errorf("the other account's qualification of the same name: %v", err)
		}
		mustDo(t, submit(newQualification(a.ID, "菜鸟资质")))
	})
}

func testConcurrentQualifications(t *testing.T, open opener) {
	f := mustOpen(t, open)
	a, _ := mustCreateAccount(t, f, "a")
	const n = 20
	var (
		wg   sync.WaitGroup
		errs [n]error
	)
	for i := range n {
		name := "资质" + string(rune('A'+i))
		if i%2 == 1 {
			name = "同名资质"
		}
		wg.Go(func() { errs[i] = f.Qualifications.SubmitQualification(t.Context(), newQualification(a.ID, name)) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch numauth.ErrorKindOf(err) {
		case "":
			ok++
		case numauth.ETHROTTLED, numauth.ECONFLICT:
		default:
			t.Errorf("submission %d: got %v, want nil, ETHROTTLED or ECONFLICT", i, err)
		}
	}
	if _, total, err := f.Qualifications.FindQualifications(t.Context(), numauth.QualificationFilter{AccountID: a.ID}); ok != 1 || total != 1 || err != nil {
		t.Errorf("%d submissions at once: got %d through and %d stored (%v), want one of each", n, ok, total, err)
	}
}
