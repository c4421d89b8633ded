package console

// WaitSent waits until every withdrawal code queued so far has been sent or dropped.
func (h *Handler) WaitSent() {
	h.mu.Lock()
	for h.pending > 0 {
		h.idle.Wait()
	}
	h.mu.Unlock()
}

// WithdrawalSenders is how many withdrawal codes Run sends at once.
const WithdrawalSenders = withdrawalSenders

// ClientKey is what the per-client limit counts an address under.
var ClientKey = clientKey
