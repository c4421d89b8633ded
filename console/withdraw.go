package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/numauth/numauth"
)

// withdrawal shows the signed-in owner's grants, or the phone form.
func (h *Handler) withdrawal(w http.ResponseWriter, r *http.Request) error {
	phone, ok := h.session(r, h.now())
	if !ok {
		v := &view{}
		if r.URL.Query().Get("signedout") == "1" {
			v.Notice = langOf(r).T("signed_out")
		}
		return h.show(w, r, "withdraw", v, nil)
	}
	return h.showGrants(w, r, phone, r.URL.Query().Get("revoked") == "1", nil)
}

// showGrants renders the list of phone's grants in force, with a notice of a revocation or of err.
func (h *Handler) showGrants(w http.ResponseWriter, r *http.Request, phone string, revoked bool, err error) error {
	grants, gerr := h.grants(r.Context(), phone)
	if gerr != nil {
		return gerr
	}
	v := &view{Phone: numauth.MaskPhoneNumber(phone), Grants: grants}
	if revoked {
		v.Notice = langOf(r).T("revoked")
	}
	return h.show(w, r, "grants", v, err)
}

// grants lists phone's grants in force with their schemes' company and purpose, newest first.
func (h *Handler) grants(ctx context.Context, phone string) ([]grant, error) {
	reqs, err := h.grantsInForce(ctx, phone)
	if err != nil {
		return nil, err
	}
	type schemeKey struct{ account, scheme int64 }
	schemes := make(map[schemeKey]*numauth.Scheme)
	var out []grant
	for _, req := range reqs {
		k := schemeKey{req.AccountID, req.SchemeID}
		sc, ok := schemes[k]
		if !ok {
			if sc, err = h.cfg.Schemes.FindSchemeByID(ctx, req.AccountID, req.SchemeID); err != nil {
				return nil, err
			}
			schemes[k] = sc
		}
		out = append(out, grant{
			ID:        req.ID,
			Company:   sc.Company,
			Purpose:   sc.Purpose,
			GrantedOn: numauth.ChinaDate(req.UpdatedAt),
			EndDate:   req.EndDate,
		})
	}
	return out, nil
}

// grantsInForce returns phone's requests that StatusAt says are granted: the store's status may still say
// granted of one whose end date is over.
func (h *Handler) grantsInForce(ctx context.Context, phone string) ([]*numauth.AuthorizationRequest, error) {
	// Every account's: the phone owner, signed in by a code to this number, sees what any business holds.
	reqs, err := h.cfg.Authorizations.FindAuthorizations(ctx, numauth.AuthorizationFilter{
		AllAccounts: true, Phone: phone, Status: numauth.AuthorizationGranted, Limit: 1000,
	})
	if err != nil {
		return nil, err
	}
	now := h.now()
	inForce := reqs[:0]
	for _, req := range reqs {
		if req.StatusAt(now) == numauth.AuthorizationGranted {
			inForce = append(inForce, req)
		}
	}
	return inForce, nil
}

// sendWithdrawalCode queues a withdrawal code for the number and shows the code form. Whether the
// number has grants in force is decided later, by Run's senders, which text only a number that has: the
// request does the same work for every number, so neither the page nor the time it takes tells who
// authorized what, and the page texts no arbitrary numbers.
func (h *Handler) sendWithdrawalCode(w http.ResponseWriter, r *http.Request) error {
	if err := h.checkForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	raw := strings.TrimSpace(r.PostForm.Get("phone"))
	phone, err := numauth.NormalizePhoneNumber(raw)
	if err != nil {
		return h.show(w, r, "withdraw", &view{FullPhone: raw}, err)
	}
	switch err := h.limitCodeRequest(ctx, r, phone); numauth.ErrorKindOf(err) {
	case "":
	case numauth.ETHROTTLED:
		// The page limits count every number alike, so saying so tells nothing.
		return h.show(w, r, "withdraw", &view{FullPhone: phone}, err)
	default:
		return err
	}
	h.expectWithdrawalCode()
	v := &view{Phone: phone, FullPhone: phone, CodeSent: true}
	h.show(w, r, "withdraw", v, nil)
	// The visitor has the whole answer (its length is set) before the send begins, so that the send's
	// work does not slow the answer down either.
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	h.queueWithdrawalCode(withdrawalSend{phone: phone, lang: langOf(r), log: h.logger(ctx)})
	return nil
}

// verifyWithdrawal checks the withdrawal code and signs the visitor in as the number's owner.
func (h *Handler) verifyWithdrawal(w http.ResponseWriter, r *http.Request) error {
	if err := h.checkForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	phone, err := numauth.NormalizePhoneNumber(r.PostForm.Get("phone"))
	if err != nil {
		return h.show(w, r, "withdraw", &view{}, err)
	}
	v := &view{Phone: phone, FullPhone: phone, CodeSent: true}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		return h.show(w, r, "withdraw", v, &numauth.Error{Kind: numauth.EINVALID, Reason: reasonNoCode, Internal: "no code"})
	}
	ok, err := h.cfg.Codes.CheckCode(ctx, numauth.CodeCheck{
		AccountID: numauth.SystemAccountID,
		Scope:     numauth.WithdrawalCodeScope,
		Phone:     phone,
		Code:      code,
	})
	switch {
	case numauth.ErrorKindOf(err) == numauth.ETHROTTLED && numauth.ErrorReasonOf(err) == numauth.ReasonCodeAttempts:
		return h.show(w, r, "withdraw", &view{FullPhone: phone}, err)
	case err != nil:
		return numauth.Internal(err, "check withdrawal code")
	case !ok:
		return h.show(w, r, "withdraw", v, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonVerifyCode, Internal: "wrong code"})
	}
	h.startSession(w, phone, h.now())
	http.Redirect(w, r, "/withdraw", http.StatusSeeOther)
	return nil
}

// revoke withdraws one of the signed-in owner's grants.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) error {
	if err := h.checkForm(r); err != nil {
		return err
	}
	now := h.now()
	phone, ok := h.session(r, now)
	if !ok {
		return h.show(w, r, "withdraw", &view{}, &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: reasonSession, Internal: "no session"})
	}
	id := r.PostForm.Get("biz_id")
	if id == "" || len(id) > 64 {
		return numauth.Malformed("biz_id", "no or an overlong biz_id")
	}
	_, err := h.cfg.Authorizations.RevokeAuthorization(r.Context(), id, phone, numauth.AuthorizationChange{
		Status:    numauth.AuthorizationRevoked,
		At:        now,
		ClientIP:  clientIP(r),
		UserAgent: r.UserAgent(), // the store bounds it
	})
	switch numauth.ErrorKindOf(err) {
	case "":
		http.Redirect(w, r, "/withdraw?revoked=1", http.StatusSeeOther)
		return nil
	case numauth.ENOTFOUND, numauth.EPRECONDITION:
		// Gone since the list was shown (it ended, or another tab withdrew it): say so over the fresh list.
		return h.showGrants(w, r, phone, false, numauth.Errorf(numauth.EPRECONDITION, numauth.ReasonAuthorizationDecided, "not granted: %v", err))
	}
	return numauth.Internal(err, "revoke authorization")
}

// signOut ends the withdrawal session.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) error {
	if err := h.checkForm(r); err != nil {
		return err
	}
	h.endSession(w)
	http.Redirect(w, r, "/withdraw?signedout=1", http.StatusSeeOther)
	return nil
}
