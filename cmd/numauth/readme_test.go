package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlocks returns the fenced blocks of README.md in the given language, in order.
func readmeBlocks(tb testing.TB, lang string) []string {
	tb.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```"+lang:
			cur = &strings.Builder{}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line)
		}
	}
	return blocks
}

// TestReadmeGoExampleRuns keeps README's Go program honest: it is byte for byte
// examples/getauthorizationurl/main.go (which `go vet ./...` and `go build ./...` compile), and that
// program, built and run as README says, gets a link from a real server.
func TestReadmeGoExampleRuns(t *testing.T) {
	const file = "../../examples/getauthorizationurl/main.go"
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, b := range readmeBlocks(t, "go") {
		if strings.Contains(b, "package main") {
			found = true
			if b != string(want) {
				t.Errorf("README's Go program differs from %s: copy the file into README.md", file)
			}
		}
	}
	if !found {
		t.Fatalf("README.md has no Go program (a ```go block with package main)")
	}
	// The SDK version README tells users to pin is the one the tests run with.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	const sdk = "github.com/aliyun/alibaba-cloud-sdk-go"
	var pin string
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == sdk {
			pin = sdk + "@" + f[1]
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if pin == "" || !strings.Contains(string(readme), "go get "+pin+"\n") {
		t.Errorf("README.md does not say `go get %s` (the version in go.mod)", pin)
	}

	s := mustRunMain(t, "")
	acct := s.mustCreateAccount(t, "acme")
	scheme := s.mustCreateScheme(t, acct, "approved", "--purpose", "售后回访")
	run := exampleRunner(t, "getauthorizationurl", s, acct)
	out, err := run("-scheme", scheme, "-phone", "13900000000")
	if err != nil || !strings.HasPrefix(out, "http://"+s.Addr()+"/authorize?token=ey") {
		t.Errorf("the example: %v\n%s\nwant the AuthorizationUrl", err, out)
	}
	out, err = run("-scheme", scheme, "-phone", "123")
	if err == nil || !strings.Contains(out, "MobileNumberIllgeal") {
		t.Errorf("the example with a bad number: %v\n%s\nwant it to fail with MobileNumberIllgeal", err, out)
	}
}

// TestCommonRequestExample runs examples/commonrequest, the program README's worked requests use, for an
// answer and for an error.
func TestCommonRequestExample(t *testing.T) {
	s := mustRunMain(t, "")
	acct := s.mustCreateAccount(t, "acme")
	run := exampleRunner(t, "commonrequest", s, acct)
	out, err := run("-action", "SendSmsVerifyCode", "PhoneNumber=13900000000", "SignName=Acme", "TemplateCode=100001",
		`TemplateParam={"code":"##code##","min":"5"}`)
	if err != nil || !strings.Contains(out, `"Code":"OK"`) || !strings.Contains(out, `"BizId":"`) {
		t.Errorf("SendSmsVerifyCode: %v\n%s\nwant Code OK and a BizId", err, out)
	}
	out, err = run("-version", "2020-06-06", "-action", "GetChatappVerifyCode", "CustSpaceId=cams-none",
		"PhoneNumber=8613800001234", "Method=sms", "Locale=zh_CN")
	if err == nil || !strings.HasPrefix(out, "HTTP 4") {
		t.Errorf("GetChatappVerifyCode in an unknown space: %v\n%s\nwant it to fail with HTTP 4xx", err, out)
	}
}

// exampleRunner builds examples/NAME and returns a function that runs it against s with acct's keys.
func exampleRunner(t *testing.T, name string, s *testServer, acct tenant) func(args ...string) (string, error) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("skipping: no go command on the PATH to build examples/%s: %v", name, err)
	}
	bin := filepath.Join(t.TempDir(), name)
	build := exec.Command(goTool, "build", "-o", bin, "./examples/"+name)
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/%s: %v\n%s", name, err, out)
	}
	return func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"-endpoint", s.Addr()}, args...)...)
		cmd.Env = append(os.Environ(), "ALIBABA_CLOUD_ACCESS_KEY_ID="+acct.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+acct.Secret)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
}
