package console

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/numauth/numauth"
)

// DefaultSendQueue is how many withdrawal codes may wait for a sender by default.
const DefaultSendQueue = 1024

const (
	// withdrawalSenders is how many withdrawal codes Run sends at once.
	withdrawalSenders = 4
	// withdrawalSendTimeout bounds one send: the lookup of the number's grants and the code's transaction.
	withdrawalSendTimeout = 30 * time.Second
)

// withdrawalSend is a withdrawal code asked for on the page, waiting for a sender.
type withdrawalSend struct {
	phone string // E.164
	lang  lang
	log   *slog.Logger // the request's, with its id
}

// expectWithdrawalCode counts a send as pending before its request is answered, so that whoever waits
// for the sends (WaitSent, in tests) after reading the answer waits for this one too. Queue it next.
func (h *Handler) expectWithdrawalCode() {
	h.mu.Lock()
	h.pending++
	h.mu.Unlock()
}

// queueWithdrawalCode hands s, counted by expectWithdrawalCode, to Run's senders without waiting. A full
// queue drops it with a log line: the visitor, told a code is on its way if the number has grants, asks
// again.
func (h *Handler) queueWithdrawalCode(s withdrawalSend) {
	select {
	case h.sends <- s:
	default:
		s.log.Warn("withdrawal code dropped: the send queue is full", "phone", numauth.MaskPhoneNumber(s.phone), "queue", cap(h.sends))
		h.sent()
	}
}

// sent records that a queued send is over.
func (h *Handler) sent() {
	h.mu.Lock()
	h.pending--
	if h.pending == 0 {
		h.idle.Broadcast()
	}
	h.mu.Unlock()
}

// Run sends the withdrawal codes the page queues until ctx ends, then sends those still queued (their
// visitors were told a code is on its way) and returns. Call it once; the server stops taking requests
// before it cancels ctx.
func (h *Handler) Run(ctx context.Context) error {
	// Sends outlive ctx by up to withdrawalSendTimeout each: a send cut off halfway helps nobody.
	base := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for range withdrawalSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case s := <-h.sends:
					h.sendWithdrawal(base, s)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	for {
		select {
		case s := <-h.sends:
			h.sendWithdrawal(base, s)
		default:
			return nil
		}
	}
}

// sendWithdrawal texts a withdrawal code to s's number if it has grants in force, and nothing otherwise.
func (h *Handler) sendWithdrawal(base context.Context, s withdrawalSend) {
	defer h.sent()
	ctx, cancel := context.WithTimeout(numauth.WithLogger(base, s.log), withdrawalSendTimeout)
	defer cancel()
	grants, err := h.grantsInForce(ctx, s.phone)
	if err != nil {
		s.log.Error("withdrawal code: find grants", "phone", numauth.MaskPhoneNumber(s.phone), "err", err)
		return
	}
	if len(grants) == 0 {
		return
	}
	err = h.sendCode(ctx, numauth.CodeRequest{
		AccountID: numauth.SystemAccountID,
		Scope:     numauth.WithdrawalCodeScope,
		Phone:     s.phone,
	}, s.lang.T("sms_app"), s.lang)
	switch numauth.ErrorKindOf(err) {
	case "":
	case numauth.ETHROTTLED, numauth.EDENIED:
		// The visitor is not told (that would say the number has grants): they find out by waiting.
		s.log.Info("withdrawal code not sent", "phone", numauth.MaskPhoneNumber(s.phone),
			"kind", numauth.ErrorKindOf(err), "reason", numauth.ErrorReasonOf(err))
	default:
		s.log.Error("withdrawal code not sent", "phone", numauth.MaskPhoneNumber(s.phone), "err", err)
	}
}
