package ossupload

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"time"

	"github.com/numauth/numauth"
)

// wireError is how one domain error looks to an OSS client.
type wireError struct {
	Status  int
	Code    string
	Message string
}

// errorTable maps kind/reason/param, kind/reason or kind (tried in that order, numauth.ErrorTable.Lookup)
// to OSS's answer. An error's public Detail, when it has one, replaces the message.
var errorTable = numauth.ErrorTable[wireError]{
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonAccessKeyNotFound}:   {http.StatusForbidden, "AccessDenied", "The OSS Access Key Id you provided does not exist in our records."},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMismatch}:   {http.StatusForbidden, "AccessDenied", "The request signature we calculated does not match the signature you provided."},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureIncomplete}: {http.StatusForbidden, "AccessDenied", "The request must carry expires and signature."},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampExpired}:    {http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Policy expired."},
	{Kind: numauth.EUNAUTHENTICATED}:                                            {http.StatusForbidden, "AccessDenied", "AccessDenied"},
	{Kind: numauth.EDENIED}:                                                     {http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Policy Condition failed."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "policy"}:  {http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: the policy document is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonRequestTooLarge}:             {http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLengthRequired}:              {http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header."},
	// OSS has no per-account storage quota; this is the code S3-compatible stores with bucket quotas use
	// (Huawei OBS).
	{Kind: numauth.EINSUFFICIENT, Reason: numauth.ReasonStorageQuota}: {http.StatusForbidden, "InsufficientStorageSpace", "The account's storage quota does not leave room for this upload."},
	{Kind: numauth.ECONFLICT, Reason: numauth.ReasonUploadExists}:     {http.StatusConflict, "FileAlreadyExists", "The object you specified already exists and can not be overwritten."},
	{Kind: numauth.ETHROTTLED}:                                        {http.StatusTooManyRequests, "QpsLimitExceeded", "Please reduce your request rate."},
	{Kind: numauth.EINVALID}:                                          {http.StatusBadRequest, "InvalidArgument", "The request is not valid."},
	{Kind: numauth.ENOTFOUND}:                                         {http.StatusNotFound, "NoSuchKey", "The specified key does not exist."},
	{Kind: numauth.EUNAVAILABLE}:                                      {http.StatusServiceUnavailable, "ServiceUnavailable", "Please reduce your request rate."},
	{Kind: numauth.EINTERNAL}:                                         {http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."},
}

func wireErrorOf(e *numauth.Error) wireError {
	w, ok := errorTable.Lookup(e)
	if !ok {
		return errorTable[numauth.ErrorKey{Kind: numauth.EINTERNAL}]
	}
	if e.Detail != "" {
		w.Message = e.Detail
	}
	return w
}

type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

// fail renders err as OSS's XML error and logs it: the cause only for server faults, which the client
// never sees.
func (u *Uploads) fail(w http.ResponseWriter, r *http.Request, requestID string, err error) {
	e := numauth.AsError(err)
	we := wireErrorOf(e)
	log := logger(r)
	if we.Status >= 500 {
		log.Error("upload request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		// The path only: a download link's query holds its signature.
		log.Info("upload request refused", "method", r.Method, "path", r.URL.Path, "code", we.Code, "err", err)
	}
	body, _ := xml.Marshal(errorBody{Code: we.Code, Message: we.Message, RequestID: requestID, HostID: r.Host})
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("X-Content-Type-Options", "nosniff")
	// A failed download must not keep the file's headers.
	h.Del("Content-Disposition")
	h.Del("Content-Length")
	// Closing the connection stops a client that is still sending a refused file.
	if r.Method == http.MethodPost {
		h.Set("Connection", "close")
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(we.Status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}
