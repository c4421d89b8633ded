package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"
)

// sdkResult is what a test learns from one call through an official SDK.
type sdkResult struct {
	Status    int
	Code      string
	URL       string         // Data.AuthorizationUrl on success
	Recommend string         // v1 SDK only
	Denied    map[string]any // AccessDeniedDetail as the SDK parsed it
	Raw       string
}

// sdkCaller calls GetAuthorizationUrl through one official SDK, in JSON or XML.
type sdkCaller func(tb testing.TB, addr string, key tenant, params map[string]string, asXML bool) sdkResult

// callV1 uses the typed Dypnsapi client of github.com/aliyun/alibaba-cloud-sdk-go (signature v1).
func callV1(tb testing.TB, addr string, key tenant, params map[string]string, asXML bool) sdkResult {
	tb.Helper()
	c, err := dypnsapi.NewClientWithAccessKey("cn-hangzhou", key.AccessKeyID, key.Secret)
	if err != nil {
		tb.Fatal(err)
	}
	c.Domain = addr // the endpoint override users write
	req := dypnsapi.CreateGetAuthorizationUrlRequest()
	req.Scheme = "http"
	if asXML {
		req.AcceptFormat = "XML"
	}
	req.PhoneNo = params["PhoneNo"]
	req.SchemeId = requests.Integer(params["SchemeId"])
	req.EndDate = params["EndDate"]
	resp, err := c.GetAuthorizationUrl(req)
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		r := sdkResult{Status: se.HttpStatus(), Code: se.ErrorCode(), Recommend: se.Recommend(), Denied: se.AccessDeniedDetail(), Raw: se.Message()}
		if asXML {
			// The v1 SDK parses only JSON error bodies; with XML, Message() is the raw body.
			r.Code = xmlErrorCode(tb, se.Message())
		}
		return r
	}
	if err != nil {
		tb.Fatalf("v1 SDK: %v", err)
	}
	return sdkResult{Status: resp.GetHttpStatus(), Code: resp.Code, URL: resp.Data.AuthorizationUrl, Raw: resp.GetHttpContentString()}
}

// callV3 uses darabonba-openapi's CallApi (signature v3, ACS3-HMAC-SHA256), as the generated v2 clients do.
func callV3(tb testing.TB, addr string, key tenant, params map[string]string, asXML bool) sdkResult {
	tb.Helper()
	c := mustOpenAPIClient(tb, addr, key)
	q := map[string]any{}
	for k, v := range params {
		if v != "" {
			q[k] = v
		}
	}
	bodyType := "json"
	if asXML {
		q["Format"] = "XML"
		bodyType = "string"
	}
	res, err := c.CallApi(rpcParams("GetAuthorizationUrl", "2017-05-25", bodyType),
		&openapiutil.OpenApiRequest{Query: openapiutil.Query(q)}, &dara.RuntimeOptions{})
	var se *tea.SDKError
	if errors.As(err, &se) {
		return sdkResult{Status: tea.IntValue(se.StatusCode), Code: tea.StringValue(se.Code), Denied: se.AccessDeniedDetail, Raw: tea.StringValue(se.Data)}
	}
	if err != nil {
		tb.Fatalf("v3 SDK: %v", err)
	}
	status, _ := strconv.Atoi(fmt.Sprint(res["statusCode"]))
	r := sdkResult{Status: status}
	if asXML {
		var body struct {
			Code string
			Data struct{ AuthorizationUrl string }
		}
		r.Raw = res["body"].(string)
		if err := xml.Unmarshal([]byte(r.Raw), &body); err != nil {
			tb.Fatalf("XML body %q: %v", r.Raw, err)
		}
		r.Code, r.URL = body.Code, body.Data.AuthorizationUrl
		return r
	}
	body := res["body"].(map[string]any)
	r.Code, _ = body["Code"].(string)
	if data, ok := body["Data"].(map[string]any); ok {
		r.URL, _ = data["AuthorizationUrl"].(string)
	}
	return r
}

func mustOpenAPIClient(tb testing.TB, addr string, key tenant) *openapi.Client {
	tb.Helper()
	c, err := openapi.NewClient(&openapiutil.Config{
		AccessKeyId:     dara.String(key.AccessKeyID),
		AccessKeySecret: dara.String(key.Secret),
		Endpoint:        dara.String(addr),
		Protocol:        dara.String("http"),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// rpcParams are the call parameters the generated v2 product clients pass to CallApi.
func rpcParams(action, version, bodyType string) *openapiutil.Params {
	return &openapiutil.Params{
		Action: dara.String(action), Version: dara.String(version), Protocol: dara.String("HTTPS"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String(bodyType),
	}
}

// callCommon sends a v1 CommonRequest, for actions and versions no typed client has.
func callCommon(tb testing.TB, addr string, key tenant, version, action string, params map[string]string) sdkResult {
	tb.Helper()
	c, err := sdk.NewClientWithAccessKey("cn-hangzhou", key.AccessKeyID, key.Secret)
	if err != nil {
		tb.Fatal(err)
	}
	req := requests.NewCommonRequest()
	req.Method, req.Scheme, req.Domain = "POST", "http", addr
	req.Version, req.ApiName = version, action
	for k, v := range params {
		req.QueryParams[k] = v
	}
	resp, err := c.ProcessCommonRequest(req)
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return sdkResult{Status: se.HttpStatus(), Code: se.ErrorCode(), Recommend: se.Recommend(), Raw: se.Message()}
	}
	if err != nil {
		tb.Fatalf("v1 CommonRequest: %v", err)
	}
	return sdkResult{Status: resp.GetHttpStatus(), Raw: resp.GetHttpContentString()}
}

func xmlErrorCode(tb testing.TB, body string) string {
	tb.Helper()
	var e struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
	}
	if err := xml.Unmarshal([]byte(body), &e); err != nil {
		tb.Fatalf("error body %q is not Alibaba's XML <Error>: %v", body, err)
	}
	return e.Code
}
