// Command commonrequest calls any Alibaba Cloud RPC action on numauth with the official Go SDK's
// CommonRequest, the way to reach actions the typed clients do not wrap (Dysmsapi letters and
// qualifications, CAMS, numauth's QueryAuthorizationStatus). It prints the JSON answer.
//
// Usage:
//
//	ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI... ALIBABA_CLOUD_ACCESS_KEY_SECRET=... \
//	  go run ./examples/commonrequest -version 2017-05-25 -action SendSmsVerifyCode PhoneNumber=13900000000 ...
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:8080", "numauth's address, instead of the product's aliyuncs.com host")
	version := flag.String("version", "2017-05-25", "the API version: 2017-05-25 (Dypnsapi, Dysmsapi) or 2020-06-06 (CAMS)")
	action := flag.String("action", "", "the action, e.g. CreateSmsAuthorizationLetter")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: commonrequest [flags] -action NAME [Param=Value ...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *action == "" {
		flag.Usage()
		os.Exit(2)
	}

	client, err := sdk.NewClientWithAccessKey("cn-hangzhou",
		os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	req := requests.NewCommonRequest()
	req.Method = "POST"
	req.Scheme = "http" // numauth's quick start listens on plain HTTP
	req.Domain = *endpoint
	req.Version = *version
	req.ApiName = *action
	for _, arg := range flag.Args() {
		name, value, ok := strings.Cut(arg, "=")
		if !ok {
			log.Fatalf("%q: want Param=Value", arg)
		}
		req.QueryParams[name] = value
	}
	resp, err := client.ProcessCommonRequest(req)
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		// An error answer, as Alibaba Cloud would give it.
		fmt.Printf("HTTP %d %s: %s\n", se.HttpStatus(), se.ErrorCode(), se.Message())
		os.Exit(1)
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.GetHttpContentString())
}
