package submail

import (
	"net/http"
	"strconv"

	"github.com/numauth/numauth"
)

// Reasons of the refusals only these APIs make; the other reasons are numauth's.
const (
	reasonAppKey  numauth.Reason = "appkey"   // EUNAUTHENTICATED: a 32-character signature that is not the appkey (plain-key mode, wrong key)
	reasonAccount numauth.Reason = "account"  // ESUSPENDED: the app's account is suspended
	reasonIPAllow numauth.Reason = "ip_allow" // EDENIED: the caller's address is not on the app's allow-list
	reasonCarrier numauth.Reason = "carrier"  // EDENIED: the carrier is not enabled for the app
)

// wireError is how one domain error looks on the wire.
type wireError struct {
	Status int // HTTP status; 200 when 0
	Code   int
	Msg    string
	// Detail, when set, appends to Msg the error's public Detail (the carrier's code and text), or this
	// text when the error has none.
	Detail string
	// Explain appends ": " and what the error names: the parameter (a missing one), or else its public
	// Detail (why the body could not be read), when it has either.
	Explain bool
}

func (w wireError) message(e *numauth.Error) string {
	switch {
	case w.Explain && e.Param != "":
		return w.Msg + ": " + e.Param
	case w.Explain && e.Detail != "":
		return w.Msg + ": " + e.Detail
	case w.Explain, w.Detail == "":
		return w.Msg
	case e.Detail != "":
		return w.Msg + e.Detail
	}
	return w.Msg + w.Detail
}

// errorTable maps kind/reason/param, kind/reason or kind, most specific first (numauth.ErrorTable.Lookup),
// to the wire form. Every table has an entry for kind internal, which answers whatever matches nothing
// else. TestErrorTables checks every table's keys.
type errorTable = numauth.ErrorTable[wireError]

// wireErrorOf returns e's wire form in t, t's internal entry when nothing matches.
func wireErrorOf(t errorTable, e *numauth.Error) wireError {
	if w, ok := t.Lookup(e); ok {
		return w
	}
	return t[numauth.ErrorKey{Kind: numauth.EINTERNAL}]
}

const (
	missingVerifyParameters = "Appid Missing required parameters"
	apiGatewayError         = "API Gateway Error:"
	operatorError           = "Operator error"
)

// verifyErrors is vfmobile/verify's table: the seed's 13xx codes and -1 for the carrier's refusals.
//
// 1320 answers, besides a missing signature, timestamp, os or type, a body too large or unreadable and
// a method other than POST: no parameter could be read. Its seed message blames the appid ("Appid Missing
// required parameters"), which misled a newcomer who had sent one, so numauth appends what is missing or
// wrong: "Appid Missing required parameters: os", "...: body is not valid JSON". 1319 "Deduction Failed" answers every failure of
// numauth's own (the store failing to record or charge a verification, or to read the app), the table
// having no other code that puts the fault on the server.
var verifyErrors = errorTable{
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "appid"}:           {Code: 1301, Msg: "Null appid"},
	{Kind: numauth.EUNAUTHENTICATED, Reason: reasonAppKey}:                            {Code: 1302, Msg: "Invalid appkey"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "type"}:          {Code: 1303, Msg: "Unknown mobile type"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "os"}:            {Code: 1304, Msg: "Unknown platform"},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampFormat}:           {Code: 1305, Msg: "Invalid timestamp"},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampExpired}:          {Code: 1305, Msg: "Invalid timestamp"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "appid"}:         {Code: 1306, Msg: "Invalid appid"},
	{Kind: numauth.EDENIED, Reason: reasonCarrier}:                                    {Code: 1307, Msg: "Appid unauthorized"},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMismatch}:         {Code: 1308, Msg: "Invalid signature"},
	{Kind: numauth.ESUSPENDED, Reason: numauth.ReasonSubmailApp}:                      {Code: 1309, Msg: "Appid is disabled"},
	{Kind: numauth.ESUSPENDED, Reason: reasonAccount}:                                 {Code: 1310, Msg: "Account is disabled"},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonSubmailApp}:                       {Code: 1311, Msg: "Appid does not exist"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "token"}:           {Code: 1312, Msg: "Null token"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "mobile_number"}:   {Code: 1313, Msg: "Null phoneNum"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonPhoneNumber}:                       {Code: 1313, Msg: "Null phoneNum"},
	{Kind: numauth.EINSUFFICIENT}:                                                     {Code: 1314, Msg: "Insufficient balance"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "userInformation"}: {Code: 1315, Msg: "Null userInformation"},
	{Kind: numauth.EDENIED, Reason: reasonIPAllow}:                                    {Code: 1316, Msg: "APPID has been set IP whitelist,your IP is not in the scope of this white list"},
	{Kind: numauth.EUNSUBSCRIBED}:                                                     {Code: 1317, Msg: "Account has no access"},
	{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierTimeout}:                {Code: 1318, Msg: "TIME OUT"},
	{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierError}:                  {Code: -1, Msg: apiGatewayError, Detail: "carrier error"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonToken}:                             {Code: -1, Msg: apiGatewayError, Detail: "token invalid"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonHTTPMethod}:                        {Status: http.StatusMethodNotAllowed, Code: 1320, Msg: missingVerifyParameters, Explain: true},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing}:                           {Code: 1320, Msg: missingVerifyParameters, Explain: true},
	{Kind: numauth.EINVALID}:                                                          {Code: 1320, Msg: missingVerifyParameters, Explain: true},
	{Kind: numauth.EINTERNAL}:                                                         {Code: 1319, Msg: "Deduction Failed"},
}

// oclErrors is ocl/getMobile's and ocl/getMobile_v2's table: the documented 11xx codes.
//
// The 11xx table has no code for a missing parameter, so a missing value gets the code of a bad one
// (no os: 1104 Unknown platform), a missing auth gets 1112 like a missing token (it is the second half
// of China Telecom's token), and an unreadable body, too large or cut off, or a method other than POST
// gets 1101, as a request without any parameter would. It has no code for the IP allow-list or the
// subscription either: both get 1107 "Appid unauthorized", as a carrier not enabled for the app does.
// A failure of numauth's own gets 1113 "Operator error" without a detail, the code that says the
// request was sound but no number came of it.
var oclErrors = errorTable{
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "appid"}:     {Code: 1101, Msg: "Null appid"},
	{Kind: numauth.EUNAUTHENTICATED, Reason: reasonAppKey}:                      {Code: 1102, Msg: "Invalid appkey"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "type"}:      {Code: 1103, Msg: "Unknown mobile type"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "type"}:    {Code: 1103, Msg: "Unknown mobile type"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "os"}:        {Code: 1104, Msg: "Unknown platform"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "os"}:      {Code: 1104, Msg: "Unknown platform"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "timestamp"}: {Code: 1105, Msg: "Invalid timestamp"},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampFormat}:     {Code: 1105, Msg: "Invalid timestamp"},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampExpired}:    {Code: 1105, Msg: "Invalid timestamp"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "appid"}:   {Code: 1106, Msg: "Invalid appid"},
	{Kind: numauth.EDENIED, Reason: reasonCarrier}:                              {Code: 1107, Msg: "Appid unauthorized"},
	{Kind: numauth.EDENIED, Reason: reasonIPAllow}:                              {Code: 1107, Msg: "Appid unauthorized"},
	{Kind: numauth.EUNSUBSCRIBED}:                                               {Code: 1107, Msg: "Appid unauthorized"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "signature"}: {Code: 1108, Msg: "Invalid signature"},
	{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMismatch}:   {Code: 1108, Msg: "Invalid signature"},
	{Kind: numauth.ESUSPENDED, Reason: numauth.ReasonSubmailApp}:                {Code: 1109, Msg: "Appid is disabled"},
	{Kind: numauth.ESUSPENDED, Reason: reasonAccount}:                           {Code: 1110, Msg: "Account is disabled"},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonSubmailApp}:                 {Code: 1111, Msg: "Appid does not exist"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "token"}:     {Code: 1112, Msg: "Null token"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "auth"}:      {Code: 1112, Msg: "Null token"},
	{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierTimeout}:          {Code: 1113, Msg: operatorError + ":", Detail: "timeout"},
	{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierError}:            {Code: 1113, Msg: operatorError + ":", Detail: "carrier error"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonToken}:                       {Code: 1113, Msg: operatorError + ":", Detail: "token invalid"},
	{Kind: numauth.EINSUFFICIENT}:                                               {Code: 1114, Msg: "Insufficient balance"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonHTTPMethod}:                  {Status: http.StatusMethodNotAllowed, Code: 1101, Msg: "Null appid"},
	{Kind: numauth.EINVALID}:                                                    {Code: 1101, Msg: "Null appid"},
	{Kind: numauth.EINTERNAL}:                                                   {Code: 1113, Msg: operatorError},
}

// protocol is one family of endpoints: its error table and the shape of its error answer.
type protocol struct {
	errors    errorTable
	errorBody func(code int, msg, id string) any
}

var (
	vfmobile = &protocol{verifyErrors, func(code int, msg, id string) any {
		return verifyFailure{Status: "error", Code: code, Msg: msg, MsgID: id}
	}}
	ocl = &protocol{oclErrors, func(code int, msg, id string) any {
		return oclAnswer{Code: strconv.Itoa(code), SendID: id, Msg: msg}
	}}
)

// verificationError keeps the Verifier's documented errors, the balance's and the carrier's, and makes
// any other (the store failing to read the balance or to record and charge the verification) internal,
// so that no store refusal is mistaken for the client's mistake by a table.
func verificationError(err error) error {
	e := numauth.AsError(err)
	switch {
	case e.Kind == numauth.EINSUFFICIENT,
		e.Kind == numauth.EINVALID && e.Reason == numauth.ReasonToken,
		e.Kind == numauth.EUNAVAILABLE && (e.Reason == numauth.ReasonCarrierTimeout || e.Reason == numauth.ReasonCarrierError):
		return err
	}
	return &numauth.Error{Kind: numauth.EINTERNAL, Internal: "record verification", Err: err}
}
