package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/alibaba"
	"github.com/numauth/numauth/ossupload"
	"github.com/numauth/numauth/sqlstore"
)

// BenchConfig is the configuration of `numauth bench`.
type BenchConfig struct {
	Store       StoreConfig
	Target      string
	Action      string
	Accounts    int
	Concurrency int
	Duration    time.Duration
	Warmup      time.Duration
	Rate        int // total requests per second; 0 sends as fast as the server answers
	Ceiling     bool
	Tokens      int
	Output      string
	UploadSize  int64 // --action upload: bytes of each file
	ServerPID   int   // --action upload: the server process whose memory is measured

	SeedMessages   int           // --seed-messages: write this many old messages, then stop
	SeedMessageAge time.Duration // how long ago the seeded messages last changed
}

// benchAction is an action the load generator knows how to call.
type benchAction struct {
	version string
	// params are the action's parameters; t is a fresh simulator token for the actions that spend one.
	params func(a *benchAccount, t *numauth.CarrierToken) map[string]string
	// path, for SUBMAIL's endpoints, is where the generator posts instead of Alibaba's signed RPC.
	path string
	// tokens: each request spends a simulator token, issued before the run; the account is charged.
	tokens bool
}

var benchActions = map[string]benchAction{
	"GetAuthorizationUrl": {
		version: "2017-05-25",
		params: func(a *benchAccount, _ *numauth.CarrierToken) map[string]string {
			return map[string]string{"PhoneNo": randomMobile(), "SchemeId": strconv.FormatInt(a.schemeID, 10)}
		},
	},
	// Sends to random numbers, so per-number limits never refuse; the bench accounts' velocity limits are
	// lifted. Every send writes a code and an outbox message durably.
	"SendSmsVerifyCode": {
		version: "2017-05-25",
		params: func(*benchAccount, *numauth.CarrierToken) map[string]string {
			return map[string]string{"PhoneNumber": randomMobile(), "SignName": "numauth", "TemplateCode": "100001",
				"TemplateParam": `{"code":"##code##","min":"5"}`}
		},
	},
	// SUBMAIL's local number verification with charging: each request spends a fresh simulator token
	// (issued before the run) and is charged to a balance that never runs out.
	"vfmobile/verify": {path: "/vfmobile/verify", tokens: true},
	// Alibaba's number verification of the number the token stands for (PASS), charged at a price of 1.
	"VerifyMobile": {
		version: "2017-05-25",
		tokens:  true,
		params: func(_ *benchAccount, t *numauth.CarrierToken) map[string]string {
			return map[string]string{"AccessCode": t.Token, "PhoneNumber": strings.TrimPrefix(t.Phone, "+86")}
		},
	},
	// Alibaba's one-click login: the number behind the token, charged at a price of 1.
	"GetMobile": {
		version: "2017-05-25",
		tokens:  true,
		params: func(_ *benchAccount, t *numauth.CarrierToken) map[string]string {
			return map[string]string{"AccessToken": t.Token}
		},
	},
	// Checks a code for random numbers: the lookup, the comparison and the attempt bookkeeping.
	"CheckSmsVerifyCode": {
		version: "2017-05-25",
		params: func(*benchAccount, *numauth.CarrierToken) map[string]string {
			return map[string]string{"PhoneNumber": randomMobile(), "VerifyCode": "1234"}
		},
	},
}

// randomMobile returns a random mainland mobile number.
func randomMobile() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(100_000_000))
	return fmt.Sprintf("139%08d", n.Int64())
}

type benchAccount struct {
	accessKeyID, secret string
	schemeID            int64
	appID, appKey       string // the account's SUBMAIL app
}

func newBenchCommand() *cobra.Command {
	var c BenchConfig
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a running server with signed requests",
		Long: `bench creates --accounts accounts in the server's database (--data or --db, as for serve), each with an
approved scheme and a quota high enough not to throttle, then sends v1-signed requests with unique nonces
to --target for --duration and reports requests/s, latency percentiles and errors. With --ceiling the same
generator first runs against the server's /healthz, so both figures come from one run. With --rate the
load is open-loop at that many requests per second and latency counts from each request's scheduled time.
The number-verification actions (vfmobile/verify, VerifyMobile, GetMobile) spend carrier-simulator tokens:
run the server under test with --carrier simulator, or every request fails as a carrier failure.
--action upload instead sends --concurrency form uploads of --upload-size bytes at once to /upload and, with
--server-pid, reports how much the server's resident memory grew over its idle size.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			setGCPercent()
			return runBench(cmd.Context(), cmd.OutOrStdout(), c)
		},
	}
	fs := cmd.Flags()
	c.Store.addFlags(fs)
	fs.StringVar(&c.Target, "target", "http://127.0.0.1:8080", "base URL of the server under test")
	fs.StringVar(&c.Action, "action", "GetAuthorizationUrl", "action to call")
	fs.IntVar(&c.Accounts, "accounts", 10, "accounts to spread the load over")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "requests in flight")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long each phase measures")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "unmeasured load before each phase")
	fs.IntVar(&c.Rate, "rate", 0, "requests per second in total (0: closed loop, as fast as possible)")
	fs.BoolVar(&c.Ceiling, "ceiling", false, "also measure the trivial /healthz endpoint with the same generator")
	fs.IntVar(&c.Tokens, "tokens", 200_000, "vfmobile/verify, VerifyMobile, GetMobile: simulator tokens to issue before the run (one per request; the server must run with --carrier simulator)")
	fs.StringVarP(&c.Output, "output", "o", "table", "table or json")
	fs.Int64Var(&c.UploadSize, "upload-size", ossupload.DefaultMaxSize, "--action upload: bytes of each uploaded file")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "--action upload: process id of the server, whose resident memory is reported (Linux /proc)")
	fs.IntVar(&c.SeedMessages, "seed-messages", 0, "instead of a load: write this many sent messages (one attempt each) to the database, last changed --seed-message-age ago, for measuring the pruner")
	fs.DurationVar(&c.SeedMessageAge, "seed-message-age", 100*24*time.Hour, "with --seed-messages: how long ago the messages last changed")
	return cmd
}

// benchResult is one phase's figures.
type benchResult struct {
	Phase      string         `json:"phase"`
	Requests   int            `json:"requests"`
	Seconds    float64        `json:"seconds"`
	RPS        float64        `json:"rps"`
	P50Ms      float64        `json:"p50_ms"`
	P90Ms      float64        `json:"p90_ms"`
	P99Ms      float64        `json:"p99_ms"`
	MaxMs      float64        `json:"max_ms"`
	Errors     int            `json:"errors"`
	ErrorCodes map[string]int `json:"error_codes,omitempty"`
}

func runBench(ctx context.Context, out io.Writer, c BenchConfig) error {
	if c.SeedMessages > 0 {
		return seedMessages(ctx, out, c)
	}
	if c.Accounts < 1 || c.Concurrency < 1 {
		return fmt.Errorf("--accounts and --concurrency must be at least 1")
	}
	if c.Action == uploadBenchAction {
		return runUploadBench(ctx, out, c)
	}
	act, ok := benchActions[c.Action]
	if !ok {
		return fmt.Errorf("--action %q: bench knows %s and %s", c.Action, strings.Join(sortedKeys(benchActions), ", "), uploadBenchAction)
	}
	accounts, tokens, err := provisionBench(ctx, c, act)
	if err != nil {
		return fmt.Errorf("provision bench accounts: %w", err)
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConns: c.Concurrency * 2, MaxIdleConnsPerHost: c.Concurrency * 2, IdleConnTimeout: time.Minute},
	}
	target := strings.TrimRight(c.Target, "/")
	var results []benchResult
	phases := []struct{ name, path string }{{c.Action, "/"}}
	if c.Ceiling {
		phases = append([]struct{ name, path string }{{"ceiling (/healthz)", "/healthz"}}, phases...)
	}
	for _, ph := range phases {
		g := &generator{client: client, url: target + ph.path, action: c.Action, spec: act, accounts: accounts, cfg: c, tokens: tokens}
		if act.path != "" && ph.path == "/" {
			g.url = target + act.path
		}
		if c.Warmup > 0 {
			g.run(ctx, c.Warmup)
		}
		r := g.run(ctx, c.Duration)
		r.Phase = ph.name
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}
	return printBench(out, c, results)
}

// provisionBench creates the accounts the generator signs as and, for SUBMAIL, their apps, balances and
// the simulator tokens the requests spend.
func provisionBench(ctx context.Context, c BenchConfig, act benchAction) ([]*benchAccount, chan *numauth.CarrierToken, error) {
	submail := act.path != ""
	store, err := openStore(ctx, c.Store, numauth.SystemClock{}, false)
	if err != nil {
		return nil, nil, err
	}
	defer store.DB.Close()
	accounts, schemes, codes := store.Accounts, store.Schemes, store.Codes
	var out []*benchAccount
	for i := range c.Accounts {
		acct, key, err := accounts.CreateAccount(ctx, fmt.Sprintf("bench-%d", i))
		if err != nil {
			return nil, nil, err
		}
		// The generator measures the server, not the quota: lift it far above any rate it can reach.
		if !submail {
			if err := accounts.SetQuota(ctx, acct.ID, "Dypnsapi."+c.Action, 10_000_000); err != nil {
				return nil, nil, err
			}
		}
		// No send limits: the generator measures throughput, not the SMS-pumping defence.
		if err := codes.SetCodeSettings(ctx, acct.ID, &numauth.CodeSettings{}); err != nil {
			return nil, nil, err
		}
		sc := &numauth.Scheme{AccountID: acct.ID, Name: "bench", Company: "Bench Co.", Purpose: "load test", Type: numauth.SchemeNormal}
		if err := schemes.CreateScheme(ctx, sc); err != nil {
			return nil, nil, err
		}
		if err := schemes.SetSchemeState(ctx, acct.ID, sc.ID, numauth.ReviewApproved); err != nil {
			return nil, nil, err
		}
		a := &benchAccount{accessKeyID: key.ID, secret: key.Secret, schemeID: sc.ID}
		if act.tokens {
			billing := store.Billing
			if _, err := billing.AddBalance(ctx, acct.ID, 1_000_000_000, "bench"); err != nil {
				return nil, nil, err
			}
			for _, item := range []string{numauth.PriceNumberVerification, numauth.PriceOneClickLogin} {
				if err := billing.SetPrice(ctx, acct.ID, item, 1); err != nil {
					return nil, nil, err
				}
			}
			vs := &numauth.VerifyScheme{AccountID: acct.ID, Name: "bench", AppName: "Bench", OsType: "iOS", BundleID: "com.example.bench"}
			if err := store.VerifySchemes.CreateVerifyScheme(ctx, vs); err != nil {
				return nil, nil, err
			}
		}
		if submail {
			app := &numauth.SubmailApp{AccountID: acct.ID, Price: 1}
			if err := store.Submail.CreateSubmailApp(ctx, app); err != nil {
				return nil, nil, err
			}
			a.appID, a.appKey = app.AppID, app.AppKey
		}
		out = append(out, a)
	}
	if !act.tokens {
		return out, nil, nil
	}
	// Unicom's tokens live 30 minutes: long enough for any run.
	tokens := make(chan *numauth.CarrierToken, c.Tokens)
	issuer := sqlstore.NewCarrierTokens(store.DB) // the batch issue is sqlstore's alone, for the generator
	for n := 0; n < c.Tokens; n += 10_000 {
		batch := make([]numauth.CarrierToken, min(10_000, c.Tokens-n))
		for i := range batch {
			batch[i] = numauth.CarrierToken{Carrier: numauth.CarrierUnicom, Phone: randomMobile()}
		}
		issued, err := issuer.IssueCarrierTokens(ctx, batch)
		if err != nil {
			return nil, nil, err
		}
		for _, t := range issued {
			tokens <- t
		}
	}
	return out, tokens, nil
}

// generator sends signed requests from Concurrency workers.
type generator struct {
	client   *http.Client
	url      string
	action   string
	spec     benchAction
	accounts []*benchAccount
	cfg      BenchConfig
	seq      atomic.Uint64
	tokens   chan *numauth.CarrierToken // vfmobile/verify's supply
}

// request builds one v1-signed request the way the official SDK does: every parameter in the query,
// POST with an empty form body.
func (g *generator) request(ctx context.Context) (*http.Request, error) {
	n := g.seq.Add(1)
	a := g.accounts[n%uint64(len(g.accounts))]
	if g.spec.tokens && strings.HasSuffix(g.url, "/healthz") {
		// The ceiling phase of an action that spends tokens: the trivial request alone, no token wasted.
		return http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	}
	if g.spec.path != "" && strings.HasSuffix(g.url, g.spec.path) {
		return g.submailRequest(ctx, a)
	}
	var t *numauth.CarrierToken
	if g.spec.tokens {
		select {
		case t = <-g.tokens:
		default:
			return nil, fmt.Errorf("out of tokens: raise --tokens")
		}
	}
	params := g.spec.params(a, t)
	var nonce [16]byte
	rand.Read(nonce[:])
	params["Action"] = g.action
	params["Version"] = g.spec.version
	params["Format"] = "JSON"
	params["AccessKeyId"] = a.accessKeyID
	params["SignatureMethod"] = "HMAC-SHA1"
	params["SignatureVersion"] = "1.0"
	params["SignatureNonce"] = hex.EncodeToString(nonce[:])
	params["Timestamp"] = time.Now().UTC().Format("2006-01-02T15:04:05Z")
	params["RegionId"] = "cn-hangzhou"
	params["Signature"] = alibaba.SignV1(http.MethodPost, params, a.secret)
	q := make(url.Values, len(params))
	for k, v := range params {
		q.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// run drives load for d and returns the figures.
func (g *generator) run(ctx context.Context, d time.Duration) benchResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	workers := g.cfg.Concurrency
	lat := make([][]time.Duration, workers)
	codes := make([]map[string]int, workers)
	var interval time.Duration
	if g.cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(workers) / float64(g.cfg.Rate))
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		codes[w] = map[string]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Open loop: each worker owns every workers-th slot of the schedule, and latency counts from
			// the slot, so a slow server is not hidden by sending less (coordinated omission).
			next := start.Add(time.Duration(w) * interval / time.Duration(workers))
			for ctx.Err() == nil {
				sent := time.Now()
				if interval > 0 {
					if wait := time.Until(next); wait > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(wait):
						}
					}
					sent = next
					next = next.Add(interval)
				}
				code := g.once(ctx)
				if ctx.Err() != nil && code != "" {
					return // cut off by the end of the phase: neither a result nor an error
				}
				lat[w] = append(lat[w], time.Since(sent))
				if code != "" {
					codes[w][code]++
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := benchResult{Seconds: elapsed.Seconds(), ErrorCodes: map[string]int{}}
	var all []time.Duration
	for w := range workers {
		all = append(all, lat[w]...)
		for k, v := range codes[w] {
			r.ErrorCodes[k] += v
			r.Errors += v
		}
	}
	slices.Sort(all)
	r.Requests = len(all)
	r.RPS = float64(len(all)) / elapsed.Seconds()
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))]) / float64(time.Millisecond)
	}
	r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs = pct(0.50), pct(0.90), pct(0.99), pct(1)
	return r
}

// submailRequest builds a vfmobile/verify form post that spends one token, signed as SUBMAIL's SDKs sign:
// sha256(appkey + timestamp + token), the timestamp in milliseconds.
func (g *generator) submailRequest(ctx context.Context, a *benchAccount) (*http.Request, error) {
	var t *numauth.CarrierToken
	select {
	case t = <-g.tokens:
	default:
		return nil, fmt.Errorf("out of tokens: raise --tokens")
	}
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	sum := sha256.Sum256([]byte(a.appKey + ts + t.Token))
	form := url.Values{"appid": {a.appID}, "signature": {hex.EncodeToString(sum[:])}, "os": {"1"}, "timestamp": {ts},
		"token": {t.Token}, "mobile_number": {strings.TrimPrefix(t.Phone, "+86")}, "userInformation": {"bench"},
		"type": {strconv.Itoa(int(t.Carrier))}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// once sends one request and returns "" on success or a short error code.
func (g *generator) once(ctx context.Context) string {
	req, err := g.request(ctx)
	if err != nil {
		return "build"
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return "transport"
	}
	defer resp.Body.Close()
	if g.spec.path != "" && strings.HasSuffix(g.url, g.spec.path) {
		// SUBMAIL answers 200 whatever happened; the body says.
		var body struct {
			Status string
			Code   json.RawMessage
		}
		json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
		if body.Status == "success" {
			return ""
		}
		return "submail " + string(body.Code)
	}
	if resp.StatusCode == http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return ""
	}
	var body struct{ Code string }
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	return strconv.Itoa(resp.StatusCode) + " " + body.Code
}

func printBench(out io.Writer, c BenchConfig, results []benchResult) error {
	if c.Output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	fmt.Fprintf(out, "target %s, %d accounts, concurrency %d, %s per phase", c.Target, c.Accounts, c.Concurrency, c.Duration)
	if c.Rate > 0 {
		fmt.Fprintf(out, ", open loop at %d req/s", c.Rate)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "%-22s %10s %10s %9s %9s %9s %9s %8s\n", "phase", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors")
	for _, r := range results {
		fmt.Fprintf(out, "%-22s %10d %10.0f %9.2f %9.2f %9.2f %9.2f %8d\n", r.Phase, r.Requests, r.RPS, r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs, r.Errors)
		keys := sortedKeys(r.ErrorCodes)
		for _, k := range keys {
			fmt.Fprintf(out, "    %-30s %d\n", k, r.ErrorCodes[k])
		}
	}
	if len(results) == 2 && results[0].RPS > 0 {
		fmt.Fprintf(out, "%s reaches %.0f%% of the ceiling\n", results[1].Phase, 100*results[1].RPS/results[0].RPS)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// seedMessages writes c.SeedMessages old messages, the backlog the pruner figure in docs/PERFORMANCE.md
// starts from.
func seedMessages(ctx context.Context, out io.Writer, c BenchConfig) error {
	store, err := openStore(ctx, c.Store, numauth.SystemClock{}, false)
	if err != nil {
		return err
	}
	defer store.DB.Close()
	began := time.Now()
	if err := store.DB.SeedMessages(ctx, c.SeedMessages, time.Now().Add(-c.SeedMessageAge)); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "seeded %d messages in %s\n", c.SeedMessages, time.Since(began).Round(time.Millisecond))
	return err
}
