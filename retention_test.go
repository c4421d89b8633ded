package numauth_test

import (
	"testing"
	"time"

	"github.com/numauth/numauth"
)

func TestParseRetention(t *testing.T) {
	def := numauth.DefaultRetention()
	t.Run("EmptyIsTheDefault", func(t *testing.T) {
		p, err := numauth.ParseRetention("")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.String(), def.String(); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("PeriodsReplaceTheirDefaults", func(t *testing.T) {
		p, err := numauth.ParseRetention("messages=2160h, verifications=9600h,carrier-tokens=30m")
		if err != nil {
			t.Fatal(err)
		}
		want := map[numauth.RetentionKind]time.Duration{
			numauth.RetainMessages: 2160 * time.Hour, numauth.RetainVerifications: 9600 * time.Hour,
			numauth.RetainCarrierTokens: 30 * time.Minute, numauth.RetainGrants: def[numauth.RetainGrants],
		}
		for k, d := range want {
			if p[k] != d {
				t.Errorf("%s: got %s, want %s", k, p[k], d)
			}
		}
	})
	for _, s := range []string{"mesages=1h", "messages", "messages=", "messages=90d", "messages=-1h", "messages=0s",
		"messages=1h,messages=2h", "ledger=1h"} {
		t.Run("Refuses/"+s, func(t *testing.T) {
			if _, err := numauth.ParseRetention(s); numauth.ErrorKindOf(err) != numauth.EINVALID {
				t.Errorf("ParseRetention(%q): got %v, want EINVALID", s, err)
			}
		})
	}
}

func TestRetentionDefaults(t *testing.T) {
	const day = 24 * time.Hour
	want := map[numauth.RetentionKind]time.Duration{
		numauth.RetainMessages: 90 * day, numauth.RetainCarrierTokens: day, numauth.RetainCodes: day,
		numauth.RetainCallbacks: 7 * day, numauth.RetainVerifications: 400 * day,
		numauth.RetainAuthorizations: 90 * day, numauth.RetainGrants: 1096 * day,
	}
	def := numauth.DefaultRetention()
	if len(def) != len(numauth.RetentionKinds) || len(want) != len(def) {
		t.Fatalf("default policy has %d kinds, RetentionKinds %d, want %d", len(def), len(numauth.RetentionKinds), len(want))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for k, d := range want {
		if got := def.Cutoff(k, now); !got.Equal(now.Add(-d)) {
			t.Errorf("Cutoff(%s): got %s, want %s", k, got, now.Add(-d))
		}
	}
}

func TestBatchPause(t *testing.T) {
	o := numauth.PruneOptions{Pause: 20 * time.Millisecond}
	if got := o.BatchPause(time.Millisecond); got != 20*time.Millisecond {
		t.Errorf("short batch: got %s, want the least pause", got)
	}
	if got := o.BatchPause(10 * time.Millisecond); got != 90*time.Millisecond {
		t.Errorf("long batch: got %s, want nine times its time", got)
	}
}
