package ossupload

import (
	"encoding/base64"
	"testing"
)

// FuzzParsePolicy feeds policy documents to the parser: it must not panic, and whatever it accepts must
// constrain the key and carry a sane size range.
func FuzzParsePolicy(f *testing.F) {
	for _, doc := range []string{
		`{"expiration":"2026-03-01T13:00:00Z","conditions":[["starts-with","$key","42/licence/"],["content-length-range",0,5242880]]}`,
		`{"expiration":"2026-03-01T13:00:00.000Z","conditions":[{"key":"42/x.png"}]}`,
		`{"expiration":"2026-03-01T13:00:00Z","conditions":[["eq","$key","a"],["content-length-range",5,1]]}`,
		`{"expiration":"x","conditions":[]}`,
		`{"conditions":[["starts-with","$key"]]}`,
	} {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := parsePolicy(base64.StdEncoding.EncodeToString([]byte(doc)))
		if err != nil {
			return
		}
		if p.keyRule != "eq" && p.keyRule != "starts-with" {
			t.Errorf("accepted %s with key rule %q", doc, p.keyRule)
		}
		if p.minSize < 0 || (p.maxSize >= 0 && p.maxSize < p.minSize) {
			t.Errorf("accepted %s with range %d..%d", doc, p.minSize, p.maxSize)
		}
		if p.keyRule == "eq" && !p.allowsKey(p.keyValue) || p.keyRule == "starts-with" && !p.allowsKey(p.keyValue+"x") {
			t.Errorf("policy from %s refuses the key it names", doc)
		}
		if v := p.keyValue; p.keyRule == "starts-with" && v != "" && p.allowsKey(v[:len(v)-1]) {
			t.Errorf("policy from %s allows a key outside its prefix", doc)
		}
	})
}
