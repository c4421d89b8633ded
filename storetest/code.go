package storetest

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/numauth/numauth"
)

// codeFixture is a store with two accounts, a and b, on the default code settings.
type codeFixture struct {
	*fixture
	a, b *numauth.Account
}

func mustCodeFixture(t *testing.T, open opener) *codeFixture {
	t.Helper()
	f := mustOpen(t, open)
	a, _ := mustCreateAccount(t, f, "a")
	b, _ := mustCreateAccount(t, f, "b")
	return &codeFixture{fixture: f, a: a, b: b}
}

const (
	scope = "dypns:login"
	phone = "+8613900000000"
)

// request is a send of a default code from account a to the number.
func (f *codeFixture) request(number string) numauth.CodeRequest {
	return numauth.CodeRequest{AccountID: f.a.ID, Scope: scope, Phone: number, Locale: "en_US", Channel: "outbox",
		Text: "Your code is ##code##."}
}

// check is a check by account a of the code for the number.
func (f *codeFixture) check(number, code string) numauth.CodeCheck {
	return numauth.CodeCheck{AccountID: f.a.ID, Scope: scope, Phone: number, Code: code}
}

func (f *codeFixture) mustSend(tb testing.TB, r numauth.CodeRequest) *numauth.SentCode {
	tb.Helper()
	sent, err := f.Codes.SendCode(context.Background(), r)
	if err != nil {
		tb.Fatalf("SendCode(%s): %v", r.Phone, err)
	}
	return sent
}

func (f *codeFixture) mustCheck(tb testing.TB, c numauth.CodeCheck) bool {
	tb.Helper()
	ok, err := f.Codes.CheckCode(context.Background(), c)
	if err != nil {
		tb.Fatalf("CheckCode(%s, %s): %v", c.Phone, c.Code, err)
	}
	return ok
}

func (f *codeFixture) mustSetLimits(tb testing.TB, accountID int64, l numauth.CodeLimits) {
	tb.Helper()
	mustDo(tb, f.Codes.SetCodeSettings(context.Background(), accountID, &numauth.CodeSettings{Limits: l}))
}

// mustMessages lists the messages to a number, newest first.
func (f *codeFixture) mustMessages(tb testing.TB, number string) []*numauth.Message {
	tb.Helper()
	ms, err := f.Outbox.FindMessages(context.Background(), numauth.MessageFilter{AllAccounts: true, Phone: number})
	if err != nil {
		tb.Fatalf("FindMessages(%s): %v", number, err)
	}
	return ms
}

// mustMessage returns the message with the id, to the number.
func (f *codeFixture) mustMessage(tb testing.TB, number, id string) *numauth.Message {
	tb.Helper()
	for _, m := range f.mustMessages(tb, number) {
		if m.ID == id {
			return m
		}
	}
	tb.Fatalf("message %s to %s not found", id, number)
	return nil
}

func (f *codeFixture) mustClaim(tb testing.TB, worker string, n int, lease time.Duration) []*numauth.Message {
	tb.Helper()
	ms, err := f.Outbox.Claim(context.Background(), worker, n, lease)
	if err != nil {
		tb.Fatalf("ClaimMessages(%s, %d): %v", worker, n, err)
	}
	return ms
}

// number returns the i-th of a series of mainland numbers, each in a prefix of its own.
func number(i int) string { return fmt.Sprintf("+86139%02d%06d", i%100, i) }

var (
	digitsCode = regexp.MustCompile(`^[0-9]{6}$`)
	messageID  = requestID
)

func testSendCode(t *testing.T, open opener) {
	t.Run("CodeAndMessageAreStored", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		f.clock.Advance(time.Minute)
		now := start.Add(time.Minute)
		r := f.request("13900000000")
		r.OutID = "order-1"
		sent := f.mustSend(t, r)
		if !messageID.MatchString(sent.MessageID) || !digitsCode.MatchString(sent.Code) {
			t.Errorf("SentCode: got message id %q and code %q, want 32 hex digits and 6 digits", sent.MessageID, sent.Code)
		}
		want := &numauth.SentCode{MessageID: sent.MessageID, Phone: phone, Code: sent.Code, ExpiresAt: now.Add(numauth.DefaultCodeValidFor)}
		if diff := cmp.Diff(want, sent); diff != "" {
			t.Errorf("SentCode (-want +got):\n%s", diff)
		}
		wantMessage := &numauth.Message{ID: sent.MessageID, AccountID: f.a.ID, Phone: phone, Kind: numauth.MessageSMS,
			Locale: "en_US", Body: "Your code is " + sent.Code + ".", Channel: "outbox", Status: numauth.MessageQueued,
			Encoding: "GSM-7", Segments: 1, OutID: "order-1", NextAttemptAt: now, ExpiresAt: sent.ExpiresAt, CreatedAt: now, UpdatedAt: now}
		if diff := cmp.Diff(wantMessage, f.mustMessage(t, phone, sent.MessageID)); diff != "" {
			t.Errorf("outbox message (-want +got):\n%s", diff)
		}
		if !f.mustCheck(t, f.check(phone, sent.Code)) {
			t.Errorf("CheckCode with the code sent: got false, want true")
		}
	})
	t.Run("UnknownAccountIsNotFound", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		r := f.request(phone)
		r.AccountID = 12345
		_, err := f.Codes.SendCode(t.Context(), r)
		checkError(t, err, numauth.ENOTFOUND, "")
	})

	codeTests := []struct {
		name   string
		change func(*numauth.CodeRequest)
		want   string // a regular expression the code matches
	}{
		{"DefaultIsSixDigits", func(*numauth.CodeRequest) {}, `^[0-9]{6}$`},
		{"ShortestCode", func(r *numauth.CodeRequest) { r.Length = 4 }, `^[0-9]{4}$`},
		{"LongestCode", func(r *numauth.CodeRequest) { r.Length = 10 }, `^[0-9]{10}$`},
		{"UpperCase", func(r *numauth.CodeRequest) { r.Type = numauth.CodeUpper }, `^[A-Z]{6}$`},
		{"LowerCase", func(r *numauth.CodeRequest) { r.Type = numauth.CodeLower }, `^[a-z]{6}$`},
		{"Letters", func(r *numauth.CodeRequest) { r.Type = numauth.CodeLetters }, `^[A-Za-z]{6}$`},
		{"DigitsAndUpperCase", func(r *numauth.CodeRequest) { r.Type = numauth.CodeDigitsUpper }, `^[0-9A-Z]{6}$`},
		{"DigitsAndLowerCase", func(r *numauth.CodeRequest) { r.Type = numauth.CodeDigitsLower }, `^[0-9a-z]{6}$`},
		{"All", func(r *numauth.CodeRequest) { r.Type, r.Length = numauth.CodeAll, 8 }, `^[0-9A-Za-z]{8}$`},
		{"LiteralCodeIsSent", func(r *numauth.CodeRequest) { r.Code = "Ab12cD" }, `^Ab12cD$`},
	}
	for _, tt := range codeTests {
		t.Run("CodeIs"+tt.name, func(t *testing.T) {
			f := mustCodeFixture(t, open)
			r := f.request(phone)
			tt.change(&r)
			sent := f.mustSend(t, r)
			if !regexp.MustCompile(tt.want).MatchString(sent.Code) {
				t.Errorf("code: got %q, want %s", sent.Code, tt.want)
			}
			if body := f.mustMessage(t, phone, sent.MessageID).Body; body != "Your code is "+sent.Code+"." {
				t.Errorf("message body: got %q, want the code in the text", body)
			}
			if !f.mustCheck(t, numauth.CodeCheck{AccountID: f.a.ID, Scope: scope, Phone: phone, Code: sent.Code, Case: numauth.CaseSensitive}) {
				t.Errorf("CheckCode: got false, want true")
			}
		})
	}

	t.Run("ValidForSetsTheExpiry", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		r := f.request(phone)
		r.ValidFor = 10 * time.Minute
		sent := f.mustSend(t, r)
		if want := start.Add(10 * time.Minute); !sent.ExpiresAt.Equal(want) {
			t.Errorf("ExpiresAt: got %v, want %v", sent.ExpiresAt, want)
		}
		if m := f.mustMessage(t, phone, sent.MessageID); !m.ExpiresAt.Equal(sent.ExpiresAt) {
			t.Errorf("message ExpiresAt: got %v, want the code's %v", m.ExpiresAt, sent.ExpiresAt)
		}
	})

	encodingTests := []struct {
		name         string
		kind         numauth.MessageKind
		text         string
		wantEncoding string
		wantSegments int
	}{
		{"ShortLatinIsOneGSM7Segment", numauth.MessageSMS, "Code ##code##", "GSM-7", 1},
		{"ExtensionCharactersCountTwice", numauth.MessageSMS, strings.Repeat("€", 78) + "##code##", "GSM-7", 2},
		{"LongLatinIsSeveralGSM7Segments", numauth.MessageSMS, strings.Repeat("x", 310) + "##code##", "GSM-7", 3},
		{"ChineseIsUCS2", numauth.MessageSMS, "您的验证码是##code##，5分钟内有效。", "UCS-2", 1},
		{"LongChineseIsSeveralUCS2Segments", numauth.MessageSMS, strings.Repeat("码", 70) + "##code##", "UCS-2", 2},
		{"VoiceHasNoEncoding", numauth.MessageVoice, "Your code is ##code##", "", 0},
	}
	for _, tt := range encodingTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCodeFixture(t, open)
			r := f.request(phone)
			r.Kind, r.Text = tt.kind, tt.text
			sent := f.mustSend(t, r)
			m := f.mustMessage(t, phone, sent.MessageID)
			if m.Kind != tt.kind || m.Encoding != tt.wantEncoding || m.Segments != tt.wantSegments {
				t.Errorf("message: got kind %s, %q in %d segments; want %s, %q in %d", m.Kind, m.Encoding, m.Segments,
					tt.kind, tt.wantEncoding, tt.wantSegments)
			}
		})
	}
}

func testSendCodeValidation(t *testing.T, open opener) {
	tests := []struct {
		name   string
		change func(*numauth.CodeRequest)
		reason string
	}{
		{"BadPhoneIsInvalid", func(r *numauth.CodeRequest) { r.Phone = "12345" }, numauth.ReasonPhoneNumber},
		{"MissingScopeIsMissing", func(r *numauth.CodeRequest) { r.Scope = "" }, numauth.ReasonMissing},
		{"TextWithoutPlaceholderIsMalformed", func(r *numauth.CodeRequest) { r.Text = "Your code" }, numauth.ReasonMalformed},
		{"LongCodeIsMalformed", func(r *numauth.CodeRequest) { r.Length = 11 }, numauth.ReasonMalformed},
		{"UnknownCodeTypeIsMalformed", func(r *numauth.CodeRequest) { r.Type = 8 }, numauth.ReasonMalformed},
		{"BadLiteralCodeIsMalformed", func(r *numauth.CodeRequest) { r.Code = "12 34" }, numauth.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCodeFixture(t, open)
			r := f.request(phone)
			tt.change(&r)
			sent, err := f.Codes.SendCode(t.Context(), r)
			checkError(t, err, numauth.EINVALID, tt.reason)
			if sent != nil {
				t.Errorf("SentCode: got %+v, want nil", sent)
			}
			if ms := f.mustMessages(t, phone); len(ms) != 0 {
				t.Errorf("outbox: got %d messages, want none", len(ms))
			}
		})
	}
}

func testCheckCode(t *testing.T, open opener) {
	tests := []struct {
		name  string
		check func(f *codeFixture, code string) numauth.CodeCheck
		wait  time.Duration // before checking
		want  bool
	}{
		{"RightCodePasses", func(f *codeFixture, code string) numauth.CodeCheck { return f.check(phone, code) }, 0, true},
		{"NumberIsNormalized", func(f *codeFixture, code string) numauth.CodeCheck { return f.check("13900000000", code) }, 0, true},
		{"WrongCodeFails", func(f *codeFixture, code string) numauth.CodeCheck { return f.check(phone, wrong(code)) }, 0, false},
		{"OtherScopeFails", func(f *codeFixture, code string) numauth.CodeCheck {
			c := f.check(phone, code)
			c.Scope = "cams:space"
			return c
		}, 0, false},
		{"OtherAccountFails", func(f *codeFixture, code string) numauth.CodeCheck {
			c := f.check(phone, code)
			c.AccountID = f.b.ID
			return c
		}, 0, false},
		{"OtherNumberFails", func(f *codeFixture, code string) numauth.CodeCheck { return f.check("+8613900000001", code) }, 0, false},
		{"CodeJustBeforeExpiryPasses", func(f *codeFixture, code string) numauth.CodeCheck { return f.check(phone, code) },
			numauth.DefaultCodeValidFor - time.Microsecond, true},
		{"ExpiredCodeFails", func(f *codeFixture, code string) numauth.CodeCheck { return f.check(phone, code) },
			numauth.DefaultCodeValidFor, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCodeFixture(t, open)
			sent := f.mustSend(t, f.request(phone))
			f.clock.Advance(tt.wait)
			if got := f.mustCheck(t, tt.check(f, sent.Code)); got != tt.want {
				t.Errorf("CheckCode: got %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("CodeIsSingleUse", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		sent := f.mustSend(t, f.request(phone))
		if !f.mustCheck(t, f.check(phone, sent.Code)) {
			t.Fatal("first check: got false, want true")
		}
		if f.mustCheck(t, f.check(phone, sent.Code)) {
			t.Error("second check: got true, want false")
		}
	})
	t.Run("NoCodeFails", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		if f.mustCheck(t, f.check(phone, "123456")) {
			t.Error("CheckCode without a code sent: got true, want false")
		}
	})

	caseTests := []struct {
		name   string
		policy numauth.CaseAuthPolicy
		input  func(code string) string
		want   bool
	}{
		{"InsensitiveByDefaultTakesLowerCase", 0, strings.ToLower, true},
		{"InsensitiveTakesLowerCase", numauth.CaseInsensitive, strings.ToLower, true},
		{"InsensitiveTakesTheCode", numauth.CaseInsensitive, func(s string) string { return s }, true},
		{"SensitiveRefusesLowerCase", numauth.CaseSensitive, strings.ToLower, false},
		{"SensitiveTakesTheCode", numauth.CaseSensitive, func(s string) string { return s }, true},
	}
	for _, tt := range caseTests {
		t.Run("Case"+tt.name, func(t *testing.T) {
			f := mustCodeFixture(t, open)
			r := f.request(phone)
			r.Type = numauth.CodeUpper
			sent := f.mustSend(t, r)
			c := f.check(phone, tt.input(sent.Code))
			c.Case = tt.policy
			if got := f.mustCheck(t, c); got != tt.want {
				t.Errorf("CheckCode(%q) of %q: got %v, want %v", c.Code, sent.Code, got, tt.want)
			}
		})
	}

	t.Run("FifthWrongCheckCancelsTheCode", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		sent := f.mustSend(t, f.request(phone))
		for i := 1; i < numauth.MaxCodeAttempts; i++ {
			if f.mustCheck(t, f.check(phone, wrong(sent.Code))) {
				t.Fatalf("wrong check %d: got true, want false", i)
			}
		}
		ok, err := f.Codes.CheckCode(t.Context(), f.check(phone, wrong(sent.Code)))
		checkError(t, err, numauth.ETHROTTLED, numauth.ReasonCodeAttempts)
		if ok {
			t.Error("the cancelling check: got true, want false")
		}
		ok, err = f.Codes.CheckCode(t.Context(), f.check(phone, sent.Code))
		checkError(t, err, numauth.ETHROTTLED, numauth.ReasonCodeAttempts)
		if ok {
			t.Error("the right code after cancelling: got true, want false")
		}
		f.clock.Advance(time.Minute)
		next := f.mustSend(t, f.request(phone))
		if !f.mustCheck(t, f.check(phone, next.Code)) {
			t.Error("a new code after cancelling: got false, want true")
		}
	})
	t.Run("FewerWrongChecksKeepTheCode", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		sent := f.mustSend(t, f.request(phone))
		for range numauth.MaxCodeAttempts - 1 {
			f.mustCheck(t, f.check(phone, wrong(sent.Code)))
		}
		if !f.mustCheck(t, f.check(phone, sent.Code)) {
			t.Error("the right code after four wrong ones: got false, want true")
		}
	})
	t.Run("ExpiredCodeCountsNoAttempts", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		r := f.request(phone)
		r.Duplicate = numauth.DuplicateKeep
		sent := f.mustSend(t, r)
		f.clock.Advance(numauth.DefaultCodeValidFor)
		for range numauth.MaxCodeAttempts + 1 {
			if _, err := f.Codes.CheckCode(t.Context(), f.check(phone, wrong(sent.Code))); err != nil {
				t.Fatalf("wrong check of an expired code: got %v, want nil", err)
			}
		}
	})

	errorTests := []struct {
		name   string
		check  numauth.CodeCheck
		reason string
	}{
		{"MissingCodeIsMissing", numauth.CodeCheck{Scope: scope, Phone: phone}, numauth.ReasonMissing},
		{"MissingScopeIsMissing", numauth.CodeCheck{Phone: phone, Code: "1234"}, numauth.ReasonMissing},
		{"BadPhoneIsInvalid", numauth.CodeCheck{Scope: scope, Phone: "12", Code: "1234"}, numauth.ReasonPhoneNumber},
		{"UnknownCasePolicyIsMalformed", numauth.CodeCheck{Scope: scope, Phone: phone, Code: "1234", Case: 3}, numauth.ReasonMalformed},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCodeFixture(t, open)
			tt.check.AccountID = f.a.ID
			_, err := f.Codes.CheckCode(t.Context(), tt.check)
			checkError(t, err, numauth.EINVALID, tt.reason)
		})
	}
}

// wrong returns a code of the same shape that is not code.
func wrong(code string) string {
	if code[0] == '1' {
		return "2" + code[1:]
	}
	return "1" + code[1:]
}

func testDuplicatePolicy(t *testing.T, open opener) {
	send := func(t *testing.T, f *codeFixture, policy numauth.DuplicatePolicy) *numauth.SentCode {
		t.Helper()
		r := f.request(phone)
		r.Duplicate, r.Type, r.Length = policy, numauth.CodeAll, 10 // codes that never repeat by chance
		return f.mustSend(t, r)
	}
	t.Run("OverwriteSendsANewCode", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		first := send(t, f, numauth.DuplicateOverwrite)
		f.clock.Advance(time.Minute)
		second := send(t, f, numauth.DuplicateOverwrite)
		if second.Code == first.Code || second.Reused || !second.ExpiresAt.Equal(start.Add(time.Minute+numauth.DefaultCodeValidFor)) {
			t.Errorf("second send: got %+v, want a new code expiring 5 minutes after it", second)
		}
		if f.mustCheck(t, f.check(phone, first.Code)) {
			t.Error("the overwritten code: got true, want false")
		}
		if !f.mustCheck(t, f.check(phone, second.Code)) {
			t.Error("the new code: got false, want true")
		}
	})
	t.Run("KeepSendsTheValidCodeAgain", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		first := send(t, f, numauth.DuplicateKeep)
		f.clock.Advance(time.Minute)
		second := send(t, f, numauth.DuplicateKeep)
		want := &numauth.SentCode{MessageID: second.MessageID, Phone: phone, Code: first.Code, ExpiresAt: first.ExpiresAt, Reused: true}
		if diff := cmp.Diff(want, second); diff != "" {
			t.Errorf("second send (-want +got):\n%s", diff)
		}
		if second.MessageID == first.MessageID || len(f.mustMessages(t, phone)) != 2 {
			t.Errorf("outbox: want a second message")
		}
		m := f.mustMessage(t, phone, second.MessageID)
		if m.Body != "Your code is "+first.Code+"." || !m.ExpiresAt.Equal(first.ExpiresAt) {
			t.Errorf("second message: got body %q expiring %v, want the first code, expiring with it", m.Body, m.ExpiresAt)
		}
		if !f.mustCheck(t, f.check(phone, first.Code)) {
			t.Error("the kept code: got false, want true")
		}
	})
	newCodeTests := []struct {
		name  string
		after func(t *testing.T, f *codeFixture, first *numauth.SentCode)
	}{
		{"KeepAfterExpirySendsANewCode", func(t *testing.T, f *codeFixture, _ *numauth.SentCode) {
			f.clock.Advance(numauth.DefaultCodeValidFor)
		}},
		{"KeepAfterUseSendsANewCode", func(t *testing.T, f *codeFixture, first *numauth.SentCode) {
			f.mustCheck(t, f.check(phone, first.Code))
			f.clock.Advance(time.Minute)
		}},
		{"KeepAfterCancelSendsANewCode", func(t *testing.T, f *codeFixture, first *numauth.SentCode) {
			for range numauth.MaxCodeAttempts {
				f.Codes.CheckCode(t.Context(), f.check(phone, wrong(first.Code)))
			}
			f.clock.Advance(time.Minute)
		}},
	}
	for _, tt := range newCodeTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCodeFixture(t, open)
			first := send(t, f, numauth.DuplicateKeep)
			tt.after(t, f, first)
			second := send(t, f, numauth.DuplicateKeep)
			if second.Reused || second.Code == first.Code {
				t.Errorf("second send: got %+v, want a new code", second)
			}
			if !f.mustCheck(t, f.check(phone, second.Code)) {
				t.Error("the new code: got false, want true")
			}
		})
	}
}

func testSendLimits(t *testing.T, open opener) {
	type step struct {
		wait    time.Duration // advance the clock first
		account string        // "a" or "b"
		number  string
		reason  string        // "" for a send that goes through
		retry   time.Duration // the RetryAfter a refusal carries
	}
	only := func(l numauth.CodeLimits) *numauth.CodeLimits { return &l }
	tests := []struct {
		name     string
		limits   *numauth.CodeLimits // for both accounts; nil keeps the defaults
		interval time.Duration       // the requests' own Interval
		steps    []step
	}{
		{"IntervalRefusesUntilItPasses", nil, 0, []step{
			{0, "a", phone, "", 0},
			{30 * time.Second, "a", phone, numauth.ReasonCodeInterval, 30 * time.Second},
			{29 * time.Second, "a", phone, numauth.ReasonCodeInterval, time.Second},
			{time.Second, "a", phone, "", 0},
		}},
		{"IntervalIsPerAccountAndNumber", nil, 0, []step{
			{0, "a", phone, "", 0},
			{0, "b", phone, "", 0},
			{0, "a", "+8613900000001", "", 0},
		}},
		{"RequestIntervalLengthensTheAccounts", nil, 2 * time.Minute, []step{
			{0, "a", phone, "", 0},
			{61 * time.Second, "a", phone, numauth.ReasonCodeInterval, 59 * time.Second},
			{59 * time.Second, "a", phone, "", 0},
		}},
		{"RequestIntervalDoesNotShortenTheAccounts", nil, 10 * time.Second, []step{
			{0, "a", phone, "", 0},
			{30 * time.Second, "a", phone, numauth.ReasonCodeInterval, 30 * time.Second},
		}},
		{"HourlyLimit", nil, 0, []step{
			{0, "a", phone, "", 0},
			{time.Minute, "a", phone, "", 0},
			{time.Minute, "a", phone, "", 0},
			{time.Minute, "a", phone, "", 0},
			{time.Minute, "a", phone, "", 0},
			{time.Minute, "a", phone, numauth.ReasonCodeHourly, 55 * time.Minute},
			{55 * time.Minute, "a", phone, "", 0},
		}},
		{"DailyLimitPerSender", only(numauth.CodeLimits{PerDay: 3}), 0, []step{
			{0, "a", phone, "", 0},
			{time.Hour, "a", phone, "", 0},
			{time.Hour, "a", phone, "", 0},
			{time.Hour, "a", phone, numauth.ReasonCodeDaily, 21 * time.Hour},
			{0, "b", phone, "", 0},
			{21 * time.Hour, "a", phone, "", 0},
		}},
		{"DailyLimitPerNumberCountsEveryAccount", only(numauth.CodeLimits{NumberPerDay: 3}), 0, []step{
			{0, "a", phone, "", 0},
			{time.Hour, "a", phone, "", 0},
			{time.Hour, "b", phone, "", 0},
			{time.Hour, "b", phone, numauth.ReasonNumberDaily, 21 * time.Hour},
			{0, "a", phone, numauth.ReasonNumberDaily, 21 * time.Hour},
			{0, "a", "+8613900000001", "", 0},
			{21 * time.Hour, "b", phone, "", 0},
		}},
		{"AccountVelocity", only(numauth.CodeLimits{AccountPerMinute: 3}), 0, []step{
			{0, "a", number(1), "", 0},
			{10 * time.Second, "a", number(2), "", 0},
			{10 * time.Second, "a", number(3), "", 0},
			{10 * time.Second, "a", number(4), numauth.ReasonAccountVelocity, 30 * time.Second},
			{0, "b", number(4), "", 0},
			{30 * time.Second, "a", number(4), "", 0},
		}},
		{"PrefixVelocity", only(numauth.CodeLimits{PrefixPerMinute: 2}), 0, []step{
			{0, "a", "+8613900000001", "", 0},
			{20 * time.Second, "a", "+8613900000002", "", 0},
			{20 * time.Second, "a", "+8613900000003", numauth.ReasonPrefixVelocity, 20 * time.Second},
			{0, "a", "+8613910000003", "", 0},
			{0, "b", "+8613900000003", "", 0},
			{20 * time.Second, "a", "+8613900000003", "", 0},
		}},
		{"RefusedSendsDoNotCount", only(numauth.CodeLimits{Interval: time.Minute, PerDay: 2}), 0, []step{
			{0, "a", phone, "", 0},
			{30 * time.Second, "a", phone, numauth.ReasonCodeInterval, 30 * time.Second},
			{30 * time.Second, "a", phone, "", 0},
			{time.Minute, "a", phone, numauth.ReasonCodeDaily, 0},
		}},
		{"ZeroLimitsLimitNothing", only(numauth.CodeLimits{}), 0, []step{
			{0, "a", phone, "", 0}, {0, "a", phone, "", 0}, {0, "a", phone, "", 0}, {0, "a", phone, "", 0},
			{0, "a", phone, "", 0}, {0, "a", phone, "", 0}, {0, "a", phone, "", 0}, {0, "a", phone, "", 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCodeFixture(t, open)
			if tt.limits != nil {
				f.mustSetLimits(t, f.a.ID, *tt.limits)
				f.mustSetLimits(t, f.b.ID, *tt.limits)
			}
			for i, s := range tt.steps {
				f.clock.Advance(s.wait)
				r := f.request(s.number)
				r.Interval = tt.interval
				if s.account == "b" {
					r.AccountID = f.b.ID
				}
				before := len(f.mustMessages(t, s.number))
				sent, err := f.Codes.SendCode(t.Context(), r)
				if s.reason == "" {
					if err != nil {
						t.Fatalf("step %d (%s to %s): got %v, want it sent", i, s.account, s.number, err)
					}
					continue
				}
				e := numauth.AsError(err)
				if e == nil {
					t.Fatalf("step %d (%s to %s): got it sent, want ETHROTTLED/%s", i, s.account, s.number, s.reason)
				}
				if e.Kind != numauth.ETHROTTLED || e.Reason != s.reason || s.retry != 0 && e.RetryAfter != s.retry {
					t.Fatalf("step %d (%s to %s): got %v (retry after %v), want ETHROTTLED/%s retry after %v",
						i, s.account, s.number, err, e.RetryAfter, s.reason, s.retry)
				}
				if e.RetryAfter <= 0 {
					t.Errorf("step %d: RetryAfter %v, want it positive", i, e.RetryAfter)
				}
				if sent != nil || len(f.mustMessages(t, s.number)) != before {
					t.Errorf("step %d: a refused send stored a message", i)
				}
			}
		})
	}
	t.Run("RefusedSendKeepsTheCode", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		sent := f.mustSend(t, f.request(phone))
		_, err := f.Codes.SendCode(t.Context(), f.request(phone))
		checkError(t, err, numauth.ETHROTTLED, numauth.ReasonCodeInterval)
		if !f.mustCheck(t, f.check(phone, sent.Code)) {
			t.Error("the code sent before the refusal: got false, want true")
		}
	})
}

func testDestinations(t *testing.T, open opener) {
	tests := []struct {
		name     string
		settings numauth.CodeSettings
		number   string
		reason   string // "" when sent
	}{
		{"MainlandIsSent", numauth.CodeSettings{}, phone, ""},
		{"UKMobileIsSent", numauth.CodeSettings{}, "+447400123456", ""},
		{"InternationalNetworksAreDenied", numauth.CodeSettings{}, "+8823421234", numauth.ReasonPremiumRate},
		{"SatelliteIsDenied", numauth.CodeSettings{}, "+881612345678", numauth.ReasonPremiumRate},
		{"PremiumRateIsDenied", numauth.CodeSettings{}, "+449098765432", numauth.ReasonPremiumRate},
		{"AllowedPrefixIsSent", numauth.CodeSettings{AllowPrefixes: []string{"+882"}}, "+8823421234", ""},
		{"DeniedPrefixIsDenied", numauth.CodeSettings{DenyPrefixes: []string{"+447400"}}, "+447400123456", numauth.ReasonPremiumRate},
		{"RegionOutsideAllowListIsDenied", numauth.CodeSettings{AllowRegions: []string{"CN"}}, "+447400123456", numauth.ReasonCountryDenied},
		{"RegionInAllowListIsSent", numauth.CodeSettings{AllowRegions: []string{"CN", "GB"}}, "+447400123456", ""},
		{"DeniedRegionIsDenied", numauth.CodeSettings{DenyRegions: []string{"CN"}}, phone, numauth.ReasonCountryDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCodeFixture(t, open)
			tt.settings.Limits = numauth.DefaultCodeLimits
			mustDo(t, f.Codes.SetCodeSettings(t.Context(), f.a.ID, &tt.settings))
			_, err := f.Codes.SendCode(t.Context(), f.request(tt.number))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("SendCode(%s): got %v, want it sent", tt.number, err)
				}
				return
			}
			checkError(t, err, numauth.EDENIED, tt.reason)
			if ms := f.mustMessages(t, tt.number); len(ms) != 0 {
				t.Errorf("outbox: got %d messages, want none", len(ms))
			}
		})
	}
	t.Run("RulesArePerAccount", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		mustDo(t, f.Codes.SetCodeSettings(t.Context(), f.a.ID, &numauth.CodeSettings{DenyRegions: []string{"CN"}}))
		r := f.request(phone)
		r.AccountID = f.b.ID
		f.mustSend(t, r)
	})
}

func testCodeSettings(t *testing.T, open opener) {
	t.Run("DefaultsUntilSet", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		got, err := f.Codes.FindCodeSettings(t.Context(), f.a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(numauth.DefaultCodeSettings(), got); diff != "" {
			t.Errorf("FindCodeSettings (-want +got):\n%s", diff)
		}
	})
	t.Run("SetSettingsAreFound", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		set := &numauth.CodeSettings{
			Limits:       numauth.CodeLimits{Interval: 90 * time.Second, PerHour: 1, PerDay: 2, NumberPerDay: 3, AccountPerMinute: 4, PrefixPerMinute: 5},
			AllowRegions: []string{"cn", "GB"}, DenyRegions: []string{"US"}, AllowPrefixes: []string{"+882"}, DenyPrefixes: []string{"+4470", "+4471"},
		}
		mustDo(t, f.Codes.SetCodeSettings(t.Context(), f.a.ID, set))
		got, err := f.Codes.FindCodeSettings(t.Context(), f.a.ID)
		want := *set
		want.AllowRegions = []string{"CN", "GB"}
		if err != nil || !cmp.Equal(&want, got) {
			t.Errorf("FindCodeSettings: got %+v, %v; want %+v", got, err, &want)
		}
		if other, _ := f.Codes.FindCodeSettings(t.Context(), f.b.ID); !cmp.Equal(numauth.DefaultCodeSettings(), other) {
			t.Errorf("the other account's settings: got %+v, want the defaults", other)
		}
		mustDo(t, f.Codes.SetCodeSettings(t.Context(), f.a.ID, &numauth.CodeSettings{}))
		if got, _ := f.Codes.FindCodeSettings(t.Context(), f.a.ID); !cmp.Equal(&numauth.CodeSettings{}, got) {
			t.Errorf("FindCodeSettings after replacing: got %+v, want no limits and no lists", got)
		}
	})
	tests := []struct {
		name     string
		call     func(ctx context.Context, f *codeFixture) error
		wantKind numauth.ErrorKind
	}{
		{"NegativeLimitIsInvalid", func(ctx context.Context, f *codeFixture) error {
			return f.Codes.SetCodeSettings(ctx, f.a.ID, &numauth.CodeSettings{Limits: numauth.CodeLimits{PerHour: -1}})
		}, numauth.EINVALID},
		{"UnknownRegionIsInvalid", func(ctx context.Context, f *codeFixture) error {
			return f.Codes.SetCodeSettings(ctx, f.a.ID, &numauth.CodeSettings{DenyRegions: []string{"XX"}})
		}, numauth.EINVALID},
		{"SetForUnknownAccountIsNotFound", func(ctx context.Context, f *codeFixture) error {
			return f.Codes.SetCodeSettings(ctx, 12345, &numauth.CodeSettings{})
		}, numauth.ENOTFOUND},
		{"FindForUnknownAccountIsNotFound", func(ctx context.Context, f *codeFixture) error {
			_, err := f.Codes.FindCodeSettings(ctx, 12345)
			return err
		}, numauth.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, tt.call(t.Context(), mustCodeFixture(t, open)), tt.wantKind, "")
		})
	}
}

func testTestNumbers(t *testing.T, open opener) {
	t.Run("FixedCodeNeverLeavesTheOutbox", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		n, err := f.Codes.SetTestNumber(t.Context(), f.a.ID, "13900000000", "2468")
		if err != nil {
			t.Fatal(err)
		}
		if want := (&numauth.TestNumber{AccountID: f.a.ID, Phone: phone, Code: "2468", CreatedAt: start}); !cmp.Equal(want, n) {
			t.Errorf("SetTestNumber: got %+v, want %+v", n, want)
		}
		sent := f.mustSend(t, f.request(phone))
		if sent.Code != "2468" || !sent.Test {
			t.Errorf("SentCode: got %+v, want the fixed code and Test", sent)
		}
		m := f.mustMessage(t, phone, sent.MessageID)
		if !m.Test || m.Status != numauth.MessageSent || m.Body != "Your code is 2468." {
			t.Errorf("message: got Test %v, status %s, body %q; want a sent test message with the fixed code", m.Test, m.Status, m.Body)
		}
		if ms := f.mustClaim(t, "w", 10, time.Minute); len(ms) != 0 {
			t.Errorf("ClaimMessages: got %d messages, want none", len(ms))
		}
		if !f.mustCheck(t, f.check(phone, "2468")) {
			t.Error("CheckCode with the fixed code: got false, want true")
		}
	})
	t.Run("ExemptFromLimitsAndRules", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		mustDo(t, f.Codes.SetCodeSettings(t.Context(), f.a.ID, &numauth.CodeSettings{
			Limits: numauth.DefaultCodeLimits, DenyRegions: []string{"CN"}}))
		if _, err := f.Codes.SetTestNumber(t.Context(), f.a.ID, phone, "2468"); err != nil {
			t.Fatal(err)
		}
		for range numauth.DefaultCodeLimits.PerDay + 2 {
			f.mustSend(t, f.request(phone))
		}
		// Nor do they count towards anyone's limits.
		mustDo(t, f.Codes.DeleteTestNumber(t.Context(), f.a.ID, phone))
		mustDo(t, f.Codes.SetCodeSettings(t.Context(), f.a.ID, &numauth.CodeSettings{Limits: numauth.DefaultCodeLimits}))
		if sent := f.mustSend(t, f.request(phone)); sent.Test || len(sent.Code) != numauth.DefaultCodeLength {
			t.Errorf("SentCode after deleting the test number: got %+v, want an ordinary send", sent)
		}
	})
	t.Run("TestNumbersArePerAccount", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		if _, err := f.Codes.SetTestNumber(t.Context(), f.a.ID, phone, "2468"); err != nil {
			t.Fatal(err)
		}
		r := f.request(phone)
		r.AccountID = f.b.ID
		if sent := f.mustSend(t, r); sent.Test {
			t.Errorf("another account's send to a's test number: got Test, want an ordinary send")
		}
	})
	t.Run("ListChangeAndDelete", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		for _, n := range []struct{ phone, code string }{{"+8613900000002", "1111"}, {"+8613900000001", "2222"}} {
			if _, err := f.Codes.SetTestNumber(t.Context(), f.a.ID, n.phone, n.code); err != nil {
				t.Fatal(err)
			}
		}
		f.clock.Advance(time.Minute)
		changed, err := f.Codes.SetTestNumber(t.Context(), f.a.ID, "+8613900000002", "3333")
		if err != nil || !changed.CreatedAt.Equal(start) {
			t.Errorf("changing a test number's code: got %+v, %v; want it created at %v", changed, err, start)
		}
		mustDo(t, f.Codes.DeleteTestNumber(t.Context(), f.a.ID, "+8613900000001"))
		got, err := f.Codes.FindTestNumbers(t.Context(), f.a.ID)
		want := []*numauth.TestNumber{{AccountID: f.a.ID, Phone: "+8613900000002", Code: "3333", CreatedAt: start}}
		if err != nil || !cmp.Equal(want, got) {
			t.Errorf("FindTestNumbers: got %v, %v; want %v", got, err, want)
		}
		if other, err := f.Codes.FindTestNumbers(t.Context(), f.b.ID); err != nil || len(other) != 0 {
			t.Errorf("FindTestNumbers of the other account: got %v, %v; want none", other, err)
		}
	})
	tests := []struct {
		name       string
		call       func(ctx context.Context, f *codeFixture) error
		wantKind   numauth.ErrorKind
		wantReason string
	}{
		{"DeletingAnOrdinaryNumberIsNotFound", func(ctx context.Context, f *codeFixture) error {
			return f.Codes.DeleteTestNumber(ctx, f.a.ID, phone)
		}, numauth.ENOTFOUND, numauth.ReasonTestNumber},
		{"DeletingAnotherAccountsTestNumberIsNotFound", func(ctx context.Context, f *codeFixture) error {
			if _, err := f.Codes.SetTestNumber(ctx, f.b.ID, phone, "1234"); err != nil {
				return err
			}
			return f.Codes.DeleteTestNumber(ctx, f.a.ID, phone)
		}, numauth.ENOTFOUND, numauth.ReasonTestNumber},
		{"BadPhoneIsInvalid", func(ctx context.Context, f *codeFixture) error {
			_, err := f.Codes.SetTestNumber(ctx, f.a.ID, "12", "1234")
			return err
		}, numauth.EINVALID, numauth.ReasonPhoneNumber},
		{"ShortCodeIsMalformed", func(ctx context.Context, f *codeFixture) error {
			_, err := f.Codes.SetTestNumber(ctx, f.a.ID, phone, "123")
			return err
		}, numauth.EINVALID, numauth.ReasonMalformed},
		{"UnknownAccountIsNotFound", func(ctx context.Context, f *codeFixture) error {
			_, err := f.Codes.SetTestNumber(ctx, 12345, phone, "1234")
			return err
		}, numauth.ENOTFOUND, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, tt.call(t.Context(), mustCodeFixture(t, open)), tt.wantKind, tt.wantReason)
		})
	}
}

// testConcurrentSends sends to one number from many goroutines at once, as a client retrying in a loop
// does: every send but one falls within the interval of another.
func testConcurrentSends(t *testing.T, open opener) {
	t.Run("OneNumberGetsOneMessage", func(t *testing.T) {
		const n = 100
		f := mustCodeFixture(t, open)
		var (
			wg   sync.WaitGroup
			sent [n]*numauth.SentCode
			errs [n]error
		)
		for i := range n {
			wg.Go(func() { sent[i], errs[i] = f.Codes.SendCode(t.Context(), f.request(phone)) })
		}
		wg.Wait()
		var winner *numauth.SentCode
		for i := range n {
			switch {
			case errs[i] == nil && winner == nil:
				winner = sent[i]
			case errs[i] == nil:
				t.Fatalf("sends %s and %s both went through", winner.MessageID, sent[i].MessageID)
			case numauth.ErrorReasonOf(errs[i]) != numauth.ReasonCodeInterval:
				t.Fatalf("send %d: got %v, want ETHROTTLED/%s", i, errs[i], numauth.ReasonCodeInterval)
			}
		}
		if winner == nil {
			t.Fatal("no send went through")
		}
		if ms := f.mustMessages(t, phone); len(ms) != 1 || ms[0].ID != winner.MessageID {
			t.Fatalf("outbox: got %d messages, want the one of the send that went through", len(ms))
		}
		if !f.mustCheck(t, f.check(phone, winner.Code)) {
			t.Error("CheckCode with the code sent: got false, want true")
		}
	})
	t.Run("ManyNumbersGetOneMessageEach", func(t *testing.T) {
		const numbers, each = 50, 4
		f := mustCodeFixture(t, open)
		f.mustSetLimits(t, f.a.ID, numauth.CodeLimits{Interval: time.Minute})
		var (
			wg sync.WaitGroup
			mu sync.Mutex
			ok = make(map[string]int)
		)
		for i := range numbers * each {
			wg.Go(func() {
				number := number(i % numbers)
				_, err := f.Codes.SendCode(t.Context(), f.request(number))
				if err != nil && numauth.ErrorReasonOf(err) != numauth.ReasonCodeInterval {
					t.Errorf("SendCode(%s): %v", number, err)
				}
				if err == nil {
					mu.Lock()
					ok[number]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for i := range numbers {
			if n, stored := ok[number(i)], len(f.mustMessages(t, number(i))); n != 1 || stored != 1 {
				t.Errorf("%s: %d sends went through and %d messages are stored, want 1 and 1", number(i), n, stored)
			}
		}
	})
}

// testConcurrentChecks checks one code from many goroutines at once.
func testConcurrentChecks(t *testing.T, open opener) {
	t.Run("RightCodePassesOnce", func(t *testing.T) {
		const n = 50
		f := mustCodeFixture(t, open)
		sent := f.mustSend(t, f.request(phone))
		var (
			wg   sync.WaitGroup
			oks  [n]bool
			errs [n]error
		)
		for i := range n {
			wg.Go(func() { oks[i], errs[i] = f.Codes.CheckCode(t.Context(), f.check(phone, sent.Code)) })
		}
		wg.Wait()
		passed := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("check %d: %v", i, errs[i])
			}
			if oks[i] {
				passed++
			}
		}
		if passed != 1 {
			t.Errorf("%d concurrent checks of the right code: %d passed, want 1", n, passed)
		}
	})
	t.Run("WrongCodesCancelTheCode", func(t *testing.T) {
		const n = 20
		f := mustCodeFixture(t, open)
		sent := f.mustSend(t, f.request(phone))
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				ok, err := f.Codes.CheckCode(t.Context(), f.check(phone, wrong(sent.Code)))
				if ok || err != nil && numauth.ErrorReasonOf(err) != numauth.ReasonCodeAttempts {
					t.Errorf("a wrong check: got %v, %v; want false and nil or ETHROTTLED/%s", ok, err, numauth.ReasonCodeAttempts)
				}
			})
		}
		wg.Wait()
		ok, err := f.Codes.CheckCode(t.Context(), f.check(phone, sent.Code))
		checkError(t, err, numauth.ETHROTTLED, numauth.ReasonCodeAttempts)
		if ok {
			t.Error("the right code after 20 wrong checks: got true, want false")
		}
	})
}

// outboxFixture is a code fixture whose account a has no limits, with n messages queued a millisecond
// apart from start on (to number(0), number(1), ...), oldest first.
type outboxFixture struct {
	*codeFixture
	sent []*numauth.SentCode
}

func mustOutboxFixture(t *testing.T, open opener, n int) *outboxFixture {
	t.Helper()
	f := mustCodeFixture(t, open)
	f.mustSetLimits(t, f.a.ID, numauth.CodeLimits{})
	of := &outboxFixture{codeFixture: f}
	for i := range n {
		of.sent = append(of.sent, f.mustSend(t, f.request(number(i))))
		// Ids and times within one millisecond do not say which came first.
		f.clock.Advance(time.Millisecond)
	}
	return of
}

func ids(ms []*numauth.Message) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.ID)
	}
	return s
}

func testClaimMessages(t *testing.T, open opener) {
	t.Run("ClaimLeasesDueMessagesOldestFirst", func(t *testing.T) {
		f := mustOutboxFixture(t, open, 3)
		f.clock.Advance(time.Second)
		now := f.clock.Now()
		got := f.mustClaim(t, "w1", 10, 30*time.Second)
		if len(got) != 3 {
			t.Fatalf("ClaimMessages: got %d messages, want 3", len(got))
		}
		for i, m := range got {
			s := f.sent[i]
			if m.ID != s.MessageID || m.Status != numauth.MessageSending || m.Body != "Your code is "+s.Code+"." ||
				!m.NextAttemptAt.Equal(now.Add(30*time.Second)) || m.Attempts != 0 || !m.UpdatedAt.Equal(now) {
				t.Errorf("claimed message %d: got %+v, want message %s sending, its lease running out in 30s", i, m, s.MessageID)
			}
		}
		if again := f.mustClaim(t, "w2", 10, 30*time.Second); len(again) != 0 {
			t.Errorf("a second claim while the lease holds: got %v, want none", ids(again))
		}
	})
	t.Run("ClaimTakesAtMostN", func(t *testing.T) {
		f := mustOutboxFixture(t, open, 3)
		first, second := f.mustClaim(t, "w", 2, time.Minute), f.mustClaim(t, "w", 2, time.Minute)
		want := []string{f.sent[0].MessageID, f.sent[1].MessageID}
		if !cmp.Equal(want, ids(first)) || len(second) != 1 || second[0].ID != f.sent[2].MessageID {
			t.Errorf("claims of 2: got %v then %v, want the two oldest then the third", ids(first), ids(second))
		}
	})
	t.Run("ExpiredLeaseIsClaimedAgain", func(t *testing.T) {
		f := mustOutboxFixture(t, open, 1)
		f.mustClaim(t, "w1", 1, 30*time.Second)
		f.clock.Advance(30 * time.Second)
		got := f.mustClaim(t, "w2", 1, 30*time.Second)
		if len(got) != 1 || got[0].ID != f.sent[0].MessageID {
			t.Fatalf("claim after the lease ran out: got %v, want the message", ids(got))
		}
		err := f.Outbox.Record(t.Context(), "w1", numauth.DeliveryAttempt{MessageID: got[0].ID, Outcome: numauth.DeliverySent}, time.Time{})
		checkError(t, err, numauth.ECONFLICT, numauth.ReasonLeaseLost)
		mustDo(t, f.Outbox.Record(t.Context(), "w2", numauth.DeliveryAttempt{MessageID: got[0].ID, Outcome: numauth.DeliverySent}, time.Time{}))
	})
	t.Run("ExpiredMessagesAreMarkedExpired", func(t *testing.T) {
		f := mustOutboxFixture(t, open, 2)
		f.mustClaim(t, "w", 1, time.Minute) // the first is sending, and its lease runs out with its code
		f.clock.Advance(numauth.DefaultCodeValidFor)
		if got := f.mustClaim(t, "w", 10, time.Minute); len(got) != 0 {
			t.Errorf("claim after the codes expired: got %v, want none", ids(got))
		}
		for i, s := range f.sent {
			if m := f.mustMessage(t, number(i), s.MessageID); m.Status != numauth.MessageExpired {
				t.Errorf("message %d: got status %s, want expired", i, m.Status)
			}
		}
	})
	t.Run("MessageIsDueUntilItExpires", func(t *testing.T) {
		f := mustOutboxFixture(t, open, 1)
		f.clock.Set(start.Add(numauth.DefaultCodeValidFor - time.Microsecond))
		if got := f.mustClaim(t, "w", 1, time.Minute); len(got) != 1 {
			t.Errorf("claim just before expiry: got %d messages, want 1", len(got))
		}
	})
	errorTests := []struct {
		name   string
		worker string
		n      int
		lease  time.Duration
	}{
		{"MissingWorkerIsInvalid", "", 1, time.Minute},
		{"ZeroMessagesIsInvalid", "w", 0, time.Minute},
		{"TooManyMessagesIsInvalid", "w", 1001, time.Minute},
		{"ZeroLeaseIsInvalid", "w", 1, 0},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCodeFixture(t, open)
			_, err := f.Outbox.Claim(t.Context(), tt.worker, tt.n, tt.lease)
			checkError(t, err, numauth.EINVALID, "")
		})
	}
}

func testRecordAttempt(t *testing.T, open opener) {
	retryAt := start.Add(time.Minute)
	tests := []struct {
		outcome       numauth.DeliveryOutcome
		wantStatus    numauth.MessageStatus
		wantLastError string
		wantRetry     bool // due again at retryAt
	}{
		{numauth.DeliverySent, numauth.MessageSent, "", false},
		{numauth.DeliveryDelivered, numauth.MessageDelivered, "", false},
		{numauth.DeliveryFailed, numauth.MessageFailed, "detail", false},
		{numauth.DeliveryRetry, numauth.MessageQueued, "detail", true},
	}
	for _, tt := range tests {
		t.Run("Outcome"+string(tt.outcome), func(t *testing.T) {
			f := mustOutboxFixture(t, open, 1)
			id := f.mustClaim(t, "w", 1, time.Minute)[0].ID
			at := f.clock.Now().Add(500 * time.Millisecond)
			f.clock.Advance(time.Second)
			now, wantNext := f.clock.Now(), f.clock.Now()
			if tt.wantRetry {
				wantNext = retryAt
			}
			mustDo(t, f.Outbox.Record(t.Context(), "w",
				numauth.DeliveryAttempt{MessageID: id, Number: 7, At: at, Outcome: tt.outcome, Detail: "detail"}, retryAt))
			m := f.mustMessage(t, number(0), id)
			if m.Status != tt.wantStatus || m.Attempts != 1 || m.LastError != tt.wantLastError || !m.NextAttemptAt.Equal(wantNext) ||
				!m.UpdatedAt.Equal(now) {
				t.Errorf("message: got status %s, %d attempts, last error %q, next attempt %v; want %s, 1, %q, %v",
					m.Status, m.Attempts, m.LastError, m.NextAttemptAt, tt.wantStatus, tt.wantLastError, wantNext)
			}
			attempts, err := f.Outbox.FindMessageAttempts(t.Context(), id)
			want := []*numauth.DeliveryAttempt{{MessageID: id, Number: 1, At: at, Outcome: tt.outcome, Detail: "detail"}}
			if err != nil || !cmp.Equal(want, attempts) {
				t.Errorf("FindMessageAttempts: got %+v, %v; want %+v", attempts, err, want)
			}
			// The lease went with the attempt.
			err = f.Outbox.Record(t.Context(), "w", numauth.DeliveryAttempt{MessageID: id, Outcome: tt.outcome}, retryAt)
			checkError(t, err, numauth.ECONFLICT, numauth.ReasonLeaseLost)
		})
	}
	t.Run("RetryIsDueAtRetryAt", func(t *testing.T) {
		f := mustOutboxFixture(t, open, 1)
		id := f.mustClaim(t, "w", 1, time.Minute)[0].ID
		mustDo(t, f.Outbox.Record(t.Context(), "w", numauth.DeliveryAttempt{MessageID: id, Outcome: numauth.DeliveryRetry}, retryAt))
		f.clock.Set(retryAt.Add(-time.Microsecond))
		if got := f.mustClaim(t, "w", 1, time.Minute); len(got) != 0 {
			t.Errorf("claim before retryAt: got %v, want none", ids(got))
		}
		f.clock.Set(retryAt)
		if got := f.mustClaim(t, "w", 1, time.Minute); len(got) != 1 || got[0].Attempts != 1 {
			t.Errorf("claim at retryAt: got %+v, want the message with 1 attempt", got)
		}
	})
	t.Run("RetryInThePastIsDueNow", func(t *testing.T) {
		f := mustOutboxFixture(t, open, 1)
		id := f.mustClaim(t, "w", 1, time.Minute)[0].ID
		mustDo(t, f.Outbox.Record(t.Context(), "w", numauth.DeliveryAttempt{MessageID: id, Outcome: numauth.DeliveryRetry}, time.Time{}))
		if got := f.mustClaim(t, "w", 1, time.Minute); len(got) != 1 {
			t.Errorf("claim after a retry without a time: got %d messages, want 1", len(got))
		}
	})
	t.Run("RetriesRunOut", func(t *testing.T) {
		f := mustOutboxFixture(t, open, 1)
		f.mustSetLimits(t, f.a.ID, numauth.CodeLimits{})
		id := f.sent[0].MessageID
		for i := 1; i <= numauth.MaxDeliveryAttempts; i++ {
			got := f.mustClaim(t, "w", 1, time.Minute)
			if len(got) != 1 {
				t.Fatalf("claim %d: got %d messages, want 1", i, len(got))
			}
			mustDo(t, f.Outbox.Record(t.Context(), "w",
				numauth.DeliveryAttempt{MessageID: id, Outcome: numauth.DeliveryRetry, Detail: fmt.Sprint("timeout ", i)}, time.Time{}))
		}
		m := f.mustMessage(t, number(0), id)
		if m.Status != numauth.MessageFailed || m.Attempts != numauth.MaxDeliveryAttempts || m.LastError != fmt.Sprint("timeout ", numauth.MaxDeliveryAttempts) {
			t.Errorf("message: got status %s after %d attempts (%q), want failed after %d", m.Status, m.Attempts, m.LastError, numauth.MaxDeliveryAttempts)
		}
		attempts, err := f.Outbox.FindMessageAttempts(t.Context(), id)
		if err != nil || len(attempts) != numauth.MaxDeliveryAttempts || attempts[len(attempts)-1].Number != numauth.MaxDeliveryAttempts {
			t.Errorf("FindMessageAttempts: got %d attempts, %v; want %d numbered up to it", len(attempts), err, numauth.MaxDeliveryAttempts)
		}
		if got := f.mustClaim(t, "w", 1, time.Minute); len(got) != 0 {
			t.Errorf("claim after the last attempt: got %v, want none", ids(got))
		}
	})
	t.Run("AttemptsOfAMessageWithoutAnyAreEmpty", func(t *testing.T) {
		f := mustOutboxFixture(t, open, 1)
		attempts, err := f.Outbox.FindMessageAttempts(t.Context(), f.sent[0].MessageID)
		if err != nil || len(attempts) != 0 {
			t.Errorf("FindMessageAttempts: got %v, %v; want none", attempts, err)
		}
	})
	errorTests := []struct {
		name       string
		record     func(t *testing.T, f *outboxFixture) error
		wantKind   numauth.ErrorKind
		wantReason string
	}{
		{"UnclaimedMessageConflicts", func(t *testing.T, f *outboxFixture) error {
			return f.Outbox.Record(t.Context(), "w", numauth.DeliveryAttempt{MessageID: f.sent[0].MessageID, Outcome: numauth.DeliverySent}, time.Time{})
		}, numauth.ECONFLICT, numauth.ReasonLeaseLost},
		{"OtherWorkerConflicts", func(t *testing.T, f *outboxFixture) error {
			f.mustClaim(t, "w1", 1, time.Minute)
			return f.Outbox.Record(t.Context(), "w2", numauth.DeliveryAttempt{MessageID: f.sent[0].MessageID, Outcome: numauth.DeliverySent}, time.Time{})
		}, numauth.ECONFLICT, numauth.ReasonLeaseLost},
		{"UnknownMessageIsNotFound", func(t *testing.T, f *outboxFixture) error {
			return f.Outbox.Record(t.Context(), "w", numauth.DeliveryAttempt{MessageID: "0123456789abcdef0123456789abcdef", Outcome: numauth.DeliverySent}, time.Time{})
		}, numauth.ENOTFOUND, numauth.ReasonMessage},
		{"UnknownOutcomeIsInvalid", func(t *testing.T, f *outboxFixture) error {
			return f.Outbox.Record(t.Context(), "w", numauth.DeliveryAttempt{MessageID: f.sent[0].MessageID, Outcome: "lost"}, time.Time{})
		}, numauth.EINVALID, numauth.ReasonMalformed},
		{"MissingMessageIDIsInvalid", func(t *testing.T, f *outboxFixture) error {
			return f.Outbox.Record(t.Context(), "w", numauth.DeliveryAttempt{Outcome: numauth.DeliverySent}, time.Time{})
		}, numauth.EINVALID, numauth.ReasonMissing},
		{"AttemptsOfUnknownMessageAreNotFound", func(t *testing.T, f *outboxFixture) error {
			_, err := f.Outbox.FindMessageAttempts(t.Context(), "0123456789abcdef0123456789abcdef")
			return err
		}, numauth.ENOTFOUND, numauth.ReasonMessage},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustOutboxFixture(t, open, 1)
			checkError(t, tt.record(t, f), tt.wantKind, tt.wantReason)
		})
	}
}

func testFindMessages(t *testing.T, open opener) {
	f := mustOutboxFixture(t, open, 3)
	f.clock.Advance(time.Second)
	r := f.request(number(0))
	r.AccountID = f.b.ID
	other := f.mustSend(t, r)
	tests := []struct {
		name   string
		filter func(f *outboxFixture) numauth.MessageFilter
		want   func(f *outboxFixture) []string
	}{
		{"AllNewestFirst", func(*outboxFixture) numauth.MessageFilter { return numauth.MessageFilter{AllAccounts: true} },
			func(f *outboxFixture) []string {
				return []string{other.MessageID, f.sent[2].MessageID, f.sent[1].MessageID, f.sent[0].MessageID}
			}},
		{"ByAccount", func(f *outboxFixture) numauth.MessageFilter { return numauth.MessageFilter{AccountID: f.a.ID} },
			func(f *outboxFixture) []string {
				return []string{f.sent[2].MessageID, f.sent[1].MessageID, f.sent[0].MessageID}
			}},
		{"ByPhone", func(*outboxFixture) numauth.MessageFilter {
			return numauth.MessageFilter{AllAccounts: true, Phone: number(0)}
		},
			func(f *outboxFixture) []string { return []string{other.MessageID, f.sent[0].MessageID} }},
		{"ByAccountAndPhone", func(f *outboxFixture) numauth.MessageFilter {
			return numauth.MessageFilter{AccountID: f.b.ID, Phone: number(0)}
		}, func(*outboxFixture) []string { return []string{other.MessageID} }},
		{"Limited", func(*outboxFixture) numauth.MessageFilter { return numauth.MessageFilter{AllAccounts: true, Limit: 2} },
			func(f *outboxFixture) []string { return []string{other.MessageID, f.sent[2].MessageID} }},
		{"NoMatch", func(*outboxFixture) numauth.MessageFilter {
			return numauth.MessageFilter{AllAccounts: true, Phone: "+8613800000000"}
		},
			func(*outboxFixture) []string { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.Outbox.FindMessages(t.Context(), tt.filter(f))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want(f), ids(got)); diff != "" {
				t.Errorf("FindMessages (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("NegativeLimitIsInvalid", func(t *testing.T) {
		_, err := f.Outbox.FindMessages(t.Context(), numauth.MessageFilter{AllAccounts: true, Limit: -1})
		checkError(t, err, numauth.EINVALID, "")
	})
	// A tenant path that forgot its account must not list every tenant's messages.
	t.Run("NoAccountIsRefused", func(t *testing.T) {
		ms, err := f.Outbox.FindMessages(t.Context(), numauth.MessageFilter{Phone: number(0)})
		checkError(t, err, numauth.EINTERNAL, "")
		if len(ms) != 0 {
			t.Errorf("got %d messages with the error", len(ms))
		}
	})
	t.Run("AccountWithAllAccountsIsInvalid", func(t *testing.T) {
		_, err := f.Outbox.FindMessages(t.Context(), numauth.MessageFilter{AccountID: f.a.ID, AllAccounts: true})
		checkError(t, err, numauth.EINVALID, numauth.ReasonMalformed)
	})
}

// testConcurrentClaims runs two workers claiming from one backlog until it is empty: no message may be
// claimed twice, and none left behind.
func testConcurrentClaims(t *testing.T, open opener) {
	const n = 200
	f := mustOutboxFixture(t, open, 0)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := f.Codes.SendCode(t.Context(), f.request(number(i))); err != nil {
				t.Errorf("SendCode(%s): %v", number(i), err)
			}
		})
	}
	wg.Wait()
	var (
		mu      sync.Mutex
		claimed = make(map[string]string) // message id -> worker
	)
	for _, worker := range []string{"w1", "w2"} {
		wg.Go(func() {
			for {
				ms, err := f.Outbox.Claim(context.Background(), worker, 7, time.Minute)
				if err != nil {
					t.Errorf("ClaimMessages(%s): %v", worker, err)
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					if prev, ok := claimed[m.ID]; ok {
						t.Errorf("message %s claimed by %s and %s", m.ID, prev, worker)
					}
					claimed[m.ID] = worker
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != n {
		t.Errorf("claimed %d messages, want %d", len(claimed), n)
	}
}
