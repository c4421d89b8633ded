package smpp

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/numauth/numauth"
)

// BenchmarkSubmit submits one-part GSM 7-bit messages through Channel.Deliver to the npm smpp SMSC
// (smsc.js, quiet), from sessions*window goroutines so every window stays full. It reports messages/s,
// and the CPU the node SMSC and this Go process used over the run, in percent of one core. The ceiling
// runs submit the same PDU over one raw connection with no client logic at all (written ahead, up to the
// given number unanswered): what the SMSC itself can take.
//
//	NUMAUTH_TEST_NODE_SMPP=1 go test ./smpp -run '^$' -bench BenchmarkSubmit -benchtime 20000x
func BenchmarkSubmit(b *testing.B) {
	for _, tc := range []struct{ sessions, window int }{{1, 10}, {1, 64}, {4, 64}} {
		b.Run(fmt.Sprintf("sessions=%d/window=%d", tc.sessions, tc.window), func(b *testing.B) {
			smsc := startSMSC(b)
			smsc.command(map[string]any{"cmd": "config", "quiet": true})
			cfg := smsc.config(b)
			cfg.Sessions, cfg.Window = tc.sessions, tc.window
			c := mustOpenChannel(b, cfg, channelOptions())
			waitBound(b, c)
			m := message("Your numauth code is 123456. It expires in 5 minutes.")
			var left atomic.Int64
			left.Store(int64(b.N))
			var failed atomic.Int64
			var firstErr atomic.Pointer[string]
			run := measure(b, smsc, func() {
				var wg sync.WaitGroup
				for range tc.sessions * tc.window {
					wg.Go(func() {
						for left.Add(-1) >= 0 {
							out, detail, _ := c.Deliver(context.Background(), m)
							if out != numauth.DeliverySent {
								failed.Add(1)
								firstErr.CompareAndSwap(nil, &detail)
							}
						}
					})
				}
				wg.Wait()
			})
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d submits not accepted; first: %s", n, b.N, *firstErr.Load())
			}
			run.report(b)
		})
	}
	for _, window := range []int{64, 1000} {
		b.Run(fmt.Sprintf("ceiling/raw/window=%d", window), func(b *testing.B) {
			smsc := startSMSC(b)
			smsc.command(map[string]any{"cmd": "config", "quiet": true})
			nc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(smsc.port)))
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			r := bufio.NewReader(nc)
			mustWrite(b, nc, &PDU{Command: BindTransceiver, Sequence: 1, Body: &Bind{SystemID: "numauth", Password: "secret", InterfaceVersion: 0x34}})
			if p, err := ReadPDU(r); err != nil || p.Status != StatusOK {
				b.Fatalf("bind: %v %v", p, err)
			}
			parts, _ := EncodeText("Your numauth code is 123456. It expires in 5 minutes.", LongUDH, 1)
			sm := &ShortMessage{SourceAddrTON: 5, SourceAddr: "NUMAUTH", DestAddrTON: 1, DestAddrNPI: 1,
				DestinationAddr: "8613800138000", RegisteredDelivery: 1, ShortMessage: parts[0].ShortMessage}
			run := measure(b, smsc, func() {
				sem := make(chan struct{}, window)
				done := make(chan error, 1)
				go func() {
					for i := 0; i < b.N; i++ {
						p, err := ReadPDU(r)
						if err == nil && (p.Command != SubmitSMResp || p.Status != StatusOK) {
							err = fmt.Errorf("answer %v %v", p.Command, p.Status)
						}
						if err != nil {
							done <- err
							return
						}
						<-sem
					}
					done <- nil
				}()
				w := bufio.NewWriter(nc)
				for i := 0; i < b.N; i++ {
					select {
					case sem <- struct{}{}:
					default:
						w.Flush() // full window: send what is buffered, then wait for answers
						select {
						case sem <- struct{}{}:
						case err := <-done: // the reader stopped early
							b.Fatalf("reading answers: %v", err)
						}
					}
					buf, _ := (&PDU{Command: SubmitSM, Sequence: uint32(i + 2), Body: sm}).MarshalBinary()
					w.Write(buf)
				}
				w.Flush()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			})
			run.report(b)
		})
	}
}

func mustWrite(b *testing.B, nc net.Conn, p *PDU) {
	buf, err := p.MarshalBinary()
	if err == nil {
		_, err = nc.Write(buf)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// benchRun is one timed run with the CPU the SMSC and this process used.
type benchRun struct {
	n                    int
	wall, smscCPU, goCPU time.Duration
}

func measure(b *testing.B, smsc *testSMSC, f func()) benchRun {
	pid := smsc.cmd.Process.Pid
	node0, self0 := procCPU(b, pid), selfCPU()
	b.ResetTimer()
	start := time.Now()
	f()
	wall := time.Since(start)
	b.StopTimer()
	return benchRun{n: b.N, wall: wall, smscCPU: procCPU(b, pid) - node0, goCPU: selfCPU() - self0}
}

func (r benchRun) report(b *testing.B) {
	b.ReportMetric(float64(r.n)/r.wall.Seconds(), "msgs/s")
	b.ReportMetric(100*r.smscCPU.Seconds()/r.wall.Seconds(), "smsc-cpu-%")
	b.ReportMetric(100*r.goCPU.Seconds()/r.wall.Seconds(), "go-cpu-%")
}

// procCPU reads a process's user and system time from /proc (in clock ticks of 10ms, Linux's USER_HZ).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
