// Package storetest is the conformance suite of numauth's storage: the same table tests run against every
// implementation of the storage services (SQLite and PostgreSQL), so that the engines cannot drift apart.
// New storage behaviour is added here first.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
)

// Stores is one store under test: its services and what the suite needs besides them.
type Stores struct {
	numauth.Stores

	// EnsureSchema creates the schema in an empty database, as the server does at a fresh install.
	EnsureSchema func(context.Context) error
	// Migrate applies the migrations the database lacks.
	Migrate func(context.Context) error
	// SchemaVersion returns the database's schema version (0 for none) and the latest one the store knows.
	SchemaVersion func(context.Context) (current, latest int, err error)

	// Sealer is the sealer the store seals secrets with.
	Sealer numauth.SecretSealer
	// CheckMasterKey says, reading only, whether the key of fingerprint (which sealer holds) is the
	// database's: bound when it records that fingerprint; not bound and no error when it records none and
	// the key opens its sealed values or it holds none; an error otherwise (see sqlstore.DB.CheckMasterKey).
	CheckMasterKey func(ctx context.Context, fingerprint []byte, sealer numauth.SecretSealer) (bound bool, err error)
	// BindMasterKey records fingerprint as the database's key, or fails when another one is recorded.
	BindMasterKey func(ctx context.Context, fingerprint []byte) error
	// QueryRow runs one read of the database's own SQL ('?' placeholders), for tests that look at what is
	// stored at rest (a sealed column).
	QueryRow func(ctx context.Context, query string, args ...any) *sql.Row
}

// Run runs the suite. open returns Stores on a fresh, empty database, with no schema yet, whose time is
// clock's; it releases the database when t ends. Every test opens its own database, and tests run in
// parallel.
func Run(t *testing.T, open func(t *testing.T, clock numauth.Clock) Stores) {
	tests := []struct {
		name string
		fn   func(*testing.T, opener)
	}{
		{"Schema", testSchema},
		{"CreateAccount", testCreateAccount},
		{"FindAccountByID", testFindAccountByID},
		{"FindAccounts", testFindAccounts},
		{"SetAccountState", testSetAccountState},
		{"SetSubscription", testSetSubscription},
		{"AccessKeys", testAccessKeys},
		{"RAMUsers", testRAMUsers},
		{"FindCredential", testFindCredential},
		{"SetQuota", testSetQuota},
		{"Revision", testRevision},
		{"Schemes", testSchemes},
		{"CreateAuthorizationRequest", testCreateAuthorizationRequest},
		{"FindAuthorizationRequestByID", testFindAuthorizationRequestByID},
		{"ConcurrentAuthorizationRequests", testConcurrentAuthorizationRequests},
		{"SendCode", testSendCode},
		{"SendCodeValidation", testSendCodeValidation},
		{"CheckCode", testCheckCode},
		{"DuplicatePolicy", testDuplicatePolicy},
		{"SendLimits", testSendLimits},
		{"Destinations", testDestinations},
		{"CodeSettings", testCodeSettings},
		{"TestNumbers", testTestNumbers},
		{"ConcurrentSends", testConcurrentSends},
		{"ConcurrentChecks", testConcurrentChecks},
		{"ClaimMessages", testClaimMessages},
		{"RecordAttempt", testRecordAttempt},
		{"FindMessages", testFindMessages},
		{"ConcurrentClaims", testConcurrentClaims},
		{"LeasedQueues", testQueues},
		{"CreateCustSpace", testCreateCustSpace},
		{"FindCustSpace", testFindCustSpace},
		{"AddChatappNumber", testAddChatappNumber},
		{"FindChatappNumber", testFindChatappNumber},
		{"FindChatappNumbers", testFindChatappNumbers},
		{"SetChatappNumberStatus", testSetChatappNumberStatus},
		{"CAMSTenantIsolation", testCAMSTenantIsolation},
		{"MessageTemplates", testMessageTemplates},
		{"FindMessagesFilters", testFindMessagesFilters},
		{"MessageReceipts", testMessageReceipts},
		{"DecideAuthorization", testDecideAuthorization},
		{"RevokeAuthorization", testRevokeAuthorization},
		{"ExpireAuthorizations", testExpireAuthorizations},
		{"FindAuthorizations", testFindAuthorizations},
		{"CallbackOutbox", testCallbackOutbox},
		{"SystemAccount", testSystemAccount},
		{"CarrierTokens", testCarrierTokens},
		{"SubmailApps", testSubmailApps},
		{"Billing", testBilling},
		{"VerifySchemes", testVerifySchemes},
		{"AuthorizationLetters", testAuthorizationLetters},
		{"Qualifications", testQualifications},
		{"ConcurrentQualifications", testConcurrentQualifications},
		{"Signs", testSigns},
		{"ConcurrentSigns", testConcurrentSigns},
		{"SmsTemplates", testSmsTemplates},
		{"MasterKey", testMasterKey},
		{"ServerRegistry", testServerRegistry},
		{"StorageQuota", testStorageQuota},
		{"ConcurrentReservations", testConcurrentReservations},
		{"OrphanUploads", testOrphanUploads},
		{"Retention", testRetention},
		{"Routing", testRouting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

type opener = func(t *testing.T, clock numauth.Clock) Stores

// start is where every test's clock begins: 10:00 on 1 June 2025 in China, so "today" is 2025-06-01.
var start = time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC)

// fixture is a store with its schema and the clock it reads.
type fixture struct {
	Stores
	clock *numauthtest.Clock
}

// mustOpen opens a store on a fresh database and creates its schema.
func mustOpen(t *testing.T, open opener) *fixture {
	t.Helper()
	clock := numauthtest.NewClock(start)
	s := open(t, clock)
	if err := s.EnsureSchema(t.Context()); err != nil {
		t.Fatalf("EnsureSchema: %v", err)
	}
	return &fixture{Stores: s, clock: clock}
}

func testSchema(t *testing.T, open opener) {
	t.Run("EnsureSchemaCreatesSchemaOnEmptyDatabase", func(t *testing.T) {
		s := open(t, numauthtest.NewClock(start))
		current, latest, err := s.SchemaVersion(t.Context())
		if err != nil || current != 0 || latest < 1 {
			t.Fatalf("SchemaVersion before: got (%d, %d, %v), want (0, >= 1, nil)", current, latest, err)
		}
		if err := s.EnsureSchema(t.Context()); err != nil {
			t.Fatalf("EnsureSchema: %v", err)
		}
		mustSchemaVersion(t, s, latest)
		if err := s.EnsureSchema(t.Context()); err != nil {
			t.Fatalf("EnsureSchema on a current schema: got %v, want nil", err)
		}
		mustCreateAccount(t, &fixture{Stores: s}, "acme")
	})
	t.Run("MigrateCreatesSchemaOnEmptyDatabase", func(t *testing.T) {
		s := open(t, numauthtest.NewClock(start))
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		_, latest, _ := s.SchemaVersion(t.Context())
		mustSchemaVersion(t, s, latest)
		if err := s.EnsureSchema(t.Context()); err != nil {
			t.Fatalf("EnsureSchema after Migrate: got %v, want nil", err)
		}
	})
	t.Run("MigrateTwiceKeepsData", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "acme")
		for i := range 2 {
			if err := f.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate #%d: %v", i+1, err)
			}
		}
		_, latest, _ := f.SchemaVersion(t.Context())
		mustSchemaVersion(t, f.Stores, latest)
		if _, err := f.Accounts.FindAccountByID(t.Context(), a.ID); err != nil {
			t.Fatalf("FindAccountByID after Migrate: %v", err)
		}
	})
}

func testCreateAccount(t *testing.T, open opener) {
	t.Run("AccountIsActiveAndSubscribedWithRootKey", func(t *testing.T) {
		f := mustOpen(t, open)
		a, k := mustCreateAccount(t, f, "acme")
		if a.ID < 1e15 || a.ID >= 1e16 {
			t.Errorf("account ID: got %d, want 16 digits", a.ID)
		}
		wantAccount := &numauth.Account{ID: a.ID, Name: "acme", State: numauth.AccountActive, CreatedAt: start}
		if diff := cmp.Diff(wantAccount, a); diff != "" {
			t.Errorf("CreateAccount account (-want +got):\n%s", diff)
		}
		if !accessKeyID.MatchString(k.ID) || !accessKeySecret.MatchString(k.Secret) {
			t.Errorf("root key: got ID %q secret of %d characters, want LTAI and 20 alphanumerics, 30 alphanumerics", k.ID, len(k.Secret))
		}
		wantKey := &numauth.AccessKey{ID: k.ID, Secret: k.Secret, AccountID: a.ID, UserID: 0, Enabled: true, CreatedAt: start}
		if diff := cmp.Diff(wantKey, k); diff != "" {
			t.Errorf("CreateAccount key (-want +got):\n%s", diff)
		}

		found, err := f.Accounts.FindAccountByID(t.Context(), a.ID)
		if err != nil {
			t.Fatalf("FindAccountByID: %v", err)
		}
		if diff := cmp.Diff(a, found); diff != "" {
			t.Errorf("FindAccountByID (-created +found):\n%s", diff)
		}

		// The secret is sealed at rest and comes back in clear.
		c := mustFindCredential(t, f, k.ID)
		want := &numauth.Credential{Key: *k, Account: *a, Subscriptions: allProducts(true), User: nil, Quotas: map[string]int{}}
		if diff := cmp.Diff(want, c, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("FindCredential of the root key (-want +got):\n%s", diff)
		}
		if err := c.Authorize("dypns:GetAuthorizationUrl", "*"); err != nil {
			t.Errorf("root key Authorize: got %v, want nil", err)
		}
	})
	t.Run("AccountsGetDistinctIDsAndKeys", func(t *testing.T) {
		f := mustOpen(t, open)
		a, ka := mustCreateAccount(t, f, "acme")
		b, kb := mustCreateAccount(t, f, "acme")
		if a.ID == b.ID || ka.ID == kb.ID || ka.Secret == kb.Secret {
			t.Errorf("two accounts: got IDs %d, %d and keys %s, %s, want all distinct", a.ID, b.ID, ka.ID, kb.ID)
		}
	})
}

func testFindAccountByID(t *testing.T, open opener) {
	t.Run("UnknownIDIsNotFound", func(t *testing.T) {
		f := mustOpen(t, open)
		_, err := f.Accounts.FindAccountByID(t.Context(), 1234567890123456)
		checkError(t, err, numauth.ENOTFOUND, "")
	})
}

func testFindAccounts(t *testing.T, open opener) {
	t.Run("ListsNewestFirstWithoutSystemAccount", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "acme")
		f.clock.Advance(time.Second)
		b, _ := mustCreateAccount(t, f, "globex")
		if err := f.Accounts.SetAccountState(t.Context(), a.ID, numauth.AccountSuspended); err != nil {
			t.Fatal(err)
		}
		got, err := f.Accounts.FindAccounts(t.Context(), numauth.AccountFilter{})
		if err != nil {
			t.Fatalf("FindAccounts: %v", err)
		}
		want := []*numauth.Account{
			{ID: b.ID, Name: "globex", State: numauth.AccountActive, CreatedAt: start.Add(time.Second)},
			{ID: a.ID, Name: "acme", State: numauth.AccountSuspended, CreatedAt: start},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FindAccounts (-want +got):\n%s", diff)
		}
	})
	t.Run("NameAndLimitNarrow", func(t *testing.T) {
		f := mustOpen(t, open)
		a1, _ := mustCreateAccount(t, f, "acme")
		f.clock.Advance(time.Second)
		mustCreateAccount(t, f, "globex")
		f.clock.Advance(time.Second)
		a2, _ := mustCreateAccount(t, f, "acme")
		for _, tc := range []struct {
			name   string
			filter numauth.AccountFilter
			want   []int64
		}{
			{"ByName", numauth.AccountFilter{Name: "acme"}, []int64{a2.ID, a1.ID}},
			{"ByNameLimited", numauth.AccountFilter{Name: "acme", Limit: 1}, []int64{a2.ID}},
			{"UnknownName", numauth.AccountFilter{Name: "initech"}, nil},
		} {
			got, err := f.Accounts.FindAccounts(t.Context(), tc.filter)
			if err != nil {
				t.Fatalf("%s: FindAccounts: %v", tc.name, err)
			}
			var ids []int64
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("%s: FindAccounts ids (-want +got):\n%s", tc.name, diff)
			}
		}
	})
	t.Run("NegativeLimitIsInvalid", func(t *testing.T) {
		f := mustOpen(t, open)
		_, err := f.Accounts.FindAccounts(t.Context(), numauth.AccountFilter{Limit: -1})
		checkError(t, err, numauth.EINVALID, "")
	})
}

func testSetAccountState(t *testing.T, open opener) {
	tests := []struct {
		name   string
		states []numauth.AccountState
		want   numauth.AccountState
	}{
		{"SuspendedAccountIsSuspended", []numauth.AccountState{numauth.AccountSuspended}, numauth.AccountSuspended},
		{"ResumedAccountIsActive", []numauth.AccountState{numauth.AccountSuspended, numauth.AccountActive}, numauth.AccountActive},
		{"ActiveAccountStaysActive", []numauth.AccountState{numauth.AccountActive}, numauth.AccountActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, k := mustCreateAccount(t, f, "acme")
			for _, s := range tt.states {
				if err := f.Accounts.SetAccountState(t.Context(), a.ID, s); err != nil {
					t.Fatalf("SetAccountState(%s): %v", s, err)
				}
			}
			found, err := f.Accounts.FindAccountByID(t.Context(), a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if found.State != tt.want {
				t.Errorf("FindAccountByID state: got %s, want %s", found.State, tt.want)
			}
			if got := mustFindCredential(t, f, k.ID).Account.State; got != tt.want {
				t.Errorf("FindCredential account state: got %s, want %s", got, tt.want)
			}
		})
	}

	errorTests := []struct {
		name       string
		id         func(a *numauth.Account) int64
		state      numauth.AccountState
		wantKind   numauth.ErrorKind
		wantReason string
	}{
		{"UnknownAccountIsNotFound", func(*numauth.Account) int64 { return 1234567890123456 }, numauth.AccountSuspended, numauth.ENOTFOUND, ""},
		{"UnknownStateIsInvalid", func(a *numauth.Account) int64 { return a.ID }, "frozen", numauth.EINVALID, numauth.ReasonMalformed},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, _ := mustCreateAccount(t, f, "acme")
			err := f.Accounts.SetAccountState(t.Context(), tt.id(a), tt.state)
			checkError(t, err, tt.wantKind, tt.wantReason)
			if found, _ := f.Accounts.FindAccountByID(t.Context(), a.ID); found.State != numauth.AccountActive {
				t.Errorf("state after a failed SetAccountState: got %s, want active", found.State)
			}
		})
	}
}

func testSetSubscription(t *testing.T, open opener) {
	tests := []struct {
		name  string
		steps []bool // dysmsapi switched to each in turn
		want  bool
	}{
		{"DisabledProductIsUnsubscribed", []bool{false}, false},
		{"ReenabledProductIsSubscribed", []bool{false, true}, true},
		{"EnablingTwiceIsSubscribed", []bool{true, true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, k := mustCreateAccount(t, f, "acme")
			for _, on := range tt.steps {
				if err := f.Accounts.SetSubscription(t.Context(), a.ID, numauth.ProductDysmsapi, on); err != nil {
					t.Fatalf("SetSubscription(%v): %v", on, err)
				}
			}
			want := allProducts(true)
			want[numauth.ProductDysmsapi] = tt.want
			if diff := cmp.Diff(want, mustFindCredential(t, f, k.ID).Subscriptions); diff != "" {
				t.Errorf("subscriptions (-want +got):\n%s", diff)
			}
		})
	}

	errorTests := []struct {
		name     string
		id       func(a *numauth.Account) int64
		product  numauth.Product
		wantKind numauth.ErrorKind
	}{
		{"UnknownAccountIsNotFound", func(*numauth.Account) int64 { return 1234567890123456 }, numauth.ProductCAMS, numauth.ENOTFOUND},
		{"UnknownProductIsInvalid", func(a *numauth.Account) int64 { return a.ID }, "ecs", numauth.EINVALID},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, _ := mustCreateAccount(t, f, "acme")
			err := f.Accounts.SetSubscription(t.Context(), tt.id(a), tt.product, false)
			checkError(t, err, tt.wantKind, "")
		})
	}
}

func testAccessKeys(t *testing.T, open opener) {
	t.Run("CreatedKeyIsAnotherRootKey", func(t *testing.T) {
		f := mustOpen(t, open)
		a, root := mustCreateAccount(t, f, "acme")
		f.clock.Advance(time.Minute)
		k, err := f.Accounts.CreateAccessKey(t.Context(), a.ID)
		if err != nil {
			t.Fatalf("CreateAccessKey: %v", err)
		}
		if k.ID == root.ID || k.Secret == root.Secret {
			t.Errorf("CreateAccessKey: got the root key's ID or secret again")
		}
		want := &numauth.AccessKey{ID: k.ID, Secret: k.Secret, AccountID: a.ID, UserID: 0, Enabled: true, CreatedAt: start.Add(time.Minute)}
		if diff := cmp.Diff(want, k); diff != "" {
			t.Errorf("CreateAccessKey (-want +got):\n%s", diff)
		}
		c := mustFindCredential(t, f, k.ID)
		if diff := cmp.Diff(*k, c.Key); diff != "" {
			t.Errorf("FindCredential key (-created +found):\n%s", diff)
		}
		if c.User != nil {
			t.Errorf("FindCredential user: got %+v, want nil for a root key", c.User)
		}
	})

	tests := []struct {
		name  string
		steps []bool
		want  bool
	}{
		{"DisabledKeyIsFoundDisabled", []bool{false}, false},
		{"ReenabledKeyIsFoundEnabled", []bool{false, true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, k := mustCreateAccount(t, f, "acme")
			for _, on := range tt.steps {
				if err := f.Accounts.SetAccessKeyEnabled(t.Context(), a.ID, k.ID, on); err != nil {
					t.Fatalf("SetAccessKeyEnabled(%v): %v", on, err)
				}
			}
			if got := mustFindCredential(t, f, k.ID).Key.Enabled; got != tt.want {
				t.Errorf("Enabled: got %v, want %v", got, tt.want)
			}
		})
	}

	errorTests := []struct {
		name string
		// call tries to disable a key; a and b are two accounts, ka and kb their root keys.
		call func(ctx context.Context, s numauth.AccountService, a, b *numauth.Account, ka, kb *numauth.AccessKey) error
	}{
		{"OtherAccountsKeyIsNotFound", func(ctx context.Context, s numauth.AccountService, a, b *numauth.Account, ka, kb *numauth.AccessKey) error {
			return s.SetAccessKeyEnabled(ctx, b.ID, ka.ID, false)
		}},
		{"UnknownKeyIsNotFound", func(ctx context.Context, s numauth.AccountService, a, b *numauth.Account, ka, kb *numauth.AccessKey) error {
			return s.SetAccessKeyEnabled(ctx, a.ID, "LTAI00000000000000000000", false)
		}},
		{"UnknownAccountIsNotFound", func(ctx context.Context, s numauth.AccountService, a, b *numauth.Account, ka, kb *numauth.AccessKey) error {
			return s.SetAccessKeyEnabled(ctx, 1234567890123456, ka.ID, false)
		}},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, ka := mustCreateAccount(t, f, "a")
			b, kb := mustCreateAccount(t, f, "b")
			err := tt.call(t.Context(), f.Accounts, a, b, ka, kb)
			checkError(t, err, numauth.ENOTFOUND, numauth.ReasonAccessKeyNotFound)
			if !mustFindCredential(t, f, ka.ID).Key.Enabled {
				t.Errorf("key after a refused SetAccessKeyEnabled: got disabled, want enabled")
			}
		})
	}

	t.Run("CreateForUnknownAccountIsNotFound", func(t *testing.T) {
		f := mustOpen(t, open)
		_, err := f.Accounts.CreateAccessKey(t.Context(), 1234567890123456)
		checkError(t, err, numauth.ENOTFOUND, "")
	})
}

const testPolicy = `{
	"Version": "1",
	"Statement": [
		{"Effect": "Allow", "Action": ["dypns:*", "dysms:SendSms"], "Resource": "*"},
		{"Effect": "Deny", "Action": "dypns:GetAuthorizationUrl", "Resource": "acs:dypns:*:*:scheme/9"}
	]
}`

func testRAMUsers(t *testing.T, open opener) {
	t.Run("UserKeyCarriesUserAndPolicy", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "acme")
		policy := mustParsePolicy(t, testPolicy)
		u, k, err := f.Accounts.CreateRAMUser(t.Context(), a.ID, "ops", policy)
		if err != nil {
			t.Fatalf("CreateRAMUser: %v", err)
		}
		if u.ID < 1e15 || u.ID >= 1e16 {
			t.Errorf("user ID: got %d, want 16 digits", u.ID)
		}
		wantUser := &numauth.RAMUser{ID: u.ID, AccountID: a.ID, Name: "ops", Policy: policy, CreatedAt: start}
		if diff := cmp.Diff(wantUser, u); diff != "" {
			t.Errorf("CreateRAMUser user (-want +got):\n%s", diff)
		}
		wantKey := &numauth.AccessKey{ID: k.ID, Secret: k.Secret, AccountID: a.ID, UserID: u.ID, Enabled: true, CreatedAt: start}
		if diff := cmp.Diff(wantKey, k); diff != "" {
			t.Errorf("CreateRAMUser key (-want +got):\n%s", diff)
		}

		c := mustFindCredential(t, f, k.ID)
		if diff := cmp.Diff(*k, c.Key); diff != "" {
			t.Errorf("FindCredential key (-created +found):\n%s", diff)
		}
		if diff := cmp.Diff(wantUser, c.User); diff != "" {
			t.Errorf("FindCredential user (-want +got):\n%s", diff)
		}
		// The reloaded policy decides as the original does.
		decisions := []struct {
			action, resource string
			wantReason       string // "" for allowed
		}{
			{"dypns:GetAuthorizationUrl", "acs:dypns:*:*:scheme/1", ""},
			{"DYPNS:getauthorizationurl", "acs:dypns:*:*:scheme/1", ""},
			{"dypns:GetAuthorizationUrl", "acs:dypns:*:*:scheme/9", numauth.ReasonExplicitDeny},
			{"dysms:SendSms", "*", ""},
			{"dysms:QuerySendDetails", "*", numauth.ReasonImplicitDeny},
		}
		for _, d := range decisions {
			want := policy.Evaluate(d.action, d.resource)
			got := c.Authorize(d.action, d.resource)
			if numauth.ErrorReasonOf(want) != d.wantReason {
				t.Fatalf("test policy on %s %s: got %v, want reason %q", d.action, d.resource, want, d.wantReason)
			}
			if numauth.ErrorKindOf(got) != numauth.ErrorKindOf(want) || numauth.ErrorReasonOf(got) != d.wantReason {
				t.Errorf("Authorize(%s, %s) after reload: got %v, want %v", d.action, d.resource, got, want)
			}
		}
	})

	nameTests := []struct {
		name       string
		account    func(a, b *numauth.Account) int64
		wantKind   numauth.ErrorKind
		wantReason string
	}{
		{"DuplicateNameIsConflict", func(a, b *numauth.Account) int64 { return a.ID }, numauth.ECONFLICT, ""},
		{"SameNameInAnotherAccountIsCreated", func(a, b *numauth.Account) int64 { return b.ID }, "", ""},
		{"UnknownAccountIsNotFound", func(a, b *numauth.Account) int64 { return 1234567890123456 }, numauth.ENOTFOUND, ""},
	}
	for _, tt := range nameTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, _ := mustCreateAccount(t, f, "a")
			b, _ := mustCreateAccount(t, f, "b")
			policy := mustParsePolicy(t, testPolicy)
			if _, _, err := f.Accounts.CreateRAMUser(t.Context(), a.ID, "ops", policy); err != nil {
				t.Fatalf("CreateRAMUser: %v", err)
			}
			_, _, err := f.Accounts.CreateRAMUser(t.Context(), tt.account(a, b), "ops", policy)
			checkError(t, err, tt.wantKind, tt.wantReason)
		})
	}
}

func testFindCredential(t *testing.T, open opener) {
	t.Run("UnknownKeyIsNotFound", func(t *testing.T) {
		f := mustOpen(t, open)
		mustCreateAccount(t, f, "acme")
		_, err := f.Accounts.FindCredential(t.Context(), "LTAI00000000000000000000")
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonAccessKeyNotFound)
	})
	t.Run("CredentialReflectsItsOwnAccountOnly", func(t *testing.T) {
		f := mustOpen(t, open)
		a, ka := mustCreateAccount(t, f, "a")
		b, kb := mustCreateAccount(t, f, "b")
		ctx := t.Context()
		mustDo(t, f.Accounts.SetAccountState(ctx, b.ID, numauth.AccountSuspended))
		mustDo(t, f.Accounts.SetSubscription(ctx, b.ID, numauth.ProductCAMS, false))
		mustDo(t, f.Accounts.SetQuota(ctx, b.ID, "Dypnsapi.GetAuthorizationUrl", 3))
		ca, cb := mustFindCredential(t, f, ka.ID), mustFindCredential(t, f, kb.ID)
		if ca.Account.ID != a.ID || ca.Account.State != numauth.AccountActive || !ca.Subscribed(numauth.ProductCAMS) || len(ca.Quotas) != 0 {
			t.Errorf("account a's credential: got %+v, want active, subscribed, no quotas", ca)
		}
		if cb.Account.ID != b.ID || cb.Account.State != numauth.AccountSuspended || cb.Subscribed(numauth.ProductCAMS) || cb.Quotas["Dypnsapi.GetAuthorizationUrl"] != 3 {
			t.Errorf("account b's credential: got %+v, want suspended, cams off, quota 3", cb)
		}
	})
}

func testSetQuota(t *testing.T, open opener) {
	const action = "Dypnsapi.GetAuthorizationUrl"
	tests := []struct {
		name string
		qps  []int // set in turn
		want map[string]int
	}{
		{"SetQuotaIsShown", []int{5}, map[string]int{action: 5}},
		{"LaterQuotaOverrides", []int{5, 7}, map[string]int{action: 7}},
		{"ZeroRemovesOverride", []int{5, 0}, map[string]int{}},
		{"NegativeRemovesOverride", []int{5, -1}, map[string]int{}},
		{"RemovingAbsentOverrideIsNoOp", []int{0}, map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, k := mustCreateAccount(t, f, "acme")
			mustDo(t, f.Accounts.SetQuota(t.Context(), a.ID, "Dysmsapi.SendSms", 50))
			for _, q := range tt.qps {
				if err := f.Accounts.SetQuota(t.Context(), a.ID, action, q); err != nil {
					t.Fatalf("SetQuota(%d): %v", q, err)
				}
			}
			want := map[string]int{"Dysmsapi.SendSms": 50}
			for k, v := range tt.want {
				want[k] = v
			}
			if diff := cmp.Diff(want, mustFindCredential(t, f, k.ID).Quotas); diff != "" {
				t.Errorf("Quotas (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("UnknownAccountIsNotFound", func(t *testing.T) {
		f := mustOpen(t, open)
		checkError(t, f.Accounts.SetQuota(t.Context(), 1234567890123456, action, 5), numauth.ENOTFOUND, "")
	})
}

func testRevision(t *testing.T, open opener) {
	f := mustOpen(t, open)
	ctx := t.Context()
	var (
		a, b   *numauth.Account
		ka, kb *numauth.AccessKey
		err    error
	)
	a, ka = mustCreateAccount(t, f, "a")
	b, kb = mustCreateAccount(t, f, "b")
	policy := mustParsePolicy(t, testPolicy)

	changes := []struct {
		name   string
		change func() error
	}{
		{"CreateAccount", func() error { _, _, err = f.Accounts.CreateAccount(ctx, "c"); return err }},
		{"SetAccountState", func() error { return f.Accounts.SetAccountState(ctx, a.ID, numauth.AccountSuspended) }},
		{"SetSubscription", func() error { return f.Accounts.SetSubscription(ctx, a.ID, numauth.ProductSubmail, false) }},
		{"CreateAccessKey", func() error { _, err = f.Accounts.CreateAccessKey(ctx, b.ID); return err }},
		{"SetAccessKeyEnabled", func() error { return f.Accounts.SetAccessKeyEnabled(ctx, b.ID, kb.ID, false) }},
		{"CreateRAMUser", func() error { _, _, err = f.Accounts.CreateRAMUser(ctx, a.ID, "ops", policy); return err }},
		{"SetQuota", func() error { return f.Accounts.SetQuota(ctx, a.ID, "Dypnsapi.GetAuthorizationUrl", 9) }},
		{"SetQuotaRemoving", func() error { return f.Accounts.SetQuota(ctx, a.ID, "Dypnsapi.GetAuthorizationUrl", 0) }},
	}
	for _, c := range changes {
		t.Run(c.name+"Advances", func(t *testing.T) {
			before := mustRevision(t, f)
			mustDo(t, c.change())
			if after := mustRevision(t, f); after <= before {
				t.Errorf("revision after %s: got %d, want > %d", c.name, after, before)
			}
		})
	}

	t.Run("ReadsDoNotAdvance", func(t *testing.T) {
		before := mustRevision(t, f)
		mustFindCredential(t, f, ka.ID)
		if _, err := f.Accounts.FindAccountByID(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		f.Accounts.FindCredential(ctx, "LTAI00000000000000000000")
		if after := mustRevision(t, f); after != before {
			t.Errorf("revision after reads: got %d, want %d", after, before)
		}
	})
}

func testSchemes(t *testing.T, open opener) {
	t.Run("CreatedSchemeIsPending", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "acme")
		sc := &numauth.Scheme{AccountID: a.ID, Name: "login", Company: "Acme Ltd", Purpose: "sign-in", Type: numauth.SchemeContract}
		if err := f.Schemes.CreateScheme(t.Context(), sc); err != nil {
			t.Fatalf("CreateScheme: %v", err)
		}
		if sc.ID < 1e8 || sc.ID >= 1e9 {
			t.Errorf("scheme ID: got %d, want 9 digits", sc.ID)
		}
		want := &numauth.Scheme{ID: sc.ID, AccountID: a.ID, Name: "login", Company: "Acme Ltd", Purpose: "sign-in",
			Type: numauth.SchemeContract, State: numauth.ReviewPending, CreatedAt: start, UpdatedAt: start}
		if diff := cmp.Diff(want, sc); diff != "" {
			t.Errorf("CreateScheme (-want +got):\n%s", diff)
		}
		found, err := f.Schemes.FindSchemeByID(t.Context(), a.ID, sc.ID)
		if err != nil {
			t.Fatalf("FindSchemeByID: %v", err)
		}
		if diff := cmp.Diff(want, found); diff != "" {
			t.Errorf("FindSchemeByID (-want +got):\n%s", diff)
		}
	})

	reviews := []struct {
		name  string
		state numauth.ReviewState
	}{
		{"ApprovedSchemeIsApproved", numauth.ReviewApproved},
		{"RejectedSchemeIsRejected", numauth.ReviewRejected},
		{"PendingSchemeStaysPending", numauth.ReviewPending},
	}
	for _, tt := range reviews {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, _ := mustCreateAccount(t, f, "acme")
			sc := mustCreateScheme(t, f, a.ID, numauth.SchemeNormal, numauth.ReviewPending)
			f.clock.Advance(time.Hour)
			if err := f.Schemes.SetSchemeState(t.Context(), a.ID, sc.ID, tt.state); err != nil {
				t.Fatalf("SetSchemeState: %v", err)
			}
			found, err := f.Schemes.FindSchemeByID(t.Context(), a.ID, sc.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := *sc
			want.State, want.UpdatedAt = tt.state, start.Add(time.Hour)
			if diff := cmp.Diff(&want, found); diff != "" {
				t.Errorf("after SetSchemeState (-want +got):\n%s", diff)
			}
		})
	}

	notFound := []struct {
		name    string
		account func(a, b *numauth.Account) int64
		scheme  func(sc *numauth.Scheme) int64
	}{
		{"UnknownSchemeIsNotFound", func(a, b *numauth.Account) int64 { return a.ID }, func(*numauth.Scheme) int64 { return 123456789 }},
		{"OtherAccountsSchemeIsNotFound", func(a, b *numauth.Account) int64 { return b.ID }, func(sc *numauth.Scheme) int64 { return sc.ID }},
		{"UnknownAccountIsNotFound", func(a, b *numauth.Account) int64 { return 1234567890123456 }, func(sc *numauth.Scheme) int64 { return sc.ID }},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, _ := mustCreateAccount(t, f, "a")
			b, _ := mustCreateAccount(t, f, "b")
			sc := mustCreateScheme(t, f, a.ID, numauth.SchemeNormal, numauth.ReviewPending)
			_, err := f.Schemes.FindSchemeByID(t.Context(), tt.account(a, b), tt.scheme(sc))
			checkError(t, err, numauth.ENOTFOUND, numauth.ReasonScheme)
			err = f.Schemes.SetSchemeState(t.Context(), tt.account(a, b), tt.scheme(sc), numauth.ReviewApproved)
			checkError(t, err, numauth.ENOTFOUND, numauth.ReasonScheme)
			if found, _ := f.Schemes.FindSchemeByID(t.Context(), a.ID, sc.ID); found.State != numauth.ReviewPending {
				t.Errorf("scheme after a refused approval: got %s, want pending", found.State)
			}
		})
	}

	invalid := []struct {
		name     string
		call     func(ctx context.Context, f *fixture, a *numauth.Account, sc *numauth.Scheme) error
		wantKind numauth.ErrorKind
	}{
		{"UnknownTypeIsInvalid", func(ctx context.Context, f *fixture, a *numauth.Account, _ *numauth.Scheme) error {
			return f.Schemes.CreateScheme(ctx, &numauth.Scheme{AccountID: a.ID, Name: "x", Type: "lottery"})
		}, numauth.EINVALID},
		{"UnknownStateIsInvalid", func(ctx context.Context, f *fixture, a *numauth.Account, sc *numauth.Scheme) error {
			return f.Schemes.SetSchemeState(ctx, a.ID, sc.ID, "maybe")
		}, numauth.EINVALID},
		{"CreateInUnknownAccountIsNotFound", func(ctx context.Context, f *fixture, _ *numauth.Account, _ *numauth.Scheme) error {
			return f.Schemes.CreateScheme(ctx, &numauth.Scheme{AccountID: 1234567890123456, Name: "x", Type: numauth.SchemeNormal})
		}, numauth.ENOTFOUND},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOpen(t, open)
			a, _ := mustCreateAccount(t, f, "a")
			sc := mustCreateScheme(t, f, a.ID, numauth.SchemeNormal, numauth.ReviewPending)
			checkError(t, tt.call(t.Context(), f, a, sc), tt.wantKind, "")
		})
	}
}

// authorizationFixture is an account a with schemes in every state, and an account b with an approved
// scheme.
type authorizationFixture struct {
	*fixture
	a, b                                    *numauth.Account
	normal, contract, pending, rejected, bs *numauth.Scheme
}

func mustAuthorizationFixture(t *testing.T, open opener) *authorizationFixture {
	t.Helper()
	f := mustOpen(t, open)
	a, _ := mustCreateAccount(t, f, "a")
	b, _ := mustCreateAccount(t, f, "b")
	return &authorizationFixture{
		fixture:  f,
		a:        a,
		b:        b,
		normal:   mustCreateScheme(t, f, a.ID, numauth.SchemeNormal, numauth.ReviewApproved),
		contract: mustCreateScheme(t, f, a.ID, numauth.SchemeContract, numauth.ReviewApproved),
		pending:  mustCreateScheme(t, f, a.ID, numauth.SchemeNormal, numauth.ReviewPending),
		rejected: mustCreateScheme(t, f, a.ID, numauth.SchemeNormal, numauth.ReviewRejected),
		bs:       mustCreateScheme(t, f, b.ID, numauth.SchemeNormal, numauth.ReviewApproved),
	}
}

func testCreateAuthorizationRequest(t *testing.T, open opener) {
	tests := []struct {
		name      string
		scheme    func(f *authorizationFixture) *numauth.Scheme
		phone     string
		endDate   string
		wantPhone string
	}{
		{"MainlandNumberIsNormalized", normalScheme, "13900000000", "", "+8613900000000"},
		{"CountryCodeNumberIsNormalized", normalScheme, "8613900000000", "", "+8613900000000"},
		{"DoubleZeroPrefixIsNormalized", normalScheme, "008613900000000", "", "+8613900000000"},
		{"E164NumberIsKept", normalScheme, "+8613900000000", "", "+8613900000000"},
		{"EndDateIsKept", normalScheme, "13900000000", "2025-12-31", "+8613900000000"},
		{"EndDateTodayIsAccepted", normalScheme, "13900000000", "2025-06-01", "+8613900000000"},
		{"ContractSchemeWithEndDateIsAccepted", contractScheme, "13900000000", "2026-01-01", "+8613900000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustAuthorizationFixture(t, open)
			f.clock.Advance(time.Minute)
			now := start.Add(time.Minute)
			sc := tt.scheme(f)
			r, err := f.Authorizations.CreateAuthorizationRequest(t.Context(), numauth.AuthorizationInput{
				AccountID: f.a.ID, SchemeID: sc.ID, PhoneNumber: tt.phone, EndDate: tt.endDate,
			})
			if err != nil {
				t.Fatalf("CreateAuthorizationRequest: %v", err)
			}
			if !requestID.MatchString(r.ID) {
				t.Errorf("ID: got %q, want 32 lower-case hex digits", r.ID)
			}
			want := &numauth.AuthorizationRequest{ID: r.ID, AccountID: f.a.ID, SchemeID: sc.ID, PhoneNumber: tt.wantPhone,
				EndDate: tt.endDate, Status: numauth.AuthorizationPending, CreatedAt: now, ExpiresAt: now.Add(numauth.AuthorizationLinkTTL),
				UpdatedAt: now}
			if diff := cmp.Diff(want, r); diff != "" {
				t.Errorf("CreateAuthorizationRequest (-want +got):\n%s", diff)
			}
			found, err := f.Authorizations.FindAuthorizationRequestByID(t.Context(), r.ID)
			if err != nil {
				t.Fatalf("FindAuthorizationRequestByID: %v", err)
			}
			if diff := cmp.Diff(want, found); diff != "" {
				t.Errorf("FindAuthorizationRequestByID (-want +got):\n%s", diff)
			}
		})
	}

	errorTests := []struct {
		name       string
		scheme     func(f *authorizationFixture) int64
		phone      string
		endDate    string
		wantKind   numauth.ErrorKind
		wantReason string
	}{
		{"BadPhoneIsInvalid", schemeID(normalScheme), "12345", "", numauth.EINVALID, numauth.ReasonPhoneNumber},
		{"LetterInPhoneIsInvalid", schemeID(normalScheme), "1390000000a", "", numauth.EINVALID, numauth.ReasonPhoneNumber},
		{"MalformedEndDateIsInvalid", schemeID(normalScheme), "13900000000", "2025-6-30", numauth.EINVALID, numauth.ReasonEndDate},
		{"ImpossibleEndDateIsInvalid", schemeID(normalScheme), "13900000000", "2025-02-30", numauth.EINVALID, numauth.ReasonEndDate},
		{"PastEndDateIsInvalid", schemeID(normalScheme), "13900000000", "2025-05-31", numauth.EINVALID, numauth.ReasonEndDate},
		{"UnknownSchemeIsNotFound", func(*authorizationFixture) int64 { return 123456789 }, "13900000000", "", numauth.ENOTFOUND, numauth.ReasonScheme},
		{"OtherAccountsSchemeIsNotFound", func(f *authorizationFixture) int64 { return f.bs.ID }, "13900000000", "", numauth.ENOTFOUND, numauth.ReasonScheme},
		{"PendingSchemeIsNotApproved", func(f *authorizationFixture) int64 { return f.pending.ID }, "13900000000", "", numauth.EPRECONDITION, numauth.ReasonSchemeNotApproved},
		{"RejectedSchemeIsNotApproved", func(f *authorizationFixture) int64 { return f.rejected.ID }, "13900000000", "", numauth.EPRECONDITION, numauth.ReasonSchemeNotApproved},
		{"ContractSchemeWithoutEndDateIsInvalid", schemeID(contractScheme), "13900000000", "", numauth.EINVALID, numauth.ReasonEndDate},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustAuthorizationFixture(t, open)
			r, err := f.Authorizations.CreateAuthorizationRequest(t.Context(), numauth.AuthorizationInput{
				AccountID: f.a.ID, SchemeID: tt.scheme(f), PhoneNumber: tt.phone, EndDate: tt.endDate,
			})
			checkError(t, err, tt.wantKind, tt.wantReason)
			if r != nil {
				t.Errorf("request: got %+v, want nil", r)
			}
		})
	}
}

func normalScheme(f *authorizationFixture) *numauth.Scheme   { return f.normal }
func contractScheme(f *authorizationFixture) *numauth.Scheme { return f.contract }

func schemeID(scheme func(*authorizationFixture) *numauth.Scheme) func(*authorizationFixture) int64 {
	return func(f *authorizationFixture) int64 { return scheme(f).ID }
}

func testFindAuthorizationRequestByID(t *testing.T, open opener) {
	t.Run("UnknownIDIsNotFound", func(t *testing.T) {
		f := mustAuthorizationFixture(t, open)
		_, err := f.Authorizations.FindAuthorizationRequestByID(t.Context(), "0123456789abcdef0123456789abcdef")
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonAuthorization)
	})
	t.Run("RequestIsFoundWithoutAccount", func(t *testing.T) {
		f := mustAuthorizationFixture(t, open)
		r, err := f.Authorizations.CreateAuthorizationRequest(t.Context(), numauth.AuthorizationInput{
			AccountID: f.b.ID, SchemeID: f.bs.ID, PhoneNumber: "+447911123456",
		})
		if err != nil {
			t.Fatalf("CreateAuthorizationRequest: %v", err)
		}
		found, err := f.Authorizations.FindAuthorizationRequestByID(t.Context(), r.ID)
		if err != nil {
			t.Fatalf("FindAuthorizationRequestByID: %v", err)
		}
		if diff := cmp.Diff(r, found); diff != "" {
			t.Errorf("FindAuthorizationRequestByID (-created +found):\n%s", diff)
		}
	})
}

// testConcurrentAuthorizationRequests creates requests from many goroutines at once, as a busy server
// does, so that a store that batches writes has batches to form.
func testConcurrentAuthorizationRequests(t *testing.T, open opener) {
	const n = 200
	f := mustAuthorizationFixture(t, open)
	var (
		wg   sync.WaitGroup
		reqs [n]*numauth.AuthorizationRequest
		errs [n]error
	)
	for i := range n {
		wg.Go(func() {
			reqs[i], errs[i] = f.Authorizations.CreateAuthorizationRequest(t.Context(), numauth.AuthorizationInput{
				AccountID: f.a.ID, SchemeID: f.normal.ID, PhoneNumber: fmt.Sprintf("139%08d", i),
			})
		})
	}
	wg.Wait()
	seen := make(map[string]bool)
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		r := reqs[i]
		if seen[r.ID] {
			t.Fatalf("request %d: ID %s issued twice", i, r.ID)
		}
		seen[r.ID] = true
		if want := fmt.Sprintf("+86139%08d", i); r.PhoneNumber != want {
			t.Errorf("request %d phone: got %s, want %s", i, r.PhoneNumber, want)
		}
		found, err := f.Authorizations.FindAuthorizationRequestByID(t.Context(), r.ID)
		if err != nil {
			t.Fatalf("FindAuthorizationRequestByID(request %d): %v", i, err)
		}
		if diff := cmp.Diff(r, found); diff != "" {
			t.Errorf("request %d (-created +found):\n%s", i, diff)
		}
	}
}

var (
	accessKeyID     = regexp.MustCompile(`^LTAI[A-Za-z0-9]{20}$`)
	accessKeySecret = regexp.MustCompile(`^[A-Za-z0-9]{30}$`)
	requestID       = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func allProducts(on bool) map[numauth.Product]bool {
	m := make(map[numauth.Product]bool)
	for _, p := range numauth.Products {
		m[p] = on
	}
	return m
}

// checkError fails tb unless err has the kind and, when reason is not "", the reason. A kind of "" wants
// no error.
func checkError(tb testing.TB, err error, kind numauth.ErrorKind, reason string) {
	tb.Helper()
	if gotKind, gotReason := numauth.ErrorKindOf(err), numauth.ErrorReasonOf(err); gotKind != kind || reason != "" && gotReason != reason {
		tb.Errorf("error: got %v (kind %q, reason %q), want kind %q, reason %q (\"\" is any)", err, gotKind, gotReason, kind, reason)
	}
}

func mustDo(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func mustSchemaVersion(tb testing.TB, s Stores, want int) {
	tb.Helper()
	current, latest, err := s.SchemaVersion(context.Background())
	if err != nil || current != want || latest != want {
		tb.Fatalf("SchemaVersion: got (%d, %d, %v), want (%d, %d, nil)", current, latest, err, want, want)
	}
}

func mustCreateAccount(tb testing.TB, f *fixture, name string) (*numauth.Account, *numauth.AccessKey) {
	tb.Helper()
	a, k, err := f.Accounts.CreateAccount(context.Background(), name)
	if err != nil {
		tb.Fatalf("CreateAccount: %v", err)
	}
	return a, k
}

func mustFindCredential(tb testing.TB, f *fixture, accessKeyID string) *numauth.Credential {
	tb.Helper()
	c, err := f.Accounts.FindCredential(context.Background(), accessKeyID)
	if err != nil {
		tb.Fatalf("FindCredential(%s): %v", accessKeyID, err)
	}
	return c
}

func mustRevision(tb testing.TB, f *fixture) int64 {
	tb.Helper()
	rev, err := f.Accounts.Revision(context.Background())
	if err != nil {
		tb.Fatalf("Revision: %v", err)
	}
	return rev
}

// mustCreateScheme creates a scheme and moves it to state.
func mustCreateScheme(tb testing.TB, f *fixture, accountID int64, typ numauth.SchemeType, state numauth.ReviewState) *numauth.Scheme {
	tb.Helper()
	ctx := context.Background()
	sc := &numauth.Scheme{AccountID: accountID, Name: "login", Company: "Acme Ltd", Purpose: "sign-in", Type: typ}
	if err := f.Schemes.CreateScheme(ctx, sc); err != nil {
		tb.Fatalf("CreateScheme: %v", err)
	}
	if state != numauth.ReviewPending {
		if err := f.Schemes.SetSchemeState(ctx, accountID, sc.ID, state); err != nil {
			tb.Fatalf("SetSchemeState(%s): %v", state, err)
		}
		sc.State = state
	}
	return sc
}

func mustParsePolicy(tb testing.TB, doc string) *numauth.Policy {
	tb.Helper()
	p, err := numauth.ParsePolicy([]byte(doc))
	if err != nil {
		tb.Fatalf("ParsePolicy: %v", err)
	}
	return p
}
