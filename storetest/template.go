package storetest

import (
	"testing"

	"github.com/numauth/numauth"
)

func testMessageTemplates(t *testing.T, open opener) {
	f := mustOpen(t, open)
	ctx := t.Context()
	a, _ := mustCreateAccount(t, f, "a")
	b, _ := mustCreateAccount(t, f, "b")

	t.Run("SetNormalizesTheLocaleAndListsIt", func(t *testing.T) {
		got, err := f.Templates.SetMessageTemplate(ctx, a.ID, "zh-cn", numauth.MessageSMS, "【Acme】验证码{code}")
		if err != nil {
			t.Fatal(err)
		}
		if got.Locale != "zh_CN" {
			t.Errorf("locale %q, want zh_CN", got.Locale)
		}
		ts, err := f.Templates.FindMessageTemplates(ctx, a.ID)
		if err != nil || len(ts) != 1 || ts[0].Text != "【Acme】验证码{code}" || ts[0].Kind != numauth.MessageSMS {
			t.Fatalf("got %v, %v", ts, err)
		}
	})
	t.Run("SetAgainReplacesAndIsSeenAtOnce", func(t *testing.T) {
		if _, err := f.Templates.SetMessageTemplate(ctx, a.ID, "zh_CN", numauth.MessageSMS, "新{code}"); err != nil {
			t.Fatal(err)
		}
		ts, _ := f.Templates.FindMessageTemplates(ctx, a.ID)
		if len(ts) != 1 || ts[0].Text != "新{code}" {
			t.Errorf("got %v", ts)
		}
	})
	t.Run("OtherAccountsSeeNone", func(t *testing.T) {
		if ts, err := f.Templates.FindMessageTemplates(ctx, b.ID); err != nil || len(ts) != 0 {
			t.Errorf("got %v, %v", ts, err)
		}
	})
	t.Run("DeleteRemovesIt", func(t *testing.T) {
		if err := f.Templates.DeleteMessageTemplate(ctx, a.ID, "zh_CN", numauth.MessageSMS); err != nil {
			t.Fatal(err)
		}
		if ts, _ := f.Templates.FindMessageTemplates(ctx, a.ID); len(ts) != 0 {
			t.Errorf("got %v after delete", ts)
		}
		err := f.Templates.DeleteMessageTemplate(ctx, a.ID, "zh_CN", numauth.MessageSMS)
		if numauth.ErrorKindOf(err) != numauth.ENOTFOUND || numauth.ErrorReasonOf(err) != numauth.ReasonTemplate {
			t.Errorf("second delete: got %v, want ENOTFOUND/template", err)
		}
	})
	bad := []struct {
		name   string
		acct   int64
		locale string
		kind   numauth.MessageKind
		text   string
		want   numauth.ErrorKind
	}{
		{"TextWithoutCodeIsInvalid", a.ID, "en_US", numauth.MessageSMS, "hello", numauth.EINVALID},
		{"UnknownPlaceholderIsInvalid", a.ID, "en_US", numauth.MessageSMS, "{code} {name}", numauth.EINVALID},
		{"MalformedLocaleIsInvalid", a.ID, "not a locale!", numauth.MessageSMS, "{code}", numauth.EINVALID},
		{"UnknownKindIsInvalid", a.ID, "en_US", "fax", "{code}", numauth.EINVALID},
		{"UnknownAccountIsNotFound", 42, "en_US", numauth.MessageSMS, "{code}", numauth.ENOTFOUND},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if _, err := f.Templates.SetMessageTemplate(ctx, c.acct, c.locale, c.kind, c.text); numauth.ErrorKindOf(err) != c.want {
				t.Errorf("got %v, want %s", err, c.want)
			}
		})
	}
}
