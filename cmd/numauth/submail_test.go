package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/sqlstore"
)

// submailApp is a SUBMAIL app as a test uses it.
type submailApp struct {
	AccountID     string
	AppID, AppKey string
}

func (s *testServer) mustCreateSubmailApp(tb testing.TB, name string, price int) submailApp {
	tb.Helper()
	a := s.mustCreateAccount(tb, name)
	v := s.admin(tb, "submail", "app", "create", "--account", a.ID, "--price", strconv.Itoa(price))
	return submailApp{AccountID: a.ID, AppID: v["AppId"].(string), AppKey: v["AppKey"].(string)}
}

// issueTokens issues n simulator tokens for distinct numbers straight into the store.
func issueTokens(tb testing.TB, store StoreConfig, n int) []*numauth.CarrierToken {
	tb.Helper()
	opened, err := openStore(context.Background(), store, numauth.SystemClock{}, false)
	if err != nil {
		tb.Fatal(err)
	}
	defer opened.DB.Close()
	ts := make([]numauth.CarrierToken, n)
	for i := range ts {
		ts[i] = numauth.CarrierToken{Carrier: numauth.CarrierUnicom, Phone: fmt.Sprintf("1860000%04d", i)}
	}
	issued, err := sqlstore.NewCarrierTokens(opened.DB).IssueCarrierTokens(context.Background(), ts)
	if err != nil {
		tb.Fatal(err)
	}
	return issued
}

// vfmobileVerify posts one verification the way SUBMAIL's SDK signs it and returns the decoded answer.
func vfmobileVerify(client *http.Client, addr string, app submailApp, t *numauth.CarrierToken) (map[string]any, error) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	sum := sha256.Sum256([]byte(app.AppKey + ts + t.Token))
	form := url.Values{"appid": {app.AppID}, "signature": {hex.EncodeToString(sum[:])}, "os": {"1"}, "timestamp": {ts},
		"token": {t.Token}, "mobile_number": {strings.TrimPrefix(t.Phone, "+86")}, "userInformation": {"fp"},
		"type": {strconv.Itoa(int(t.Carrier))}}
	resp, err := client.PostForm("http://"+addr+"/vfmobile/verify", form)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	return body, dec.Decode(&body)
}

// TestSubmailChargesExactly: 200 concurrent successful verifications against a balance that covers 150
// give exactly 150 successes, 50 × 1314, a balance of zero and 150 charges in the ledger.
func TestSubmailChargesExactly(t *testing.T) {
	s := mustRunMain(t, "", withCarrierSimulator)
	app := s.mustCreateSubmailApp(t, "shop", 3)
	s.admin(t, "balance", "add", "--account", app.AccountID, "--amount", "450")
	tokens := issueTokens(t, s.store, 200)

	var wg sync.WaitGroup
	answers := make([]map[string]any, len(tokens))
	errs := make([]error, len(tokens))
	for i, tok := range tokens {
		wg.Go(func() { answers[i], errs[i] = vfmobileVerify(http.DefaultClient, s.Addr(), app, tok) })
	}
	wg.Wait()
	success, broke := 0, 0
	for i, a := range answers {
		switch {
		case errs[i] != nil:
			t.Errorf("request %d: %v", i, errs[i])
		case a["status"] == "success":
			success++
			if r, _ := a["result"].(map[string]any); r["identical"] != true {
				t.Errorf("answer %v, want identical", a)
			}
		case fmt.Sprint(a["code"]) == "1314" && a["msg"] == "Insufficient balance":
			broke++
		default:
			t.Errorf("unexpected answer %v", a)
		}
	}
	if success != 150 || broke != 50 {
		t.Errorf("%d successes and %d × 1314, want 150 and 50", success, broke)
	}
	if b := s.admin(t, "balance", "show", "--account", app.AccountID)["Balance"]; jsonID(t, b) != "0" {
		t.Errorf("balance %v, want 0", b)
	}
	out, err := s.cli(t, "admin", "ledger", "list", "--account", app.AccountID, "--limit", "1000", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var ledger []ledgerRow
	json.Unmarshal([]byte(out), &ledger)
	charges := 0
	for _, e := range ledger {
		if e.Kind == "charge" {
			charges++
			if e.Amount != -3 || e.Item != "submail.vfmobile" || e.Source != app.AppID {
				t.Errorf("charge %+v", e)
			}
		}
	}
	if charges != 150 {
		t.Errorf("%d charges in the ledger, want 150", charges)
	}
}

// binaryDir holds the binary builtBinary builds; TestMain removes it.
var binaryDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// builtBinary builds numauth once for the tests that kill it.
var builtBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "numauth-bin-")
	if err != nil {
		return "", err
	}
	binaryDir = dir
	bin := filepath.Join(dir, "numauth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// TestCrashKeepsChargesAndVerificationsMatched kills the server (SIGKILL) under a load of charged
// verifications: afterwards every charge has exactly one successful verification and every billed
// verification exactly one charge, every success a client saw is among them, and the balance is the
// top-up less the charges.
func TestCrashKeepsChargesAndVerificationsMatched(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin, err := builtBinary()
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	cmd, addr := startBinary(t, bin, data)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	s := &testServer{store: StoreConfig{DataDir: data}}
	app := s.mustCreateSubmailApp(t, "shop", 2)
	const topUp = 1_000_000
	s.admin(t, "balance", "add", "--account", app.AccountID, "--amount", strconv.Itoa(topUp))
	tokens := make(chan *numauth.CarrierToken, 5000)
	for _, tok := range issueTokens(t, s.store, 5000) {
		tokens <- tok
	}
	close(tokens)

	var mu sync.Mutex
	seen := map[string]bool{} // msg_ids of the successes clients saw
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for range 8 {
		wg.Go(func() {
			for tok := range tokens {
				a, err := vfmobileVerify(client, addr, app, tok)
				if err != nil {
					return // the server is gone
				}
				if a["status"] == "success" {
					mu.Lock()
					seen[a["msg_id"].(string)] = true
					mu.Unlock()
				}
			}
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	wg.Wait()
	if len(seen) < 300 {
		t.Fatalf("only %d verifications succeeded before the kill", len(seen))
	}

	// Reopen the database as a restarted server would (SQLite recovers its WAL) and balance the books.
	store, err := openStore(context.Background(), s.store, numauth.SystemClock{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer store.DB.Close()
	accountID, _ := strconv.ParseInt(app.AccountID, 10, 64)
	billing := store.Billing
	var verifications []*numauth.NumberVerification
	var ledger []*numauth.LedgerEntry
	for to := time.Now().Add(time.Hour); ; {
		page, err := billing.FindVerifications(context.Background(), numauth.VerificationFilter{AccountID: accountID, To: to, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		verifications = append(verifications, page...)
		if len(page) < 1000 {
			break
		}
		to = page[len(page)-1].CreatedAt // rows of the same microsecond may repeat: deduplicated below
	}
	byID := map[string]*numauth.NumberVerification{}
	for _, v := range verifications {
		byID[v.ID] = v
	}
	for to := time.Now().Add(time.Hour); ; {
		page, err := billing.FindLedger(context.Background(), numauth.LedgerFilter{AccountID: accountID, To: to, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		ledger = append(ledger, page...)
		if len(page) < 1000 {
			break
		}
		to = page[len(page)-1].CreatedAt
	}
	charges := map[string]int64{}
	entries := map[int64]bool{}
	var charged int64
	for _, e := range ledger {
		if entries[e.ID] || e.Kind != numauth.LedgerCharge {
			entries[e.ID] = true
			continue
		}
		entries[e.ID] = true
		if _, dup := charges[e.Reference]; dup {
			t.Errorf("verification %s is charged twice", e.Reference)
		}
		charges[e.Reference] = -e.Amount
		charged += -e.Amount
		v := byID[e.Reference]
		if v == nil || v.Charged != -e.Amount || v.Outcome == numauth.VerificationUnknown {
			t.Errorf("charge %+v has no billed verification (%+v)", e, v)
		}
	}
	billed := 0
	for id, v := range byID {
		if v.Charged > 0 {
			billed++
			if charges[id] != v.Charged {
				t.Errorf("billed verification %s has no charge", id)
			}
		}
	}
	for id := range seen {
		if byID[id] == nil || charges[id] == 0 {
			t.Errorf("a client saw success %s, which has no billed verification", id)
		}
	}
	balance, err := billing.FindBalance(context.Background(), accountID)
	if err != nil || balance != topUp-charged {
		t.Errorf("balance %d, %v; want %d - %d", balance, err, topUp, charged)
	}
	t.Logf("%d successes seen before SIGKILL, %d billed verifications and %d charges after", len(seen), billed, len(charges))
}
