package numauth

import (
	"context"
	"time"
)

// ReasonTemplate is ENOTFOUND's reason when an account has no template for a locale and kind.
const ReasonTemplate Reason = "template"

// MessageTemplate is an account's own text for its verification messages in one locale and kind, in place
// of the built-in one. It uses the placeholders {code} (required), {app} and {minutes}.
type MessageTemplate struct {
	AccountID int64
	Locale    string // normalized, e.g. zh_CN
	Kind      MessageKind
	Text      string
	UpdatedAt time.Time
}

// TemplateService stores accounts' message templates.
type TemplateService interface {
	// SetMessageTemplate creates or replaces the account's template for a locale and kind. Errors:
	// ENOTFOUND for an unknown account; EINVALID/ReasonMalformed (Param Locale, Kind or Text) for a locale
	// that is not one, a kind other than sms or voice, or a text without {code} or with unknown placeholders.
	SetMessageTemplate(ctx context.Context, accountID int64, locale string, kind MessageKind, text string) (*MessageTemplate, error)
	// DeleteMessageTemplate removes it; ENOTFOUND/ReasonTemplate when there is none.
	DeleteMessageTemplate(ctx context.Context, accountID int64, locale string, kind MessageKind) error
	// FindMessageTemplates lists the account's templates by locale and kind. Sends read it on every call, so
	// implementations may cache it; a change is seen within a second.
	FindMessageTemplates(ctx context.Context, accountID int64) ([]*MessageTemplate, error)
}
