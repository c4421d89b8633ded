package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/numauth/numauth"
)

// receiptTimeout bounds the recording of one receipt: past it the channel tells the provider to send the
// receipt again later.
const receiptTimeout = 10 * time.Second

// recordReceipt settles the message that channel accepted under providerID (smscID as the provider wrote
// it, for the log) with a receipt's state. A state that is not final is only logged. A receipt for no
// known message is logged and acknowledged: sending it again would not find one either.
func (m *Main) recordReceipt(log *slog.Logger, channel, smscID, providerID, state, errCode string, at time.Time) error {
	rs := numauth.ReceiptState(state)
	if !rs.Valid() {
		log.Debug("receipt not final", "provider_id", smscID, "state", state, "err", errCode)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), receiptTimeout)
	defer cancel()
	err := m.store.Outbox.RecordReceipt(ctx, channel, providerID, rs, errCode, at)
	if numauth.ErrorKindOf(err) == numauth.ENOTFOUND {
		log.Warn("receipt for no known message", "provider_id", smscID, "state", state, "err", errCode)
		return nil
	}
	return err
}

// Bounds of the receipt timeout sweep.
const (
	unreceiptedInterval = 30 * time.Second
	unreceiptedBatch    = 1000
)

// sweepUnreceipted ends expired, every unreceiptedInterval until ctx ends, the messages accepted more than
// timeout ago that no receipt settled, in batches that keep each transaction short. A timeout of 0 never
// expires them.
func sweepUnreceipted(ctx context.Context, outbox numauth.Outbox, timeout time.Duration, clock numauth.Clock, log *slog.Logger) {
	if timeout == 0 {
		return
	}
	t := time.NewTicker(unreceiptedInterval)
	defer t.Stop()
	for {
		for {
			n, err := outbox.ExpireUnreceipted(ctx, clock.Now().Add(-timeout), unreceiptedBatch)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("expire messages without receipt", "err", err)
				}
				break
			}
			if n > 0 {
				log.Info("messages expired without receipt", "count", n)
			}
			if n < unreceiptedBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
