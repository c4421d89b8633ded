package alibaba

import (
	"net/http"

	"github.com/numauth/numauth"
)

// wireError is how one domain error looks on the wire.
type wireError struct {
	Status  int
	Code    string
	Message string
}

// errorTable maps kind/reason/param, kind/reason or, as a fallback, kind to its wire form, the most
// specific first (numauth.ErrorTable.Lookup): some APIs spell one rule per parameter (CompanyNameNullError,
// AdminNameNullError). Each product has one; the gateway has one for what Alibaba's POP gateway answers
// before a product sees the request. TestErrorTables checks every table's keys.
type errorTable = numauth.ErrorTable[wireError]

const (
	signatureMismatchMessage  = "Specified signature is not matched with our calculation. server string to sign is:"
	incompleteSignatureMessge = "The request signature does not conform to Aliyun standards. server string to sign is:"
)

// gatewayErrors are the POP gateway's codes (spec 1.7): identity, signature, routing and envelope errors
// that no product table overrides. Missing and malformed system parameters are spelled per parameter
// (MissingSignatureNonce, InvalidSignatureVersion) by gatewayError.
var gatewayErrors = errorTable{
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonAccessKeyNotFound}:   {http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found."},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonAccessKeyDisabled}:   {http.StatusBadRequest, "InvalidAccessKeyId.Inactive", "Specified access key is disabled."},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMismatch}:   {http.StatusBadRequest, "SignatureDoesNotMatch", signatureMismatchMessage},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureIncomplete}: {http.StatusBadRequest, "IncompleteSignature", incompleteSignatureMessge},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonContentSHA256}:       {http.StatusBadRequest, "IncompleteSignature", incompleteSignatureMessge},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMethod}:     {http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method is not valid."},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampExpired}:    {http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampFormat}:     {http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonNonceUsed}:           {http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already."},
	{Kind: numauth.EUNAUTHENTICATED}:                                            {http.StatusBadRequest, "IncompleteSignature", incompleteSignatureMessge},
	{Kind: numauth.EROUTE, Reason: numauth.ReasonUnknownAction}:                 {http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."},
	{Kind: numauth.EROUTE, Reason: numauth.ReasonUnknownVersion}:                {http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid."},
	{Kind: numauth.EROUTE, Reason: numauth.ReasonUnknownProduct}:                {http.StatusNotFound, "InvalidProduct.NotFound", "Cannot find product according to your specified domain."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFormat}:                      {http.StatusBadRequest, "InvalidParameter.Format", "Specified parameter format is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonHTTPMethod}:                  {http.StatusBadRequest, "UnsupportedHTTPMethod", "Specified HTTP method is not supported."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonRequestTooLarge}:             {http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is too large."},
	{Kind: numauth.EINVALID}:     {http.StatusBadRequest, "InvalidParameter", "Specified parameter is not valid."},
	{Kind: numauth.ETHROTTLED}:   {http.StatusBadRequest, "Throttling.User", "Request was denied due to user flow control."},
	{Kind: numauth.EUNAVAILABLE}: {http.StatusServiceUnavailable, "ServiceUnavailable", "The server is temporarily unavailable."},
	{Kind: numauth.EINTERNAL}:    {http.StatusInternalServerError, "InternalError", "The request processing has failed due to some unknown error, exception or failure."},
}

// gatewayError renders an error raised before any product handled the request.
func gatewayError(e *numauth.Error) wireError {
	switch {
	case e.Kind == numauth.EINVALID && e.Reason == numauth.ReasonMissing && e.Param != "":
		return wireError{http.StatusBadRequest, "Missing" + e.Param, e.Param + " is mandatory for this action."}
	case e.Kind == numauth.EINVALID && e.Reason == numauth.ReasonMalformed && e.Param != "",
		e.Kind == numauth.EUNAUTHENTICATED && e.Reason == numauth.ReasonSignatureMethod && e.Param == "SignatureVersion":
		return wireError{http.StatusBadRequest, "Invalid" + e.Param, "Specified parameter " + e.Param + " is not valid."}
	}
	w, ok := gatewayErrors.Lookup(e)
	if !ok {
		return gatewayErrors[numauth.ErrorKey{Kind: numauth.EINTERNAL}]
	}
	if w.Code == "SignatureDoesNotMatch" || w.Code == "IncompleteSignature" {
		w.Message += e.Detail
	}
	return w
}

// productError renders an error raised once the request reached a product: the product's own table
// first, the gateway's for the rest.
func productError(p *product, e *numauth.Error) wireError {
	if w, ok := p.errors.Lookup(e); ok {
		return w
	}
	return gatewayError(e)
}

// actionError renders an error of one action: the action's table, where it has one (some actions answer
// business failures differently from the rest of their product), then the product's.
func actionError(a *action, e *numauth.Error) wireError {
	if w, ok := a.errors.Lookup(e); ok {
		return w
	}
	return productError(a.product, e)
}
