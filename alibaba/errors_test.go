package alibaba

import (
	"errors"
	"testing"

	"github.com/numauth/numauth"
)

// TestDypnsapiErrorTable checks every row of the seed's error table, including those no request can
// provoke on a healthy server (InternalError, SystemError) or that a later issue reaches
// (IdentityCertifyNotExist).
func TestDypnsapiErrorTable(t *testing.T) {
	p := (&Server{}).dypnsapi()
	rows := []struct {
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{numauth.Malformed("SchemeId", "x"), 400, "InvalidParameters", "The specified parameter is not valid."},
		{numauth.Missing("PhoneNo"), 400, "MissingParameter", "You must specify the parameter."},
		{&numauth.Error{Kind: numauth.ETHROTTLED}, 400, "Throttling.System", "The request was denied due to API flow control."},
		{&numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonPhoneNumber}, 400, "MobileNumberIllgeal", "The specified mobile phone number is invalid."},
		{&numauth.Error{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonScheme}, 400, "DataNotFound", "The specified scheme does not exist."},
		{&numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonEndDate}, 400, "IllegalParameter", "The specified endDate is invalid."},
		{&numauth.Error{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonSchemeNotApproved}, 400, "SchemeNotPassed", "The scheme is not passed."},
		{&numauth.Error{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonAuthorization}, 500, "IdentityCertifyNotExist", "The identity verification record does not exist."},
		{errors.New("disk on fire"), 500, "InternalError", "An error occurred while processing your request."},
		{&numauth.Error{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonRateLimiterFull}, 500, "SystemError", "A system error occurred."},
		{&numauth.Error{Kind: numauth.ESUSPENDED}, 500, "OutOfService", "The account is suspended."},
		{&numauth.Error{Kind: numauth.EUNSUBSCRIBED}, 500, "FunctionNotSubscribed", "You have not subscribed to the function."},
		{&numauth.Error{Kind: numauth.EDENIED, Reason: numauth.ReasonImplicitDeny}, 403, "Forbidden", "The user is not authorized to operate on the specified resource."},
		{&numauth.Error{Kind: numauth.EDENIED, Reason: numauth.ReasonExplicitDeny}, 403, "UnauthorizedOperation", "Failed to verify your access permissions."},
		// Gateway errors reach a product's caller unchanged.
		{&numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonNonceUsed}, 400, "SignatureNonceUsed", "Specified signature nonce was used already."},
	}
	for _, row := range rows {
		t.Run(row.wantCode, func(t *testing.T) {
			got := productError(p, numauth.AsError(row.err))
			if got.Status != row.wantStatus || got.Code != row.wantCode || got.Message != row.wantMsg {
				t.Errorf("got %d %s %q, want %d %s %q", got.Status, got.Code, got.Message, row.wantStatus, row.wantCode, row.wantMsg)
			}
		})
	}
}

func TestGatewayErrorTable(t *testing.T) {
	rows := []struct {
		err        *numauth.Error
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{numauth.Missing("SignatureNonce"), 400, "MissingSignatureNonce", "SignatureNonce is mandatory for this action."},
		{numauth.Malformed("Timestamp", "x"), 400, "InvalidTimestamp", "Specified parameter Timestamp is not valid."},
		{&numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMismatch, Detail: "POST&%2F&A"}, 400, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:POST&%2F&A"},
		{&numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonAccessKeyNotFound}, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."},
		{&numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMethod, Param: "SignatureVersion"}, 400, "InvalidSignatureVersion", "Specified parameter SignatureVersion is not valid."},
		{&numauth.Error{Kind: numauth.EROUTE, Reason: numauth.ReasonUnknownAction}, 404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."},
		{&numauth.Error{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonNonceCacheFull}, 503, "ServiceUnavailable", "The server is temporarily unavailable."},
		{&numauth.Error{Kind: "no such kind"}, 500, "InternalError", "The request processing has failed due to some unknown error, exception or failure."},
	}
	for _, row := range rows {
		t.Run(row.wantCode, func(t *testing.T) {
			got := gatewayError(row.err)
			if got.Status != row.wantStatus || got.Code != row.wantCode || got.Message != row.wantMsg {
				t.Errorf("got %d %s %q, want %d %s %q", got.Status, got.Code, got.Message, row.wantStatus, row.wantCode, row.wantMsg)
			}
		})
	}
}
