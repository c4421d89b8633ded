// Command getauthorizationurl asks numauth for a phone owner's consent link with the official Alibaba
// Cloud Go SDK, exactly as it would ask Dypnsapi: only the endpoint differs.
//
// Usage:
//
//	ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI... ALIBABA_CLOUD_ACCESS_KEY_SECRET=... \
//	  go run ./examples/getauthorizationurl -scheme 731209487 -phone 13900000000
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:8080", "numauth's address, instead of dypnsapi.aliyuncs.com")
	schemeID := flag.Int64("scheme", 0, "the SchemeId that `numauth admin scheme create` printed")
	phone := flag.String("phone", "13900000000", "the phone owner's number")
	endDate := flag.String("end-date", "", "the grant's last day, YYYY-MM-DD (required for contract schemes)")
	flag.Parse()

	client, err := dypnsapi.NewClientWithAccessKey("cn-hangzhou",
		os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	client.Domain = *endpoint // the endpoint override: numauth instead of Alibaba Cloud

	req := dypnsapi.CreateGetAuthorizationUrlRequest()
	req.Scheme = "http" // numauth's quick start listens on plain HTTP
	req.PhoneNo = *phone
	req.SchemeId = requests.NewInteger64(*schemeID)
	req.EndDate = *endDate
	resp, err := client.GetAuthorizationUrl(req)
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		// numauth answered with an error, as Alibaba Cloud would: MobileNumberIllgeal, SchemeNotPassed, ...
		log.Fatalf("HTTP %d %s: %s", se.HttpStatus(), se.ErrorCode(), se.Message())
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Data.AuthorizationUrl)
}
