package main

import (
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"

	"github.com/numauth/numauth/numauthtest"
)

// TestQuerySendDetailsIsolatesAccounts: one account's QuerySendDetails never reaches another's messages,
// neither by the number and day they share nor by the other's BizId.
func TestQuerySendDetailsIsolatesAccounts(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testQuerySendDetailsIsolatesAccounts(t, "") })
	t.Run("PostgreSQL", func(t *testing.T) { testQuerySendDetailsIsolatesAccounts(t, numauthtest.NewPostgresSchema(t)) })
}

func testQuerySendDetailsIsolatesAccounts(t *testing.T, dsn string) {
	s := mustRunMain(t, dsn)
	owner, other := s.mustCreateAccount(t, "owner"), s.mustCreateAccount(t, "other")
	ownerClient, otherClient := dypnsapiClient(t, s.Addr(), owner), dypnsapiClient(t, s.Addr(), other)
	const phone = "13900000042"
	sent := sendSmsVerifyCode(t, ownerClient, phone, func(r *dypnsapi.SendSmsVerifyCodeRequest) { r.OutId = "owner-1" })
	if sent.Code != "OK" {
		t.Fatalf("send: %s %s", sent.Code, sent.Message)
	}
	today := s.clock.Now().In(time.FixedZone("CST", 8*3600)).Format("20060102")
	query := func(c *dypnsapi.Client, bizID string) *dypnsapi.QuerySendDetailsResponse {
		t.Helper()
		req := dypnsapi.CreateQuerySendDetailsRequest()
		req.Scheme = "http"
		req.PhoneNumber, req.SendDate, req.PageSize, req.CurrentPage, req.BizId = phone, today, requestsInteger("50"), requestsInteger("1"), bizID
		resp, err := c.QuerySendDetails(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Code != "OK" {
			t.Fatalf("QuerySendDetails: %s %s", resp.Code, resp.Message)
		}
		return resp
	}
	if mine := query(ownerClient, ""); mine.TotalCount != 1 || len(mine.Model) != 1 || mine.Model[0].OutId != "owner-1" {
		t.Fatalf("the owner's own query: %+v", mine)
	}
	for _, tt := range []struct{ name, bizID string }{
		{"ByNumberAndDay", ""},
		{"ByTheOwnersBizId", sent.Model.BizId},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if theirs := query(otherClient, tt.bizID); theirs.TotalCount != 0 || len(theirs.Model) != 0 {
				t.Errorf("another account sees %d messages: %+v", theirs.TotalCount, theirs.Model)
			}
		})
	}
}
