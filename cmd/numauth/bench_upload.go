package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/blob"
	"github.com/numauth/numauth/inmem"
	"github.com/numauth/numauth/ossupload"
	"github.com/numauth/numauth/sqlstore"
)

// uploadBenchAction is the --action of the upload bench: form uploads to /upload instead of RPC calls.
const uploadBenchAction = "upload"

// uploadMemoryBudget is what 100 concurrent 5 MB uploads may add to the server's resident memory.
const uploadMemoryBudget = 150 << 20

// uploadBenchResult is the upload bench's figures.
type uploadBenchResult struct {
	Uploads      int            `json:"uploads"`
	FileBytes    int64          `json:"file_bytes"`
	Accepted     int            `json:"accepted"`
	ErrorCodes   map[string]int `json:"error_codes,omitempty"`
	Seconds      float64        `json:"seconds"`
	P50Ms        float64        `json:"p50_ms"`
	MaxMs        float64        `json:"max_ms"`
	ServerPID    int            `json:"server_pid,omitempty"`
	IdleRSS      int64          `json:"idle_rss_bytes,omitempty"`
	PeakRSS      int64          `json:"peak_rss_bytes,omitempty"` // the most of the sampled VmRSS and the final VmHWM
	RSSDelta     int64          `json:"rss_delta_bytes,omitempty"`
	BudgetBytes  int64          `json:"budget_bytes"`
	BufferedCost int64          `json:"buffered_cost_bytes"` // what holding every file in memory at once would take
}

// runUploadBench sends --concurrency form uploads of --upload-size bytes at once to --target's /upload,
// spread over enough accounts that the per-account rate does not refuse them, and with --server-pid
// reports how much the server's resident memory grew over its idle size (VmRSS sampled every 5 ms and
// VmHWM, from /proc/PID/status).
func runUploadBench(ctx context.Context, out io.Writer, c BenchConfig) error {
	n := c.Concurrency
	accounts := max(c.Accounts, (n+numauth.DefaultUploadRate-1)/numauth.DefaultUploadRate)
	grants, err := provisionUploadBench(ctx, c, accounts)
	if err != nil {
		return fmt.Errorf("provision upload bench: %w", err)
	}
	r := uploadBenchResult{Uploads: n, FileBytes: c.UploadSize, ServerPID: c.ServerPID, BudgetBytes: uploadMemoryBudget,
		BufferedCost: int64(n) * c.UploadSize, ErrorCodes: map[string]int{}}

	stopSampling := func() int64 { return 0 }
	if c.ServerPID > 0 {
		if r.IdleRSS, err = procStatus(c.ServerPID, "VmRSS"); err != nil {
			return err
		}
		done := make(chan struct{})
		peak := make(chan int64, 1)
		go func() {
			var most int64
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				if v, err := procStatus(c.ServerPID, "VmRSS"); err == nil {
					most = max(most, v)
				}
				select {
				case <-done:
					peak <- most
					return
				case <-t.C:
				}
			}
		}()
		stopSampling = func() int64 { close(done); return <-peak }
	}

	client := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}}
	target := strings.TrimRight(c.Target, "/") + "/upload"
	latencies := make([]time.Duration, n)
	codes := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		g := grants[i%len(grants)]
		wg.Go(func() {
			req, err := uploadRequest(ctx, target, g, fmt.Sprintf("%sbench-%d.png", g.StartPath, i), c.UploadSize)
			if err != nil {
				codes[i] = err.Error()
				return
			}
			<-start
			t0 := time.Now()
			resp, err := client.Do(req)
			latencies[i] = time.Since(t0)
			if err != nil {
				codes[i] = "transport error"
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				var code string
				data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
				xmlCode(data, &code)
				codes[i] = strconv.Itoa(resp.StatusCode) + " " + code
			}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	r.Seconds = time.Since(t0).Seconds()
	if c.ServerPID > 0 {
		sampled := stopSampling()
		hwm, err := procStatus(c.ServerPID, "VmHWM")
		if err != nil {
			return err
		}
		r.PeakRSS = max(sampled, hwm)
		r.RSSDelta = r.PeakRSS - r.IdleRSS
	}
	for _, code := range codes {
		if code == "" {
			r.Accepted++
		} else {
			r.ErrorCodes[code]++
		}
	}
	slices.Sort(latencies)
	r.P50Ms = float64(latencies[n/2].Microseconds()) / 1000
	r.MaxMs = float64(latencies[n-1].Microseconds()) / 1000

	if c.Output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
	fmt.Fprintf(out, "target %s: %d concurrent uploads of %d bytes over %d accounts\n", target, n, c.UploadSize, accounts)
	fmt.Fprintf(out, "accepted %d in %.2f s (p50 %.0f ms, max %.0f ms)\n", r.Accepted, r.Seconds, r.P50Ms, r.MaxMs)
	for _, k := range sortedKeys(r.ErrorCodes) {
		fmt.Fprintf(out, "    %-30s %d\n", k, r.ErrorCodes[k])
	}
	if c.ServerPID > 0 {
		fmt.Fprintf(out, "server %d resident memory: idle %s, peak %s, grew %s (budget %s; every file held at once: %s)\n",
			c.ServerPID, mb(r.IdleRSS), mb(r.PeakRSS), mb(r.RSSDelta), mb(r.BudgetBytes), mb(r.BufferedCost))
	}
	return nil
}

// provisionUploadBench creates accounts and signs them upload grants with the server's key (derived from
// the master key, as serve derives it).
func provisionUploadBench(ctx context.Context, c BenchConfig, accounts int) ([]*ossupload.Grant, error) {
	store, err := openStore(ctx, c.Store, numauth.SystemClock{}, false)
	if err != nil {
		return nil, err
	}
	defer store.DB.Close()
	u, err := ossupload.New(ossupload.Config{Store: nopBlobStore{}, Key: store.Sealer.DeriveKey("oss uploads"),
		AccessKeyID: "numauth-upload", Records: sqlstore.NewStorageService(store.DB), Limiter: inmem.NewLimiter(1)})
	if err != nil {
		return nil, err
	}
	svc := sqlstore.NewAccountService(store.DB)
	var grants []*ossupload.Grant
	for i := range accounts {
		acct, _, err := svc.CreateAccount(ctx, fmt.Sprintf("upload-bench-%d", i))
		if err != nil {
			return nil, err
		}
		g, err := u.Grant(acct.ID, "dysms", strings.TrimRight(c.Target, "/")+"/upload")
		if err != nil {
			return nil, err
		}
		grants = append(grants, g)
	}
	return grants, nil
}

// uploadRequest is a browser-style PostObject form whose file is size bytes of a PNG signature and
// filler, generated as it is sent: the generator holds no file in memory either.
func uploadRequest(ctx context.Context, target string, g *ossupload.Grant, key string, size int64) (*http.Request, error) {
	var head strings.Builder
	mw := multipart.NewWriter(&head)
	for _, f := range [][2]string{{"key", key}, {"policy", g.Policy}, {"OSSAccessKeyId", g.AccessKeyID}, {"signature", g.Signature}} {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	if _, err := mw.CreateFormFile("file", "bench.png"); err != nil {
		return nil, err
	}
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	signature := "\x89PNG\r\n\x1a\n"
	body := io.MultiReader(strings.NewReader(head.String()), strings.NewReader(signature),
		io.LimitReader(fillReader{}, size-int64(len(signature))), strings.NewReader(tail))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req, nil
}

// fillReader yields endless filler bytes.
type fillReader struct{}

func (fillReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return len(p), nil
}

// procStatus reads one "kB" field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("--server-pid: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status %s: %w", pid, field, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// xmlCode reads the Code of an OSS error body into code.
func xmlCode(data []byte, code *string) {
	var e struct{ Code string }
	if xml.Unmarshal(data, &e) == nil {
		*code = e.Code
	}
}

// nopBlobStore stands in for the server's store where the bench only signs grants, which touch none.
type nopBlobStore struct{}

func (nopBlobStore) Put(context.Context, string, io.Reader, int64, string) error { return errNoStore }
func (nopBlobStore) Get(context.Context, string) (io.ReadCloser, *blob.Info, error) {
	return nil, nil, errNoStore
}
func (nopBlobStore) Stat(context.Context, string) (*blob.Info, error) { return nil, errNoStore }
func (nopBlobStore) Delete(context.Context, string) error             { return errNoStore }

var errNoStore = errors.New("bench: no blob store")
