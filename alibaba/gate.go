package alibaba

import (
	"context"
	"strconv"
	"time"

	"github.com/numauth/numauth"
)

// TimestampWindow is how far a request's timestamp may be from server time, either side.
const TimestampWindow = 15 * time.Minute

// authenticate establishes who is calling, in the gateway's order: the access key, the signature, then the
// timestamp and the nonce. The nonce is recorded only once the signature is proven, so nobody can burn
// another caller's nonces.
func (s *Server) authenticate(ctx context.Context, q *Request, now time.Time) (*numauth.Credential, error) {
	cred, err := s.cfg.Credentials.FindCredential(ctx, q.AccessKeyID)
	if numauth.ErrorKindOf(err) == numauth.ENOTFOUND {
		return nil, &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonAccessKeyNotFound, Internal: "access key " + q.AccessKeyID}
	} else if err != nil {
		return nil, err
	}
	if !cred.Key.Enabled {
		return nil, &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonAccessKeyDisabled, Internal: "access key " + q.AccessKeyID}
	}
	if err := q.VerifySignature(cred.Key.Secret); err != nil {
		return nil, err
	}
	ts, err := q.Time()
	if err != nil {
		return nil, err
	}
	if ts.Before(now.Add(-TimestampWindow)) || ts.After(now.Add(TimestampWindow)) {
		return nil, &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampExpired,
			Internal: "timestamp " + q.Timestamp + " at " + now.UTC().Format(time.RFC3339)}
	}
	// A nonce needs remembering only while its request's timestamp is inside the window: after that the
	// replay is refused as expired anyway.
	fresh, err := s.cfg.Nonces.Use(ctx, q.AccessKeyID+"\x00"+q.Nonce, ts.Add(TimestampWindow), now)
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonNonceUsed, Internal: "nonce " + q.Nonce}
	}
	return cred, nil
}

// admit decides whether an authenticated caller may run the action now: account state, subscription,
// policy, then the per-account, per-action rate limit, so that refused calls do not use up the quota.
func (s *Server) admit(ctx context.Context, a *action, cred *numauth.Credential, now time.Time) error {
	if cred.Account.State != numauth.AccountActive {
		return &numauth.Error{Kind: numauth.ESUSPENDED, Internal: "account " + strconv.FormatInt(cred.Account.ID, 10) + " is " + string(cred.Account.State)}
	}
	if !cred.Subscribed(a.product.subscription) {
		return &numauth.Error{Kind: numauth.EUNSUBSCRIBED, Internal: string(a.product.subscription) + " is not subscribed"}
	}
	resource := "acs:" + a.product.ramCode + ":*:" + strconv.FormatInt(cred.Account.ID, 10) + ":*"
	if err := cred.Authorize(a.product.ramCode+":"+a.name, resource); err != nil {
		return err
	}
	key := a.quotaKey()
	limit, ok := cred.Quotas[key]
	if !ok {
		limit, ok = numauth.DefaultQPS[key]
	}
	if !ok {
		limit = numauth.FallbackQPS
	}
	allowed, wait, err := s.cfg.Limiter.Allow(ctx, strconv.FormatInt(cred.Account.ID, 10)+"/"+key, limit, time.Second, now)
	if err != nil {
		return err
	}
	if !allowed {
		return &numauth.Error{Kind: numauth.ETHROTTLED, RetryAfter: wait, Internal: key + " over " + strconv.Itoa(limit) + "/s"}
	}
	return nil
}
