package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// maxToken bounds the token a link may carry; real ones are about 200 bytes.
const maxToken = 2048

// authorize shows the consent page of the link's request, or its outcome once it is not pending.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	req, scheme, err := h.findConsent(r.Context(), token)
	if err != nil {
		return err
	}
	v := consentView(req, scheme, token)
	if st := req.StatusAt(h.now()); st != numauth.AuthorizationPending {
		v.Outcome = st
		return h.show(w, r, "outcome", v, nil)
	}
	v.CodeSent = r.URL.Query().Get("sent") == "1"
	if v.CodeSent {
		v.Wait = int(numauth.DefaultCodeLimits.Interval / time.Second)
	}
	return h.show(w, r, "consent", v, nil)
}

// sendConsentCode texts the request's phone the code that proves it, within the pages' limits and the
// account's, then shows the code form (Post/Redirect/Get, so that reloading it sends nothing).
func (h *Handler) sendConsentCode(w http.ResponseWriter, r *http.Request) error {
	if err := h.checkForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	token := r.PostForm.Get("token")
	req, scheme, err := h.findConsent(ctx, token)
	if err != nil {
		return err
	}
	v := consentView(req, scheme, token)
	if st := req.StatusAt(h.now()); st != numauth.AuthorizationPending {
		v.Outcome = st
		return h.show(w, r, "outcome", v, nil)
	}
	err = h.limitCodeRequest(ctx, r, req.PhoneNumber)
	if err == nil {
		err = h.sendCode(ctx, numauth.CodeRequest{
			AccountID: req.AccountID,
			Scope:     numauth.ConsentCodeScope(req.ID),
			Phone:     req.PhoneNumber,
		}, scheme.Company, langOf(r))
	}
	switch numauth.ErrorKindOf(err) {
	case "":
		http.Redirect(w, r, "/authorize?sent=1&token="+url.QueryEscape(token), http.StatusSeeOther)
		return nil
	case numauth.ETHROTTLED:
		// Most limits (the pages' and the account's) only bite after a code went out, so the visitor may
		// well hold a valid one.
		v.CodeSent, v.Wait = true, waitSeconds(err)
		return h.show(w, r, "consent", v, err)
	case numauth.EDENIED:
		return h.show(w, r, "consent", v, err)
	}
	return numauth.Internal(err, "send consent code")
}

// decide records the visitor's grant or decline. Both need the code, so the record only ever says what
// the phone's owner decided.
func (h *Handler) decide(w http.ResponseWriter, r *http.Request) error {
	if err := h.checkForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	token := r.PostForm.Get("token")
	req, scheme, err := h.findConsent(ctx, token)
	if err != nil {
		return err
	}
	var grant bool
	switch r.PostForm.Get("decision") {
	case "grant":
		grant = true
	case "decline":
	default:
		return numauth.Malformed("decision", "decision is neither grant nor decline")
	}
	v := consentView(req, scheme, token)
	v.CodeSent = true
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		return h.show(w, r, "consent", v, &numauth.Error{Kind: numauth.EINVALID, Reason: reasonNoCode, Internal: "no code"})
	}
	decided, err := h.cfg.Authorizations.DecideAuthorization(ctx, numauth.AuthorizationDecision{
		RequestID: req.ID,
		Grant:     grant,
		Code:      code,
		ClientIP:  clientIP(r),
		UserAgent: r.UserAgent(), // the store bounds it
	})
	switch kr := numauth.ErrorKindOf(err); {
	case err == nil:
		v.Outcome, v.Fresh = decided.Status, true
		return h.show(w, r, "outcome", v, nil)
	case kr == numauth.EINVALID && numauth.ErrorReasonOf(err) == numauth.ReasonVerifyCode:
		return h.show(w, r, "consent", v, err)
	case kr == numauth.ETHROTTLED && numauth.ErrorReasonOf(err) == numauth.ReasonCodeAttempts:
		v.CodeSent = false // the code is cancelled: only a new one helps
		return h.show(w, r, "consent", v, err)
	case kr == numauth.ECONFLICT && numauth.ErrorReasonOf(err) == numauth.ReasonAuthorizationDecided:
		// Show what was decided, as it stands now.
		if req, err = h.cfg.Authorizations.FindAuthorizationRequestByID(ctx, req.ID); err != nil {
			return err
		}
		v.Outcome = req.StatusAt(h.now())
		return h.show(w, r, "outcome", v, numauth.Errorf(numauth.ECONFLICT, numauth.ReasonAuthorizationDecided, "already decided"))
	case kr == numauth.EPRECONDITION && numauth.ErrorReasonOf(err) == numauth.ReasonAuthorizationExpired,
		kr == numauth.ENOTFOUND:
		return err
	}
	return numauth.Internal(err, "decide authorization")
}

// findConsent returns the request a link's token names, and its scheme. Errors: EINVALID/ReasonAuthorization
// for a token that is not valid, EPRECONDITION/ReasonAuthorizationExpired for one that ran out,
// ENOTFOUND/ReasonAuthorization and ENOTFOUND/ReasonScheme.
func (h *Handler) findConsent(ctx context.Context, token string) (*numauth.AuthorizationRequest, *numauth.Scheme, error) {
	if token == "" || len(token) > maxToken {
		return nil, nil, numauth.Errorf(numauth.EINVALID, numauth.ReasonAuthorization, "no token or an overlong one")
	}
	// A link's token expires with its request (GetAuthorizationUrl signs ExpiresAt), so an expired token
	// is an expired link.
	id, err := h.cfg.Tokens.Verify(token, h.now())
	if err != nil {
		return nil, nil, err
	}
	req, err := h.cfg.Authorizations.FindAuthorizationRequestByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	scheme, err := h.cfg.Schemes.FindSchemeByID(ctx, req.AccountID, req.SchemeID)
	if err != nil {
		return nil, nil, err
	}
	return req, scheme, nil
}

func consentView(req *numauth.AuthorizationRequest, scheme *numauth.Scheme, token string) *view {
	return &view{
		Token:   token,
		Company: scheme.Company,
		Purpose: scheme.Purpose,
		Phone:   numauth.MaskPhoneNumber(req.PhoneNumber),
		EndDate: req.EndDate,
	}
}
