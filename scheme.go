package numauth

import (
	"context"
	"time"
)

// SchemeType is the kind of an authorization scheme.
type SchemeType string

// Scheme types. A contract scheme's authorizations need an end date.
const (
	SchemeNormal   SchemeType = "normal"
	SchemeContract SchemeType = "contract"
)

// ReviewState is where a reviewed item (a scheme, later letters and signatures) stands.
type ReviewState string

// Review states.
const (
	ReviewPending  ReviewState = "pending"
	ReviewApproved ReviewState = "approved"
	ReviewRejected ReviewState = "rejected"
)

// Scheme is an authorization scheme (the console's "授权场景"): who asks a phone owner for consent, and why.
type Scheme struct {
	ID        int64
	AccountID int64
	Name      string
	Company   string // shown to the phone owner
	Purpose   string // shown to the phone owner
	Type      SchemeType
	State     ReviewState
	// CallbackURL receives the scheme's authorization events (see CallbackEvent); "" sends none.
	CallbackURL string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// SchemeService manages authorization schemes. Every method is scoped to one account.
type SchemeService interface {
	// CreateScheme fills in ID, State (pending) and the times.
	CreateScheme(ctx context.Context, s *Scheme) error
	// FindSchemeByID returns ENOTFOUND/ReasonScheme when the scheme does not exist in the account.
	FindSchemeByID(ctx context.Context, accountID, id int64) (*Scheme, error)
	// SetSchemeState records a review decision; ENOTFOUND/ReasonScheme as FindSchemeByID.
	SetSchemeState(ctx context.Context, accountID, id int64, state ReviewState) error
}
