package sqlstore

import (
	"context"
	"sync"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/smstext"
)

var _ numauth.TemplateService = (*TemplateService)(nil)

// TemplateService stores accounts' message templates.
type TemplateService struct {
	db *DB
}

// NewTemplateService returns the template service of db.
func NewTemplateService(db *DB) *TemplateService { return &TemplateService{db: db} }

// SetMessageTemplate creates or replaces the account's template for a locale and kind.
func (s *TemplateService) SetMessageTemplate(ctx context.Context, accountID int64, locale string, kind numauth.MessageKind, text string) (*numauth.MessageTemplate, error) {
	t, err := checkTemplate(accountID, locale, kind)
	if err != nil {
		return nil, err
	}
	if err := smstext.ValidateTemplate(text); err != nil {
		return nil, numauth.Malformed("Text", "%v", err)
	}
	t.Text = text
	err = s.db.update(ctx, func(tx *tx) error {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		t.UpdatedAt = tx.now
		if _, err := tx.exec(ctx, `INSERT INTO message_templates (account_id, locale, kind, text, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account_id, locale, kind) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`,
			accountID, t.Locale, string(t.Kind), t.Text, toDB(tx.now)); err != nil {
			return err
		}
		return bumpRevision(ctx, tx)
	})
	if err != nil {
		return nil, storeError("set message template", err)
	}
	return t, nil
}

// DeleteMessageTemplate removes the account's template for a locale and kind.
func (s *TemplateService) DeleteMessageTemplate(ctx context.Context, accountID int64, locale string, kind numauth.MessageKind) error {
	t, err := checkTemplate(accountID, locale, kind)
	if err != nil {
		return err
	}
	err = s.db.update(ctx, func(tx *tx) error {
		ok, err := updated(tx.exec(ctx, `DELETE FROM message_templates WHERE account_id = ? AND locale = ? AND kind = ?`,
			accountID, t.Locale, string(t.Kind)))
		if err != nil {
			return err
		}
		if !ok {
			return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonTemplate, "no %s template for %s in account %d", t.Kind, t.Locale, accountID)
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("delete message template", err)
}

// FindMessageTemplates lists the account's templates by locale and kind, from a cache that the revision
// keeps fresh: sends read it on every call.
func (s *TemplateService) FindMessageTemplates(ctx context.Context, accountID int64) ([]*numauth.MessageTemplate, error) {
	c := &s.db.templates
	rev := s.db.revision.Load()
	c.mu.RLock()
	ts, ok := c.entries[accountID]
	fresh := c.revision == rev
	c.mu.RUnlock()
	if ok && fresh {
		return ts, nil
	}
	rows, err := s.db.read.QueryContext(ctx, s.db.dialect.rebind(`SELECT locale, kind, text, updated_at FROM message_templates
		WHERE account_id = ? ORDER BY locale, kind`), accountID)
	if err != nil {
		return nil, storeError("find message templates", err)
	}
	defer rows.Close()
	ts = nil
	for rows.Next() {
		t := &numauth.MessageTemplate{AccountID: accountID}
		var at int64
		if err := rows.Scan(&t.Locale, &t.Kind, &t.Text, &at); err != nil {
			return nil, storeError("find message templates", err)
		}
		t.UpdatedAt = fromDB(at)
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, storeError("find message templates", err)
	}
	c.mu.Lock()
	if rev > c.revision || c.entries == nil || len(c.entries) >= maxCachedTemplateAccounts {
		c.revision = rev
		c.entries = make(map[int64][]*numauth.MessageTemplate)
	}
	if rev == c.revision {
		c.entries[accountID] = ts
	}
	c.mu.Unlock()
	return ts, nil
}

// templateCache holds accounts' templates until the revision moves (template writes bump it).
type templateCache struct {
	mu       sync.RWMutex
	revision int64
	entries  map[int64][]*numauth.MessageTemplate
}

const maxCachedTemplateAccounts = 100_000

func checkTemplate(accountID int64, locale string, kind numauth.MessageKind) (*numauth.MessageTemplate, error) {
	norm := smstext.NormalizeLocale(locale)
	if norm == "" {
		return nil, numauth.Malformed("Locale", "%q is not a locale", locale)
	}
	if kind != numauth.MessageSMS && kind != numauth.MessageVoice {
		return nil, numauth.Malformed("Kind", "kind %q is not sms or voice", kind)
	}
	return &numauth.MessageTemplate{AccountID: accountID, Locale: norm, Kind: kind}, nil
}
