package numauth

import (
	"context"
	"crypto/rand"
	"math/big"
	"time"
)

// AccountState says whether an account may call the APIs.
type AccountState string

// Account states.
const (
	AccountActive    AccountState = "active"
	AccountSuspended AccountState = "suspended"
)

// Account is a tenant: everything numauth stores belongs to exactly one.
type Account struct {
	ID        int64
	Name      string
	State     AccountState
	CreatedAt time.Time
}

// AccountFilter narrows FindAccounts.
type AccountFilter struct {
	Name  string // only accounts of exactly this name
	Limit int    // 0 means a default bound
}

// AccessKey is a credential an SDK signs requests with. UserID is 0 for the account's root keys.
type AccessKey struct {
	ID        string // the AccessKeyId
	Secret    string // the AccessKeySecret, in clear only in memory
	AccountID int64
	UserID    int64
	Enabled   bool
	CreatedAt time.Time
}

// RAMUser is a user inside an account whose keys are limited by a policy.
type RAMUser struct {
	ID        int64
	AccountID int64
	Name      string
	Policy    *Policy
	CreatedAt time.Time
}

// Credential is everything the gate needs to know about the holder of an access key, read in one go.
type Credential struct {
	Key           AccessKey
	Account       Account
	Subscriptions map[Product]bool
	User          *RAMUser // nil for a root key
	// Quotas holds the account's per-action QPS overrides, keyed like "Dypnsapi.GetAuthorizationUrl".
	Quotas map[string]int
}

// Subscribed reports whether the account has product switched on.
func (c *Credential) Subscribed(p Product) bool { return c.Subscriptions[p] }

// Authorize decides whether the credential may perform action (a RAM action such as "dypns:GetAuthorizationUrl")
// on resource. Root keys may do everything; a user's key is bound by the user's policy.
func (c *Credential) Authorize(action, resource string) error {
	if c.User == nil {
		return nil
	}
	return c.User.Policy.Evaluate(action, resource)
}

// AccountService manages tenants and their credentials. Every method that changes what FindCredential
// returns advances Revision in the same transaction, so caches see admin changes without a restart.
type AccountService interface {
	// CreateAccount creates an active account subscribed to every product, with one root access key.
	CreateAccount(ctx context.Context, name string) (*Account, *AccessKey, error)
	// FindAccountByID returns ENOTFOUND for an unknown id.
	FindAccountByID(ctx context.Context, id int64) (*Account, error)
	// FindAccounts lists accounts, newest first, without numauth's own (SystemAccountID); EINVALID for a
	// negative limit. It spans every tenant: only admin paths call it.
	FindAccounts(ctx context.Context, f AccountFilter) ([]*Account, error)
	// SetAccountState returns ENOTFOUND for an unknown account.
	SetAccountState(ctx context.Context, id int64, state AccountState) error
	// SetSubscription switches a product on or off; ENOTFOUND for an unknown account.
	SetSubscription(ctx context.Context, accountID int64, product Product, enabled bool) error
	// CreateAccessKey creates a root access key for the account; ENOTFOUND for an unknown account.
	CreateAccessKey(ctx context.Context, accountID int64) (*AccessKey, error)
	// SetAccessKeyEnabled returns ENOTFOUND when the key does not belong to the account.
	SetAccessKeyEnabled(ctx context.Context, accountID int64, accessKeyID string, enabled bool) error
	// CreateRAMUser creates a user with a policy and one access key; ECONFLICT when the name is taken
	// in the account, ENOTFOUND for an unknown account.
	CreateRAMUser(ctx context.Context, accountID int64, name string, policy *Policy) (*RAMUser, *AccessKey, error)
	// SetQuota overrides the QPS of one action ("Product.Action") for the account; qps <= 0 removes the override.
	SetQuota(ctx context.Context, accountID int64, action string, qps int) error
	// FindCredential returns the credential behind an access key id; ENOTFOUND/ReasonAccessKeyNotFound
	// for an unknown one. Disabled keys are returned with Enabled false: the caller decides.
	FindCredential(ctx context.Context, accessKeyID string) (*Credential, error)
	// Revision is a number that changes whenever anything FindCredential returns may have changed.
	Revision(ctx context.Context) (int64, error)
}

// SecretSealer encrypts secrets before they are stored and decrypts them when read.
type SecretSealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewAccessKeyID returns a fresh AccessKeyId shaped like Alibaba's: "LTAI" and 20 letters and digits.
func NewAccessKeyID() string { return "LTAI" + randomString(alnum, 20) }

// NewAccessKeySecret returns a fresh 30-character AccessKeySecret.
func NewAccessKeySecret() string { return randomString(alnum, 30) }

// NewNumericID returns a random id of the given number of decimal digits (at most 16), never starting with
// 0, shaped like Alibaba's account and user ids. Ids stay below 2^53 so that JSON readers that hold numbers
// as doubles (JavaScript, jq) read them exactly.
func NewNumericID(digits int) int64 {
	lo, hi := int64(1), int64(10)
	for i := 1; i < digits; i++ {
		lo *= 10
		hi *= 10
	}
	hi = min(hi, 1<<53)
	n, err := rand.Int(rand.Reader, big.NewInt(hi-lo))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return lo + n.Int64()
}

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// CheckAccountScope checks the account part of a finder's filter: a tenant-facing caller names its
// account (accountID, never 0: no tenant has the system account's id), and only an admin path asks for
// all accounts, with no accountID. A filter that does neither is a bug that would otherwise list every
// tenant's rows, so it is refused as EINTERNAL; one that does both is EINVALID.
func CheckAccountScope(accountID int64, allAccounts bool) error {
	switch {
	case allAccounts && accountID != 0:
		return Malformed("AccountID", "AccountID %d with AllAccounts", accountID)
	case !allAccounts && accountID == 0:
		return Errorf(EINTERNAL, "", "the filter names no account: tenant paths must pass theirs, admin paths AllAccounts")
	}
	return nil
}
