package numauth

import (
	"context"
	"time"
)

// CAMS (Chat App Message Service): an ISV registers business phone numbers for WhatsApp in the customer
// spaces of its sub-customers, proving each number with a verification code.

// Reasons of CAMS lookups.
const (
	ReasonCustSpace     Reason = "cust_space"     // ENOTFOUND: no such customer space in the account
	ReasonChatappNumber Reason = "chatapp_number" // ENOTFOUND: the number is not in the customer space
	ReasonVerifyCode    Reason = "verify_code"    // EINVALID: the verification code is wrong, used or expired
)

// CustSpace is a customer space: a sub-customer of an ISV account, which owns the numbers it registers.
type CustSpace struct {
	ID        string // "cams-" and eight lower-case letters and digits
	AccountID int64
	Name      string
	CreatedAt time.Time
}

// Statuses of a business number, with CAMS's wire values.
const (
	ChatappUnverified = "UNVERIFIED" // added, not yet registered
	ChatappConnected  = "CONNECTED"  // verified and registered
	ChatappDeleted    = "DELETED"    // deregistered
)

// Code verification statuses of a business number, with CAMS's wire values.
const (
	CodeNotVerified = "NOT_VERIFIED"
	CodeVerified    = "VERIFIED"
)

// ChatappNumber is a business phone number in a customer space.
type ChatappNumber struct {
	AccountID              int64
	CustSpaceID            string
	Phone                  string // E.164
	VerifiedName           string // the display name
	Status                 string // ChatappUnverified, ChatappConnected or ChatappDeleted
	CodeVerificationStatus string // CodeNotVerified or CodeVerified
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// CAMSService stores customer spaces and their numbers. Every method is scoped to one account; a space of
// another account is not found.
type CAMSService interface {
	// CreateCustSpace creates a space; ENOTFOUND for an unknown account, EINVALID/ReasonMissing for an
	// empty name.
	CreateCustSpace(ctx context.Context, accountID int64, name string) (*CustSpace, error)
	// FindCustSpace returns ENOTFOUND/ReasonCustSpace when the space is not the account's.
	FindCustSpace(ctx context.Context, accountID int64, id string) (*CustSpace, error)
	// AddChatappNumber adds phone (E.164) to the space, unverified; adding a number that is there already
	// updates its display name and keeps its status, and a deleted number comes back unverified.
	// ENOTFOUND/ReasonCustSpace as FindCustSpace.
	AddChatappNumber(ctx context.Context, accountID int64, spaceID, phone, verifiedName string) (*ChatappNumber, error)
	// FindChatappNumber returns ENOTFOUND/ReasonCustSpace or ENOTFOUND/ReasonChatappNumber.
	FindChatappNumber(ctx context.Context, accountID int64, spaceID, phone string) (*ChatappNumber, error)
	// FindChatappNumbers lists the space's numbers by phone; status "" lists every status.
	// ENOTFOUND/ReasonCustSpace as FindCustSpace.
	FindChatappNumbers(ctx context.Context, accountID int64, spaceID, status string) ([]*ChatappNumber, error)
	// SetChatappNumberStatus moves a number to status and code status (either "" keeps it).
	// ENOTFOUND/ReasonCustSpace or ENOTFOUND/ReasonChatappNumber.
	SetChatappNumberStatus(ctx context.Context, accountID int64, spaceID, phone, status, codeStatus string) error
}
