package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery"
	"github.com/numauth/numauth/delivery/deliverytest"
	"github.com/numauth/numauth/numauthtest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// channel is a numauth.Channel that answers with deliver and counts what it was given.
type channel struct {
	name    string
	deliver func(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error)

	mu    sync.Mutex
	count map[string]int // deliveries per message id
}

func newChannel(name string, deliver func(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error)) *channel {
	return &channel{name: name, deliver: deliver, count: make(map[string]int)}
}

func answer(o numauth.DeliveryOutcome, detail string, err error) func(context.Context, *numauth.Message) (numauth.DeliveryOutcome, string, error) {
	return func(context.Context, *numauth.Message) (numauth.DeliveryOutcome, string, error) {
		return o, detail, err
	}
}

func (c *channel) Name() string { return c.name }

func (c *channel) Deliver(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error) {
	c.mu.Lock()
	c.count[m.ID]++
	c.mu.Unlock()
	return c.deliver(ctx, m)
}

func (c *channel) deliveries(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[id]
}

// MustWorker returns a worker over cfg with test defaults: the clock stopped at epoch, no jitter, no logs,
// and a poll interval of an hour, so that only Notify and full batches make it claim again.
func MustWorker(tb testing.TB, cfg delivery.Config) *delivery.Worker {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Rand == nil {
		cfg.Rand = func() float64 { return 0 }
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Hour
	}
	w, err := delivery.NewWorker(cfg)
	if err != nil {
		tb.Fatalf("NewWorker: %v", err)
	}
	return w
}

// start runs w until the returned stop is called (or the test ends); stop returns what Run returned.
func start(tb testing.TB, w *delivery.Worker) (stop func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	tb.Cleanup(func() { stop() })
	return stop
}

func TestWorkerDelivers(t *testing.T) {
	errBusy := errors.New("carrier busy")
	tests := []struct {
		name    string
		msg     numauth.Message
		answer  func(context.Context, *numauth.Message) (numauth.DeliveryOutcome, string, error)
		reached int // how many times the sms channel should have seen the message

		wantStatus  numauth.MessageStatus
		wantOutcome numauth.DeliveryOutcome
		wantDetail  string
		wantNext    time.Duration // after epoch, for a retry
	}{{
		name:        "sent through the named channel",
		msg:         numauth.Message{Channel: "sms"},
		answer:      answer(numauth.DeliverySent, "accepted", nil),
		reached:     1,
		wantStatus:  numauth.MessageSent,
		wantOutcome: numauth.DeliverySent,
		wantDetail:  "accepted",
	}, {
		name:        "recorded by the outbox channel",
		msg:         numauth.Message{Channel: "outbox"},
		answer:      answer(numauth.DeliverySent, "the sms channel must not see this", nil),
		wantStatus:  numauth.MessageSent,
		wantOutcome: numauth.DeliverySent,
		wantDetail:  "recorded in the outbox",
	}, {
		name:        "delivered",
		msg:         numauth.Message{Channel: "sms"},
		answer:      answer(numauth.DeliveryDelivered, "receipt 7", nil),
		reached:     1,
		wantStatus:  numauth.MessageDelivered,
		wantOutcome: numauth.DeliveryDelivered,
		wantDetail:  "receipt 7",
	}, {
		name:        "failed for good",
		msg:         numauth.Message{Channel: "sms"},
		answer:      answer(numauth.DeliveryFailed, "number barred", nil),
		reached:     1,
		wantStatus:  numauth.MessageFailed,
		wantOutcome: numauth.DeliveryFailed,
		wantDetail:  "number barred",
	}, {
		name:        "failed on an unknown channel",
		msg:         numauth.Message{Channel: "carrier-pigeon"},
		answer:      answer(numauth.DeliverySent, "", nil),
		wantStatus:  numauth.MessageFailed,
		wantOutcome: numauth.DeliveryFailed,
		wantDetail:  `unknown channel "carrier-pigeon" (this worker has: outbox, sms)`,
	}, {
		name:        "failed for voice on a channel that cannot speak",
		msg:         numauth.Message{Channel: "sms", Kind: numauth.MessageVoice},
		answer:      answer(numauth.DeliverySent, "the sms channel must not see this", nil),
		wantStatus:  numauth.MessageFailed,
		wantOutcome: numauth.DeliveryFailed,
		wantDetail:  "channel sms cannot send voice messages",
	}, {
		name:        "recorded for voice by the outbox channel",
		msg:         numauth.Message{Channel: "outbox", Kind: numauth.MessageVoice},
		answer:      answer(numauth.DeliverySent, "the sms channel must not see this", nil),
		wantStatus:  numauth.MessageSent,
		wantOutcome: numauth.DeliverySent,
		wantDetail:  "recorded in the outbox",
	}, {
		name:        "sent without a channel for a test number",
		msg:         numauth.Message{Channel: "sms", Test: true},
		answer:      answer(numauth.DeliveryFailed, "a test number reached the channel", nil),
		wantStatus:  numauth.MessageSent,
		wantOutcome: numauth.DeliverySent,
		wantDetail:  "test number: kept in the outbox",
	}, {
		name:        "retried after a retry answer",
		msg:         numauth.Message{Channel: "sms"},
		answer:      answer(numauth.DeliveryRetry, "HTTP 503", nil),
		reached:     1,
		wantStatus:  numauth.MessageQueued,
		wantOutcome: numauth.DeliveryRetry,
		wantDetail:  "HTTP 503",
		wantNext:    5 * time.Second,
	}, {
		name:        "retried after an error, whose text is the detail",
		msg:         numauth.Message{Channel: "sms"},
		answer:      answer(numauth.DeliverySent, "ignored", errBusy),
		reached:     1,
		wantStatus:  numauth.MessageQueued,
		wantOutcome: numauth.DeliveryRetry,
		wantDetail:  "carrier busy",
		wantNext:    5 * time.Second,
	}, {
		name:        "retried after an unknown outcome",
		msg:         numauth.Message{Channel: "sms"},
		answer:      answer("maybe", "hmm", nil),
		reached:     1,
		wantStatus:  numauth.MessageQueued,
		wantOutcome: numauth.DeliveryRetry,
		wantDetail:  `channel sms answered unknown outcome "maybe": hmm`,
		wantNext:    5 * time.Second,
	}, {
		name: "retried after a panic",
		msg:  numauth.Message{Channel: "sms"},
		answer: func(context.Context, *numauth.Message) (numauth.DeliveryOutcome, string, error) {
			panic("channel bug")
		},
		reached:     1,
		wantStatus:  numauth.MessageQueued,
		wantOutcome: numauth.DeliveryRetry,
		wantDetail:  "channel sms panicked",
		wantNext:    5 * time.Second,
	}, {
		name:        "recorded with a clean detail",
		msg:         numauth.Message{Channel: "sms"},
		answer:      answer(numauth.DeliverySent, "nul\x00 and bad \xff utf-8", nil),
		reached:     1,
		wantStatus:  numauth.MessageSent,
		wantOutcome: numauth.DeliverySent,
		wantDetail:  "nul and bad \uFFFD utf-8",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := numauthtest.NewClock(epoch)
			outbox := deliverytest.NewOutbox(clock)
			sms := newChannel("sms", tt.answer)
			w := MustWorker(t, delivery.Config{
				Outbox:   outbox,
				Channels: []numauth.Channel{delivery.OutboxChannel{}, sms},
				Clock:    clock,
			})
			m := outbox.Enqueue(tt.msg)
			start(t, w)
			outbox.WaitRecorded(t, 1)

			got := outbox.Attempts(m.ID)
			want := []numauth.DeliveryAttempt{{MessageID: m.ID, Number: 1, At: epoch, Outcome: tt.wantOutcome, Detail: tt.wantDetail}}
			if accepted := tt.wantOutcome == numauth.DeliverySent || tt.wantOutcome == numauth.DeliveryDelivered; accepted && !tt.msg.Test {
				// An accepted attempt names the channel that took it.
				want[0].Channel = tt.msg.Channel
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			after := outbox.Message(m.ID)
			if got, want := after.Status, tt.wantStatus; got != want {
				t.Errorf("status = %s, want %s", got, want)
			}
			if tt.wantNext != 0 {
				if got, want := after.NextAttemptAt, epoch.Add(tt.wantNext); !got.Equal(want) {
					t.Errorf("next attempt at %v, want %v", got, want)
				}
			}
			if got, want := sms.deliveries(m.ID), tt.reached; got != want {
				t.Errorf("sms channel saw the message %d times, want %d", got, want)
			}
		})
	}
}

// TestWorkerRetryBackoff follows one message that always fails for now through its attempts, moving the
// clock to each retry time and waking the worker with Notify.
func TestWorkerRetryBackoff(t *testing.T) {
	tests := []struct {
		name   string
		rand   float64
		delays []time.Duration // after attempts 1, 2, ...
	}{{
		name: "full delays without jitter",
		rand: 0,
		delays: []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second,
			80 * time.Second, 160 * time.Second, 320 * time.Second, 10 * time.Minute, 10 * time.Minute},
	}, {
		name: "delays shortened by half the jitter",
		rand: 0.5, // takes off 0.2*0.5 = 10%
		delays: []time.Duration{4500 * time.Millisecond, 9 * time.Second, 18 * time.Second, 36 * time.Second,
			72 * time.Second, 144 * time.Second, 288 * time.Second, 9 * time.Minute, 9 * time.Minute},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := numauthtest.NewClock(epoch)
			outbox := deliverytest.NewOutbox(clock)
			outbox.MaxAttempts = len(tt.delays) + 1
			sms := newChannel("sms", answer(numauth.DeliveryRetry, "HTTP 500", nil))
			w := MustWorker(t, delivery.Config{
				Outbox:   outbox,
				Channels: []numauth.Channel{sms},
				Clock:    clock,
				Rand:     func() float64 { return tt.rand },
			})
			m := outbox.Enqueue(numauth.Message{Channel: "sms"})
			start(t, w)

			for i, d := range tt.delays {
				outbox.WaitRecorded(t, i+1)
				now := clock.Now()
				got := outbox.Message(m.ID)
				if got.Status != numauth.MessageQueued {
					t.Fatalf("after attempt %d: status = %s, want %s", i+1, got.Status, numauth.MessageQueued)
				}
				if got, want := got.NextAttemptAt.Sub(now), d; got != want {
					t.Errorf("after attempt %d: retry in %v, want %v", i+1, got, want)
				}
				clock.Set(got.NextAttemptAt)
				w.Notify()
			}
			outbox.WaitRecorded(t, len(tt.delays)+1)
			if got, want := outbox.Message(m.ID).Status, numauth.MessageFailed; got != want {
				t.Errorf("after the last attempt: status = %s, want %s", got, want)
			}
			if got, want := sms.deliveries(m.ID), len(tt.delays)+1; got != want {
				t.Errorf("channel saw the message %d times, want %d", got, want)
			}
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		name    string
		backoff delivery.Backoff
		attempt int
		rand    float64
		want    time.Duration
	}{
		{"base after the first attempt", delivery.Backoff{}, 1, 0, 5 * time.Second},
		{"doubled after the second", delivery.Backoff{}, 2, 0, 10 * time.Second},
		{"capped at ten minutes", delivery.Backoff{}, 8, 0, 10 * time.Minute},
		{"capped for huge attempt numbers", delivery.Backoff{}, 1 << 30, 0, 10 * time.Minute},
		{"base for attempt zero", delivery.Backoff{}, 0, 0, 5 * time.Second},
		{"shortened by at most the jitter", delivery.Backoff{}, 1, 0.999999, 4*time.Second + time.Microsecond},
		{"never over the cap with jitter", delivery.Backoff{}, 20, 0.5, 9 * time.Minute},
		{"custom", delivery.Backoff{Base: time.Second, Max: 3 * time.Second, Jitter: 0.5}, 3, 1, 1500 * time.Millisecond},
		{"without jitter", delivery.Backoff{Jitter: -1}, 2, 0.9, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.backoff.Delay(tt.attempt, tt.rand); got != tt.want {
				t.Errorf("Delay(%d, %v) = %v, want %v", tt.attempt, tt.rand, got, tt.want)
			}
		})
	}
}

func TestWorkerNotify(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewOutbox(clock)
	w := MustWorker(t, delivery.Config{
		Outbox:       outbox,
		Channels:     []numauth.Channel{delivery.OutboxChannel{}},
		Clock:        clock,
		PollInterval: time.Hour, // without Notify, the message would wait an hour
	})
	start(t, w)
	outbox.WaitClaims(t, 1) // the first claim found nothing; the worker is idle

	m := outbox.Enqueue(numauth.Message{Channel: "outbox"})
	w.Notify()
	outbox.WaitRecorded(t, 1)
	if got, want := outbox.Message(m.ID).Status, numauth.MessageSent; got != want {
		t.Errorf("status = %s, want %s", got, want)
	}
}

func TestWorkerReclaimsAfterFullBatch(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewOutbox(clock)
	const n = 25
	for range n {
		outbox.Enqueue(numauth.Message{Channel: "outbox"})
	}
	w := MustWorker(t, delivery.Config{
		Outbox:       outbox,
		Channels:     []numauth.Channel{delivery.OutboxChannel{}},
		Clock:        clock,
		Concurrency:  3,
		PollInterval: time.Hour, // only full batches may make it claim again
	})
	start(t, w)
	outbox.WaitRecorded(t, n)
}

// TestWorkersNeverDeliverTwice runs several workers over one outbox: every message reaches the channel
// exactly once. Run it with -race.
func TestWorkersNeverDeliverTwice(t *testing.T) {
	const workers, messages = 4, 500
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewOutbox(clock)
	sms := newChannel("sms", answer(numauth.DeliverySent, "ok", nil))
	ids := make([]string, messages)
	for i := range ids {
		ids[i] = outbox.Enqueue(numauth.Message{Channel: "sms"}).ID
	}
	seen := make(map[string]bool)
	for range workers {
		w := MustWorker(t, delivery.Config{
			Outbox:       outbox,
			Channels:     []numauth.Channel{sms},
			Clock:        clock,
			Concurrency:  8,
			BatchSize:    5,
			PollInterval: time.Millisecond, // idle workers keep competing for claims
		})
		if seen[w.ID()] {
			t.Fatalf("two workers share the id %s", w.ID())
		}
		seen[w.ID()] = true
		start(t, w)
	}
	outbox.WaitRecorded(t, messages)

	for _, id := range ids {
		if got, want := sms.deliveries(id), 1; got != want {
			t.Errorf("message %s delivered %d times, want %d", id, got, want)
		}
		if got, want := outbox.Message(id).Status, numauth.MessageSent; got != want {
			t.Errorf("message %s: status = %s, want %s", id, got, want)
		}
	}
	if got := outbox.Conflicts(); got != 0 {
		t.Errorf("%d attempts recorded without the lease, want 0", got)
	}
}

// TestWorkerLeaseLost: a worker that stalls past its lease loses the message to another worker; its late
// record is refused and the other worker's attempt is the one that counts.
func TestWorkerLeaseLost(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewOutbox(clock)
	started, release := make(chan struct{}), make(chan struct{})
	slow := newChannel("sms", func(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error) {
		close(started)
		<-release
		return numauth.DeliverySent, "slow", nil
	})
	fast := newChannel("sms", answer(numauth.DeliverySent, "fast", nil))
	m := outbox.Enqueue(numauth.Message{Channel: "sms"})

	a := MustWorker(t, delivery.Config{Outbox: outbox, Channels: []numauth.Channel{slow}, Clock: clock, WorkerID: "a"})
	start(t, a)
	<-started

	clock.Advance(delivery.DefaultLease)
	b := MustWorker(t, delivery.Config{Outbox: outbox, Channels: []numauth.Channel{fast}, Clock: clock, WorkerID: "b"})
	start(t, b)
	outbox.WaitRecorded(t, 1)
	close(release)
	outbox.Wait(t, "the late record refused", func() bool { return outbox.Conflicts() == 1 })

	want := []numauth.DeliveryAttempt{{MessageID: m.ID, Number: 1, At: clock.Now(), Outcome: numauth.DeliverySent, Detail: "fast", Channel: "sms"}}
	if diff := cmp.Diff(want, outbox.Attempts(m.ID)); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

func TestWorkerShutdown(t *testing.T) {
	t.Run("waits for the attempt in flight", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		outbox := deliverytest.NewOutbox(clock)
		started, release := make(chan struct{}), make(chan struct{})
		sms := newChannel("sms", func(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error) {
			close(started)
			<-release
			if err := ctx.Err(); err != nil {
				return numauth.DeliveryRetry, "", err
			}
			return numauth.DeliverySent, "finished", nil
		})
		m := outbox.Enqueue(numauth.Message{Channel: "sms"})
		w := MustWorker(t, delivery.Config{
			Outbox: outbox, Channels: []numauth.Channel{sms}, Clock: clock,
			ShutdownTimeout: time.Hour,
		})
		stop := start(t, w)
		<-started

		stopped := make(chan error, 1)
		go func() { stopped <- stop() }()
		select {
		case err := <-stopped:
			t.Fatalf("Run returned %v with an attempt in flight", err)
		default:
		}
		close(release)
		if err := <-stopped; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		// Run has returned, so the attempt must be recorded already: no waiting.
		if got, want := outbox.Message(m.ID).Status, numauth.MessageSent; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
	})

	t.Run("cancels the attempt in flight after the shutdown timeout", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		outbox := deliverytest.NewOutbox(clock)
		started := make(chan struct{})
		sms := newChannel("sms", func(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error) {
			close(started)
			<-ctx.Done()
			return numauth.DeliveryRetry, "", ctx.Err()
		})
		m := outbox.Enqueue(numauth.Message{Channel: "sms"})
		w := MustWorker(t, delivery.Config{
			Outbox: outbox, Channels: []numauth.Channel{sms}, Clock: clock,
			ShutdownTimeout: -1, // cancel at once
		})
		stop := start(t, w)
		<-started
		if err := stop(); err != nil {
			t.Errorf("Run = %v, want nil", err)
		}

		want := []numauth.DeliveryAttempt{{MessageID: m.ID, Number: 1, At: epoch, Outcome: numauth.DeliveryRetry,
			Detail: "interrupted by shutdown: context canceled"}}
		if diff := cmp.Diff(want, outbox.Attempts(m.ID)); diff != "" {
			t.Errorf("attempts (-want +got):\n%s", diff)
		}
		after := outbox.Message(m.ID)
		if got, want := after.Status, numauth.MessageQueued; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
		if got, want := after.NextAttemptAt, epoch; !got.Equal(want) {
			t.Errorf("next attempt at %v, want %v (at once: the shutdown was not the message's fault)", got, want)
		}
	})

	t.Run("claims nothing more", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		outbox := deliverytest.NewOutbox(clock)
		w := MustWorker(t, delivery.Config{Outbox: outbox, Channels: []numauth.Channel{delivery.OutboxChannel{}}, Clock: clock})
		stop := start(t, w)
		outbox.WaitClaims(t, 1)
		if err := stop(); err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		m := outbox.Enqueue(numauth.Message{Channel: "outbox"})
		w.Notify()
		if got, want := outbox.Message(m.ID).Status, numauth.MessageQueued; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
		if got, want := outbox.Claims(), 1; got != want {
			t.Errorf("%d claims, want %d", got, want)
		}
	})
}

func TestWorkerRunsOnce(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewOutbox(clock)
	w := MustWorker(t, delivery.Config{Outbox: outbox, Clock: clock})
	start(t, w)
	outbox.WaitClaims(t, 1)
	if err := w.Run(context.Background()); err == nil {
		t.Errorf("second Run = nil, want an error")
	}
}

// TestWorkerLogsNoSecrets: the logs say what happened to a message, but never carry its body (the code)
// or the phone number.
func TestWorkerLogsNoSecrets(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewOutbox(clock)
	var buf syncBuffer
	w := MustWorker(t, delivery.Config{
		Outbox:   outbox,
		Channels: []numauth.Channel{delivery.OutboxChannel{}},
		Clock:    clock,
		Logger:   slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	m := outbox.Enqueue(numauth.Message{Channel: "outbox", Phone: "+8613800138000", Body: "Your code is 915273"})
	stop := start(t, w)
	outbox.WaitRecorded(t, 1)
	stop()

	logs := buf.String()
	for _, want := range []string{`"message_id":"` + m.ID + `"`, `"channel":"outbox"`, `"outcome":"sent"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"915273", "13800138000"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestNewWorkerRefuses(t *testing.T) {
	outbox := deliverytest.NewOutbox(numauthtest.NewClock(epoch))
	tests := []struct {
		name string
		cfg  delivery.Config
		want string
	}{
		{"no outbox", delivery.Config{}, "Outbox is required"},
		{"two channels with one name", delivery.Config{Outbox: outbox,
			Channels: []numauth.Channel{delivery.OutboxChannel{}, delivery.OutboxChannel{}}}, `two channels are named "outbox"`},
		{"a lease no longer than an attempt", delivery.Config{Outbox: outbox,
			Lease: 10 * time.Second, AttemptTimeout: 10 * time.Second}, "must be longer than the attempt timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := delivery.NewWorker(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewWorker = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestDefaultWorkerIDsDiffer(t *testing.T) {
	outbox := deliverytest.NewOutbox(numauthtest.NewClock(epoch))
	ids := make(map[string]bool)
	for i := range 10 {
		w := MustWorker(t, delivery.Config{Outbox: outbox})
		if ids[w.ID()] {
			t.Fatalf("worker %d: id %s repeats", i, w.ID())
		}
		ids[w.ID()] = true
	}
}

// failingOutbox fails the first claims it is asked for, as a database that is down would.
type failingOutbox struct {
	*deliverytest.Outbox
	failures atomic.Int32
}

func (o *failingOutbox) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]*numauth.Message, error) {
	if o.failures.Add(-1) >= 0 {
		return nil, errors.New("database is down")
	}
	return o.Outbox.Claim(ctx, worker, n, lease)
}

func TestWorkerSurvivesClaimErrors(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := &failingOutbox{Outbox: deliverytest.NewOutbox(clock)}
	outbox.failures.Store(3)
	m := outbox.Enqueue(numauth.Message{Channel: "outbox"})
	w := MustWorker(t, delivery.Config{
		Outbox:       outbox,
		Channels:     []numauth.Channel{delivery.OutboxChannel{}},
		Clock:        clock,
		PollInterval: time.Millisecond, // the waits after errors grow from here
	})
	start(t, w)
	outbox.WaitRecorded(t, 1)
	if got, want := outbox.Message(m.ID).Status, numauth.MessageSent; got != want {
		t.Errorf("status = %s, want %s", got, want)
	}
}

// submitter is a channel that reports the provider's ids of what it accepts.
type submitter struct{ ids []string }

func (submitter) Name() string { return "smsc" }
func (s submitter) Deliver(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error) {
	return numauth.DeliveryFailed, "Submit, not Deliver, is called", nil
}
func (s submitter) Submit(ctx context.Context, m *numauth.Message) (numauth.Submission, error) {
	return numauth.Submission{Outcome: numauth.DeliverySent, Detail: "accepted", ProviderIDs: s.ids}, nil
}

func TestWorkerRecordsProviderIDs(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewOutbox(clock)
	w := MustWorker(t, delivery.Config{Outbox: outbox, Channels: []numauth.Channel{submitter{ids: []string{"6699", "6700"}}}, Clock: clock})
	m := outbox.Enqueue(numauth.Message{Channel: "smsc"})
	start(t, w)
	outbox.WaitRecorded(t, 1)
	got := outbox.Message(m.ID)
	if got.Status != numauth.MessageSent || got.Channel != "smsc" || got.ProviderMessageID != "6699,6700" {
		t.Errorf("message: got %s on %q with ids %q, want sent on smsc with 6699,6700", got.Status, got.Channel, got.ProviderMessageID)
	}
}
