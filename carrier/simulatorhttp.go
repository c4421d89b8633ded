package carrier

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// maxIssueBytes bounds a token request: a phone number and two short fields.
const maxIssueBytes = 4 << 10

// Handler serves the carrier SDK's side of the simulator, for test pages and front-end developers:
//
//	GET  /simulator/carrier        a page where a tester types a number, picks a carrier and gets a token
//	POST /simulator/carrier/token  issue a token: form or JSON fields phone, type (1|2|3), fail
//	                               (""|timeout|error); 200 {"token","type","expires_at"} or 400 {"error"}
//
// Anyone who reaches it can make a token for any number, and so pass verification of any number: mount it
// only when the simulator is the configured gateway (mux.Handle("/simulator/", sim.Handler())).
func (s *Simulator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /simulator/carrier", handle(s.page))
	mux.Handle("POST /simulator/carrier/token", handle(s.issueToken))
	return mux
}

// issueResponse is the JSON answer of POST /simulator/carrier/token.
type issueResponse struct {
	Token     string `json:"token"`
	Type      int    `json:"type"`
	ExpiresAt string `json:"expires_at"` // RFC 3339, UTC
}

func (s *Simulator) issueToken(w http.ResponseWriter, r *http.Request) error {
	phone, typ, fail, err := readIssueRequest(r)
	if err != nil {
		return err
	}
	if phone == "" {
		return numauth.Missing("phone")
	}
	carrier, ok := numauth.ParseCarrier(typ)
	if !ok {
		return numauth.Malformed("type", "carrier type %q: want 1, 2 or 3", typ)
	}
	switch fail {
	case "", numauth.CarrierFailTimeout, numauth.CarrierFailError:
	default:
		return numauth.Malformed("fail", "failure %q: want timeout or error", fail)
	}
	t, err := s.Issue(r.Context(), carrier, phone, fail)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, issueResponse{Token: t.Token, Type: int(t.Carrier),
		ExpiresAt: t.ExpiresAt.UTC().Format(time.RFC3339)})
}

// readIssueRequest reads phone, type and fail from a JSON body (Content-Type application/json) or a form.
func readIssueRequest(r *http.Request) (phone, typ, fail string, err error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/json" {
		if err := r.ParseForm(); err != nil {
			return "", "", "", badBody(err)
		}
		return strings.TrimSpace(r.Form.Get("phone")), strings.TrimSpace(r.Form.Get("type")), r.Form.Get("fail"), nil
	}
	var body struct {
		Phone string `json:"phone"`
		Type  any    `json:"type"` // 1 or "1"
		Fail  string `json:"fail"`
	}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return "", "", "", badBody(err)
	}
	switch v := body.Type.(type) {
	case json.Number:
		typ = v.String()
	case string:
		typ = strings.TrimSpace(v)
	case nil:
	default:
		return "", "", "", numauth.Malformed("type", "carrier type of JSON type %T", v)
	}
	return strings.TrimSpace(body.Phone), typ, body.Fail, nil
}

func badBody(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonRequestTooLarge, Err: err}
	}
	return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "body", Err: err}
}

// publicError is the simulator endpoint's error table: the status and message a client sees for err.
func publicError(err error) (status int, message string) {
	e := numauth.AsError(err)
	if e.Kind != numauth.EINVALID {
		return http.StatusInternalServerError, "internal error"
	}
	switch e.Reason {
	case numauth.ReasonMissing:
		return http.StatusBadRequest, e.Param + " is required"
	case numauth.ReasonMalformed:
		return http.StatusBadRequest, strings.ToLower(e.Param) + " is malformed"
	case numauth.ReasonPhoneNumber:
		return http.StatusBadRequest, "phone is not a valid mobile number"
	case numauth.ReasonRequestTooLarge:
		return http.StatusRequestEntityTooLarge, "request too large"
	}
	return http.StatusBadRequest, "invalid request"
}

// handle adapts a handler that returns an error: it bounds the body, recovers panics, and renders errors
// through publicError, logging the ones that are numauth's fault. Only the path is logged, never a number
// or a token.
func handle(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		r.Body = http.MaxBytesReader(w, r.Body, maxIssueBytes)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				fail(w, r, numauth.Internal(fmt.Errorf("panic: %v\n%s", v, debug.Stack()), "simulator handler panicked"))
			}
		}()
		if err := fn(w, r); err != nil {
			fail(w, r, err)
		}
	})
}

func fail(w http.ResponseWriter, r *http.Request, err error) {
	status, message := publicError(err)
	log := numauth.Logger(r.Context())
	if status >= 500 {
		log.Error("carrier simulator failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		log.Debug("carrier simulator refused", "method", r.Method, "path", r.URL.Path,
			"reason", numauth.ErrorReasonOf(err), "param", numauth.AsError(err).Param)
	}
	writeJSON(w, status, map[string]string{"error": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return numauth.Internal(err, "encode simulator answer")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return nil
}

// pageCarrier is one choice of the page's carrier list.
type pageCarrier struct {
	Type     int
	Name     string
	Lifetime time.Duration
}

func (s *Simulator) page(w http.ResponseWriter, r *http.Request) error {
	names := map[numauth.Carrier]string{numauth.CarrierMobile: "China Mobile", numauth.CarrierUnicom: "China Unicom",
		numauth.CarrierTelecom: "China Telecom"}
	var carriers []pageCarrier
	for _, c := range numauth.Carriers {
		carriers = append(carriers, pageCarrier{Type: int(c), Name: names[c], Lifetime: c.TokenLifetime()})
	}
	var b strings.Builder
	if err := simulatorPage.Execute(&b, carriers); err != nil {
		return numauth.Internal(err, "render simulator page")
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page needs nothing from elsewhere; the policy makes sure it gets nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.Write([]byte(b.String()))
	return nil
}

// simulatorPage posts a plain form to the token endpoint; the browser shows the JSON answer.
var simulatorPage = template.Must(template.New("simulator").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>numauth carrier simulator</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input, select, button { font: inherit; padding: .4rem; width: 100%; box-sizing: border-box; }
button { margin-top: 1.5rem; cursor: pointer; }
code { background: #f2f2f2; padding: 0 .2rem; }
</style>
</head>
<body>
<h1>Carrier simulator</h1>
<p>Get the token a carrier's one-click-login SDK would give an app on the phone with this number, then pass
it to <code>vfmobile/verify</code>, <code>ocl/getMobile</code>, <code>VerifyMobile</code> or
<code>GetMobile</code>. A token can be exchanged once, before it expires.</p>
<form id="issue" method="post" action="/simulator/carrier/token">
<label for="phone">Phone number</label>
<input id="phone" name="phone" type="tel" required placeholder="13800138000" autocomplete="off">
<label for="type">Carrier</label>
<select id="type" name="type">
{{- range .}}
<option value="{{.Type}}">{{.Type}}: {{.Name}} (token lives {{.Lifetime}})</option>
{{- end}}
</select>
<label for="fail">Carrier answer</label>
<select id="fail" name="fail">
<option value="">the number</option>
<option value="timeout">no answer (timeout)</option>
<option value="error">an error code</option>
</select>
<button id="get-token" type="submit">Get token</button>
</form>
<p>Scripts can post the same fields, as a form or JSON, to <code>POST /simulator/carrier/token</code>:
the answer is <code>{"token": "...", "type": 1, "expires_at": "..."}</code>.</p>
</body>
</html>
`))
