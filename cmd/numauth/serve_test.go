package main

import (
	"testing"

	"github.com/spf13/pflag"
)

func TestHealthAndReadiness(t *testing.T) {
	s := mustRunMain(t, "")
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body := httpGet(t, "http://"+s.Addr()+path); status != 200 {
			t.Errorf("%s: got %d %q", path, status, body)
		}
	}
}

// TestEnvironment: every flag can come from NUMAUTH_<FLAG>; the command line wins.
func TestEnvironment(t *testing.T) {
	var c ServeConfig
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.Store.addFlags(fs)
	fs.StringVar(&c.PublicURL, "public-url", "", "")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "")
	t.Setenv("NUMAUTH_PUBLIC_URL", "https://auth.example.com")
	t.Setenv("NUMAUTH_DB", "postgres://db/numauth")
	t.Setenv("NUMAUTH_LISTEN", "0.0.0.0:9999")
	if err := fs.Parse([]string{"--listen", "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(fs); err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://auth.example.com" || c.Store.DB != "postgres://db/numauth" {
		t.Errorf("from the environment: public URL %q, db %q", c.PublicURL, c.Store.DB)
	}
	if c.Listen != "127.0.0.1:1" {
		t.Errorf("listen %q: the command line should win over NUMAUTH_LISTEN", c.Listen)
	}
}
