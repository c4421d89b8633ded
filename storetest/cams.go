package storetest

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/numauth/numauth"
)

// camsFixture is a store with two accounts, a and b, and a customer space of each.
type camsFixture struct {
	*fixture
	a, b           *numauth.Account
	spaceA, spaceB *numauth.CustSpace
	other          *numauth.CustSpace // a second space of a, made by the tests that need one
}

func mustCAMSFixture(t *testing.T, open opener) *camsFixture {
	t.Helper()
	f := mustOpen(t, open)
	a, _ := mustCreateAccount(t, f, "a")
	b, _ := mustCreateAccount(t, f, "b")
	cf := &camsFixture{fixture: f, a: a, b: b}
	cf.spaceA = cf.mustCreateSpace(t, a.ID, "shop of a")
	cf.spaceB = cf.mustCreateSpace(t, b.ID, "shop of b")
	return cf
}

func (f *camsFixture) mustCreateSpace(tb testing.TB, accountID int64, name string) *numauth.CustSpace {
	tb.Helper()
	cs, err := f.CAMS.CreateCustSpace(context.Background(), accountID, name)
	if err != nil {
		tb.Fatalf("CreateCustSpace(%s): %v", name, err)
	}
	return cs
}

func (f *camsFixture) mustAdd(tb testing.TB, accountID int64, spaceID, phone, name string) *numauth.ChatappNumber {
	tb.Helper()
	n, err := f.CAMS.AddChatappNumber(context.Background(), accountID, spaceID, phone, name)
	if err != nil {
		tb.Fatalf("AddChatappNumber(%s, %s): %v", spaceID, phone, err)
	}
	return n
}

func (f *camsFixture) mustSetStatus(tb testing.TB, accountID int64, spaceID, phone, status, codeStatus string) {
	tb.Helper()
	if err := f.CAMS.SetChatappNumberStatus(context.Background(), accountID, spaceID, phone, status, codeStatus); err != nil {
		tb.Fatalf("SetChatappNumberStatus(%s, %s, %q, %q): %v", spaceID, phone, status, codeStatus, err)
	}
}

func (f *camsFixture) mustFind(tb testing.TB, accountID int64, spaceID, phone string) *numauth.ChatappNumber {
	tb.Helper()
	n, err := f.CAMS.FindChatappNumber(context.Background(), accountID, spaceID, phone)
	if err != nil {
		tb.Fatalf("FindChatappNumber(%s, %s): %v", spaceID, phone, err)
	}
	return n
}

// unverified is a number of space a as AddChatappNumber creates it at the time.
func (f *camsFixture) unverified(phone, name string, at time.Time) *numauth.ChatappNumber {
	return &numauth.ChatappNumber{AccountID: f.a.ID, CustSpaceID: f.spaceA.ID, Phone: phone, VerifiedName: name,
		Status: numauth.ChatappUnverified, CodeVerificationStatus: numauth.CodeNotVerified, CreatedAt: at, UpdatedAt: at}
}

var custSpaceID = regexp.MustCompile(`^cams-[a-z0-9]{8}$`)

func testCreateCustSpace(t *testing.T, open opener) {
	t.Run("SpaceIsFoundAsCreated", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "acme")
		f.clock.Advance(time.Minute)
		cs, err := f.CAMS.CreateCustSpace(t.Context(), a.ID, "Acme Shop")
		if err != nil {
			t.Fatalf("CreateCustSpace: %v", err)
		}
		if !custSpaceID.MatchString(cs.ID) {
			t.Errorf("space ID: got %q, want cams- and 8 lower-case letters and digits", cs.ID)
		}
		want := &numauth.CustSpace{ID: cs.ID, AccountID: a.ID, Name: "Acme Shop", CreatedAt: start.Add(time.Minute)}
		if diff := cmp.Diff(want, cs); diff != "" {
			t.Errorf("CreateCustSpace (-want +got):\n%s", diff)
		}
		found, err := f.CAMS.FindCustSpace(t.Context(), a.ID, cs.ID)
		if err != nil {
			t.Fatalf("FindCustSpace: %v", err)
		}
		if diff := cmp.Diff(cs, found); diff != "" {
			t.Errorf("FindCustSpace (-created +found):\n%s", diff)
		}
	})
	t.Run("SpacesGetDistinctIDs", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "acme")
		seen := make(map[string]bool)
		for range 20 {
			cs, err := f.CAMS.CreateCustSpace(t.Context(), a.ID, "same name")
			if err != nil {
				t.Fatalf("CreateCustSpace: %v", err)
			}
			if seen[cs.ID] {
				t.Fatalf("CreateCustSpace: got ID %s twice", cs.ID)
			}
			seen[cs.ID] = true
		}
	})

	tests := []struct {
		name       string
		account    func(a *numauth.Account) int64
		spaceName  string
		wantKind   numauth.ErrorKind
		wantReason string
	}{
		{"EmptyNameIsMissing", func(a *numauth.Account) int64 { return a.ID }, "", numauth.EINVALID, numauth.ReasonMissing},
		{"UnknownAccountIsNotFound", func(*numauth.Account) int64 { return 1234567890123456 }, "shop", numauth.ENOTFOUND, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, _ := mustCreateAccount(t, f, "acme")
			cs, err := f.CAMS.CreateCustSpace(t.Context(), tt.account(a), tt.spaceName)
			checkError(t, err, tt.wantKind, tt.wantReason)
			if cs != nil {
				t.Errorf("CreateCustSpace: got %+v, want nil", cs)
			}
		})
	}
}

func testFindCustSpace(t *testing.T, open opener) {
	tests := []struct {
		name    string
		account func(f *camsFixture) int64
		space   func(f *camsFixture) string
	}{
		{"UnknownSpaceIsNotFound", func(f *camsFixture) int64 { return f.a.ID }, func(*camsFixture) string { return "cams-00000000" }},
		{"OtherAccountsSpaceIsNotFound", func(f *camsFixture) int64 { return f.b.ID }, func(f *camsFixture) string { return f.spaceA.ID }},
		{"UnknownAccountIsNotFound", func(*camsFixture) int64 { return 1234567890123456 }, func(f *camsFixture) string { return f.spaceA.ID }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCAMSFixture(t, open)
			cs, err := f.CAMS.FindCustSpace(t.Context(), tt.account(f), tt.space(f))
			checkError(t, err, numauth.ENOTFOUND, numauth.ReasonCustSpace)
			if cs != nil {
				t.Errorf("FindCustSpace: got %+v, want nil", cs)
			}
		})
	}
}

func testAddChatappNumber(t *testing.T, open opener) {
	t.Run("NewNumberIsUnverifiedInE164", func(t *testing.T) {
		f := mustCAMSFixture(t, open)
		f.clock.Advance(time.Minute)
		n := f.mustAdd(t, f.a.ID, f.spaceA.ID, "8613900000000", "Acme")
		want := f.unverified(phone, "Acme", start.Add(time.Minute))
		if diff := cmp.Diff(want, n); diff != "" {
			t.Errorf("AddChatappNumber (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(n, f.mustFind(t, f.a.ID, f.spaceA.ID, phone)); diff != "" {
			t.Errorf("FindChatappNumber (-added +found):\n%s", diff)
		}
	})

	// Each test adds the number as "Old", moves it to a status, and an hour later adds it again as "New": the
	// number keeps the first add's CreatedAt and takes the second add's UpdatedAt.
	tests := []struct {
		name                 string
		status, codeStatus   string // "" and "" leave the number as added
		wantStatus, wantCode string
	}{
		{"UnverifiedNumberTakesNewNameAndStaysUnverified", "", "",
			numauth.ChatappUnverified, numauth.CodeNotVerified},
		{"ConnectedNumberTakesNewNameAndStaysConnected", numauth.ChatappConnected, numauth.CodeVerified,
			numauth.ChatappConnected, numauth.CodeVerified},
		{"CodeVerifiedNumberKeepsItsCodeStatus", "", numauth.CodeVerified,
			numauth.ChatappUnverified, numauth.CodeVerified},
		{"DeletedNumberComesBackUnverified", numauth.ChatappDeleted, numauth.CodeVerified,
			numauth.ChatappUnverified, numauth.CodeNotVerified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCAMSFixture(t, open)
			f.mustAdd(t, f.a.ID, f.spaceA.ID, phone, "Old")
			if tt.status != "" || tt.codeStatus != "" {
				f.mustSetStatus(t, f.a.ID, f.spaceA.ID, phone, tt.status, tt.codeStatus)
			}
			f.clock.Advance(time.Hour)
			n := f.mustAdd(t, f.a.ID, f.spaceA.ID, phone, "New")
			want := &numauth.ChatappNumber{AccountID: f.a.ID, CustSpaceID: f.spaceA.ID, Phone: phone, VerifiedName: "New",
				Status: tt.wantStatus, CodeVerificationStatus: tt.wantCode, CreatedAt: start, UpdatedAt: start.Add(time.Hour)}
			if diff := cmp.Diff(want, n); diff != "" {
				t.Errorf("AddChatappNumber again (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, f.mustFind(t, f.a.ID, f.spaceA.ID, phone)); diff != "" {
				t.Errorf("FindChatappNumber after adding again (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("NumberInTwoSpacesIsTwoNumbers", func(t *testing.T) {
		f := mustCAMSFixture(t, open)
		other := f.mustCreateSpace(t, f.a.ID, "another shop")
		f.mustAdd(t, f.a.ID, f.spaceA.ID, phone, "First")
		f.mustSetStatus(t, f.a.ID, f.spaceA.ID, phone, numauth.ChatappConnected, numauth.CodeVerified)
		n := f.mustAdd(t, f.a.ID, other.ID, phone, "Second")
		if n.CustSpaceID != other.ID || n.VerifiedName != "Second" || n.Status != numauth.ChatappUnverified {
			t.Errorf("AddChatappNumber to the second space: got %+v, want a new unverified number named Second", n)
		}
		if first := f.mustFind(t, f.a.ID, f.spaceA.ID, phone); first.VerifiedName != "First" || first.Status != numauth.ChatappConnected {
			t.Errorf("number in the first space: got %+v, want it connected and named First", first)
		}
	})

	errorTests := []struct {
		name       string
		account    func(f *camsFixture) int64
		space      func(f *camsFixture) string
		phone      string
		wantKind   numauth.ErrorKind
		wantReason string
	}{
		{"UnknownSpaceIsNotFound", func(f *camsFixture) int64 { return f.a.ID }, func(*camsFixture) string { return "cams-00000000" },
			phone, numauth.ENOTFOUND, numauth.ReasonCustSpace},
		{"OtherAccountsSpaceIsNotFound", func(f *camsFixture) int64 { return f.b.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			phone, numauth.ENOTFOUND, numauth.ReasonCustSpace},
		{"BadPhoneIsInvalid", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			"12345", numauth.EINVALID, numauth.ReasonPhoneNumber},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCAMSFixture(t, open)
			n, err := f.CAMS.AddChatappNumber(t.Context(), tt.account(f), tt.space(f), tt.phone, "Acme")
			checkError(t, err, tt.wantKind, tt.wantReason)
			if n != nil {
				t.Errorf("AddChatappNumber: got %+v, want nil", n)
			}
			if ns, err := f.CAMS.FindChatappNumbers(t.Context(), f.a.ID, f.spaceA.ID, ""); err != nil || len(ns) != 0 {
				t.Errorf("FindChatappNumbers of space a after a refused add: got %v, %v; want none", ns, err)
			}
		})
	}
}

func testFindChatappNumber(t *testing.T, open opener) {
	t.Run("NumberIsFoundByAnyFormOfItsPhone", func(t *testing.T) {
		f := mustCAMSFixture(t, open)
		added := f.mustAdd(t, f.a.ID, f.spaceA.ID, phone, "Acme")
		for _, p := range []string{phone, "8613900000000", "13900000000", "008613900000000"} {
			if diff := cmp.Diff(added, f.mustFind(t, f.a.ID, f.spaceA.ID, p)); diff != "" {
				t.Errorf("FindChatappNumber(%s) (-added +found):\n%s", p, diff)
			}
		}
	})

	tests := []struct {
		name       string
		account    func(f *camsFixture) int64
		space      func(f *camsFixture) string
		phone      string
		wantKind   numauth.ErrorKind
		wantReason string
	}{
		{"UnknownNumberIsNotFound", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			"+8613900000001", numauth.ENOTFOUND, numauth.ReasonChatappNumber},
		{"NumberOfAnotherSpaceIsNotFound", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.other.ID },
			phone, numauth.ENOTFOUND, numauth.ReasonChatappNumber},
		{"UnknownSpaceIsNotFound", func(f *camsFixture) int64 { return f.a.ID }, func(*camsFixture) string { return "cams-00000000" },
			phone, numauth.ENOTFOUND, numauth.ReasonCustSpace},
		{"OtherAccountsSpaceIsNotFound", func(f *camsFixture) int64 { return f.b.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			phone, numauth.ENOTFOUND, numauth.ReasonCustSpace},
		{"BadPhoneIsInvalid", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			"12345", numauth.EINVALID, numauth.ReasonPhoneNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCAMSFixture(t, open)
			f.other = f.mustCreateSpace(t, f.a.ID, "another shop of a")
			f.mustAdd(t, f.a.ID, f.spaceA.ID, phone, "Acme")
			n, err := f.CAMS.FindChatappNumber(t.Context(), tt.account(f), tt.space(f), tt.phone)
			checkError(t, err, tt.wantKind, tt.wantReason)
			if n != nil {
				t.Errorf("FindChatappNumber: got %+v, want nil", n)
			}
		})
	}
}

func testFindChatappNumbers(t *testing.T, open opener) {
	// Space a holds three numbers, added out of order, in three statuses; another space of a holds a fourth.
	setup := func(t *testing.T, f *camsFixture) {
		f.other = f.mustCreateSpace(t, f.a.ID, "another shop of a")
		f.mustAdd(t, f.a.ID, f.other.ID, "+8613900000000", "Other")
		for _, n := range []struct{ phone, status string }{
			{"+8613900000003", numauth.ChatappDeleted},
			{"+8613900000001", numauth.ChatappConnected},
			{"+8613900000002", ""},
		} {
			f.mustAdd(t, f.a.ID, f.spaceA.ID, n.phone, "Acme")
			if n.status != "" {
				f.mustSetStatus(t, f.a.ID, f.spaceA.ID, n.phone, n.status, "")
			}
		}
	}
	tests := []struct {
		name   string
		status string
		want   []string // phones, in order
	}{
		{"EmptyStatusListsEveryNumberByPhone", "", []string{"+8613900000001", "+8613900000002", "+8613900000003"}},
		{"UnverifiedListsUnverifiedNumbers", numauth.ChatappUnverified, []string{"+8613900000002"}},
		{"ConnectedListsConnectedNumbers", numauth.ChatappConnected, []string{"+8613900000001"}},
		{"DeletedListsDeletedNumbers", numauth.ChatappDeleted, []string{"+8613900000003"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCAMSFixture(t, open)
			setup(t, f)
			ns, err := f.CAMS.FindChatappNumbers(t.Context(), f.a.ID, f.spaceA.ID, tt.status)
			if err != nil {
				t.Fatalf("FindChatappNumbers: %v", err)
			}
			var got []string
			for _, n := range ns {
				if n.AccountID != f.a.ID || n.CustSpaceID != f.spaceA.ID || (tt.status != "" && n.Status != tt.status) {
					t.Errorf("FindChatappNumbers: got %+v, want a number of space a in status %q", n, tt.status)
				}
				got = append(got, n.Phone)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FindChatappNumbers(%q) phones (-want +got):\n%s", tt.status, diff)
			}
		})
	}
	t.Run("ListedNumberIsAsFound", func(t *testing.T) {
		f := mustCAMSFixture(t, open)
		added := f.mustAdd(t, f.a.ID, f.spaceA.ID, phone, "Acme")
		ns, err := f.CAMS.FindChatappNumbers(t.Context(), f.a.ID, f.spaceA.ID, "")
		if err != nil {
			t.Fatalf("FindChatappNumbers: %v", err)
		}
		if diff := cmp.Diff([]*numauth.ChatappNumber{added}, ns); diff != "" {
			t.Errorf("FindChatappNumbers (-added +listed):\n%s", diff)
		}
	})
	t.Run("EmptySpaceListsNone", func(t *testing.T) {
		f := mustCAMSFixture(t, open)
		if ns, err := f.CAMS.FindChatappNumbers(t.Context(), f.a.ID, f.spaceA.ID, ""); err != nil || len(ns) != 0 {
			t.Errorf("FindChatappNumbers of an empty space: got %v, %v; want none", ns, err)
		}
	})

	errorTests := []struct {
		name       string
		account    func(f *camsFixture) int64
		space      func(f *camsFixture) string
		status     string
		wantKind   numauth.ErrorKind
		wantReason string
	}{
		{"UnknownSpaceIsNotFound", func(f *camsFixture) int64 { return f.a.ID }, func(*camsFixture) string { return "cams-00000000" },
			"", numauth.ENOTFOUND, numauth.ReasonCustSpace},
		{"OtherAccountsSpaceIsNotFound", func(f *camsFixture) int64 { return f.b.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			"", numauth.ENOTFOUND, numauth.ReasonCustSpace},
		{"UnknownStatusIsMalformed", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			"ACTIVE", numauth.EINVALID, numauth.ReasonMalformed},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCAMSFixture(t, open)
			setup(t, f)
			ns, err := f.CAMS.FindChatappNumbers(t.Context(), tt.account(f), tt.space(f), tt.status)
			checkError(t, err, tt.wantKind, tt.wantReason)
			if ns != nil {
				t.Errorf("FindChatappNumbers: got %v, want nil", ns)
			}
		})
	}
}

func testSetChatappNumberStatus(t *testing.T, open opener) {
	// Each test starts from a number that is CONNECTED and NOT_VERIFIED, and changes it an hour later.
	tests := []struct {
		name                 string
		status, codeStatus   string
		wantStatus, wantCode string
		wantUpdated          time.Time
	}{
		{"BothChange", numauth.ChatappDeleted, numauth.CodeVerified,
			numauth.ChatappDeleted, numauth.CodeVerified, start.Add(time.Hour)},
		{"EmptyStatusKeepsStatus", "", numauth.CodeVerified,
			numauth.ChatappConnected, numauth.CodeVerified, start.Add(time.Hour)},
		{"EmptyCodeStatusKeepsCodeStatus", numauth.ChatappUnverified, "",
			numauth.ChatappUnverified, numauth.CodeNotVerified, start.Add(time.Hour)},
		{"BothEmptyChangeNothing", "", "",
			numauth.ChatappConnected, numauth.CodeNotVerified, start},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCAMSFixture(t, open)
			f.mustAdd(t, f.a.ID, f.spaceA.ID, phone, "Acme")
			f.mustSetStatus(t, f.a.ID, f.spaceA.ID, phone, numauth.ChatappConnected, "")
			f.clock.Advance(time.Hour)
			f.mustSetStatus(t, f.a.ID, f.spaceA.ID, phone, tt.status, tt.codeStatus)
			want := &numauth.ChatappNumber{AccountID: f.a.ID, CustSpaceID: f.spaceA.ID, Phone: phone, VerifiedName: "Acme",
				Status: tt.wantStatus, CodeVerificationStatus: tt.wantCode, CreatedAt: start, UpdatedAt: tt.wantUpdated}
			if diff := cmp.Diff(want, f.mustFind(t, f.a.ID, f.spaceA.ID, phone)); diff != "" {
				t.Errorf("FindChatappNumber after SetChatappNumberStatus(%q, %q) (-want +got):\n%s", tt.status, tt.codeStatus, diff)
			}
		})
	}

	errorTests := []struct {
		name               string
		account            func(f *camsFixture) int64
		space              func(f *camsFixture) string
		phone              string
		status, codeStatus string
		wantKind           numauth.ErrorKind
		wantReason         string
	}{
		{"UnknownNumberIsNotFound", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			"+8613900000001", numauth.ChatappConnected, "", numauth.ENOTFOUND, numauth.ReasonChatappNumber},
		{"UnknownNumberWithNothingToChangeIsNotFound", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			"+8613900000001", "", "", numauth.ENOTFOUND, numauth.ReasonChatappNumber},
		{"NumberOfAnotherSpaceIsNotFound", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.other.ID },
			phone, numauth.ChatappConnected, "", numauth.ENOTFOUND, numauth.ReasonChatappNumber},
		{"UnknownSpaceIsNotFound", func(f *camsFixture) int64 { return f.a.ID }, func(*camsFixture) string { return "cams-00000000" },
			phone, numauth.ChatappConnected, "", numauth.ENOTFOUND, numauth.ReasonCustSpace},
		{"OtherAccountsSpaceIsNotFound", func(f *camsFixture) int64 { return f.b.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			phone, numauth.ChatappConnected, numauth.CodeVerified, numauth.ENOTFOUND, numauth.ReasonCustSpace},
		{"UnknownStatusIsMalformed", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			phone, "ACTIVE", "", numauth.EINVALID, numauth.ReasonMalformed},
		{"UnknownCodeStatusIsMalformed", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			phone, "", "MAYBE", numauth.EINVALID, numauth.ReasonMalformed},
		{"BadPhoneIsInvalid", func(f *camsFixture) int64 { return f.a.ID }, func(f *camsFixture) string { return f.spaceA.ID },
			"12345", numauth.ChatappConnected, "", numauth.EINVALID, numauth.ReasonPhoneNumber},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCAMSFixture(t, open)
			f.other = f.mustCreateSpace(t, f.a.ID, "another shop of a")
			added := f.mustAdd(t, f.a.ID, f.spaceA.ID, phone, "Acme")
			f.clock.Advance(time.Hour)
			err := f.CAMS.SetChatappNumberStatus(t.Context(), tt.account(f), tt.space(f), tt.phone, tt.status, tt.codeStatus)
			checkError(t, err, tt.wantKind, tt.wantReason)
			if diff := cmp.Diff(added, f.mustFind(t, f.a.ID, f.spaceA.ID, phone)); diff != "" {
				t.Errorf("number after a refused SetChatappNumberStatus (-added +found):\n%s", diff)
			}
		})
	}
}

// testCAMSTenantIsolation has account b try every method on a's space, and checks that b's own space and
// number of the same phone stay apart from a's.
func testCAMSTenantIsolation(t *testing.T, open opener) {
	t.Run("OtherAccountCanNeitherFindAddListNorChange", func(t *testing.T) {
		f := mustCAMSFixture(t, open)
		added := f.mustAdd(t, f.a.ID, f.spaceA.ID, phone, "Acme")
		ctx := t.Context()
		calls := []struct {
			name string
			call func() error
		}{
			{"FindCustSpace", func() error { _, err := f.CAMS.FindCustSpace(ctx, f.b.ID, f.spaceA.ID); return err }},
			{"AddChatappNumber", func() error {
				_, err := f.CAMS.AddChatappNumber(ctx, f.b.ID, f.spaceA.ID, phone, "Hijacked")
				return err
			}},
			{"AddChatappNumberOfAnotherPhone", func() error {
				_, err := f.CAMS.AddChatappNumber(ctx, f.b.ID, f.spaceA.ID, "+8613900000001", "Intruder")
				return err
			}},
			{"FindChatappNumber", func() error { _, err := f.CAMS.FindChatappNumber(ctx, f.b.ID, f.spaceA.ID, phone); return err }},
			{"FindChatappNumbers", func() error { _, err := f.CAMS.FindChatappNumbers(ctx, f.b.ID, f.spaceA.ID, ""); return err }},
			{"SetChatappNumberStatus", func() error {
				return f.CAMS.SetChatappNumberStatus(ctx, f.b.ID, f.spaceA.ID, phone, numauth.ChatappDeleted, numauth.CodeVerified)
			}},
		}
		for _, c := range calls {
			if err := c.call(); numauth.ErrorKindOf(err) != numauth.ENOTFOUND || numauth.ErrorReasonOf(err) != numauth.ReasonCustSpace {
				t.Errorf("%s by account b on a's space: got %v, want not_found/%s", c.name, err, numauth.ReasonCustSpace)
			}
		}
		ns, err := f.CAMS.FindChatappNumbers(ctx, f.a.ID, f.spaceA.ID, "")
		if err != nil {
			t.Fatalf("FindChatappNumbers: %v", err)
		}
		if diff := cmp.Diff([]*numauth.ChatappNumber{added}, ns); diff != "" {
			t.Errorf("a's numbers after b's attempts (-want +got):\n%s", diff)
		}
	})
	t.Run("SamePhoneInEachAccountIsSeparate", func(t *testing.T) {
		f := mustCAMSFixture(t, open)
		f.mustAdd(t, f.a.ID, f.spaceA.ID, phone, "A")
		f.mustAdd(t, f.b.ID, f.spaceB.ID, phone, "B")
		f.mustSetStatus(t, f.b.ID, f.spaceB.ID, phone, numauth.ChatappConnected, numauth.CodeVerified)
		if n := f.mustFind(t, f.a.ID, f.spaceA.ID, phone); n.VerifiedName != "A" || n.Status != numauth.ChatappUnverified {
			t.Errorf("a's number: got %+v, want it unverified and named A", n)
		}
		if n := f.mustFind(t, f.b.ID, f.spaceB.ID, phone); n.AccountID != f.b.ID || n.VerifiedName != "B" || n.Status != numauth.ChatappConnected {
			t.Errorf("b's number: got %+v, want it b's, connected and named B", n)
		}
		if _, err := f.CAMS.FindChatappNumber(t.Context(), f.a.ID, f.spaceB.ID, phone); numauth.ErrorReasonOf(err) != numauth.ReasonCustSpace {
			t.Errorf("a finding b's number: got %v, want not_found/%s", err, numauth.ReasonCustSpace)
		}
	})
}
