package numauth

import (
	"context"
	"time"
)

// RateLimiter admits events per key so that no window of the given length, wherever it starts, holds more
// than limit admitted events. Implementations are memory-bounded and fail closed: when they cannot decide
// they refuse.
type RateLimiter interface {
	// Allow admits one event for key at now, or refuses it and says how long until one could be admitted.
	Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// NonceCache remembers nonces so that each is accepted once.
type NonceCache interface {
	// Use records nonce until expires and reports whether it was fresh. A nonce already recorded and not
	// yet expired at now is not fresh. When the cache is at its bound it returns EUNAVAILABLE.
	Use(ctx context.Context, nonce string, expires, now time.Time) (fresh bool, err error)
}

// DefaultQPS holds the documented per-account QPS of each action, keyed "Product.Action".
var DefaultQPS = map[string]int{
	"Dypnsapi.GetAuthorizationUrl": 1000,

	"Dypnsapi.GetMobile":                      5000,
	"Dypnsapi.VerifyMobile":                   5000,
	"Dypnsapi.GetAuthToken":                   1000,
	"Dypnsapi.GetPhoneWithToken":              500,
	"Dypnsapi.VerifyPhoneWithToken":           1000,
	"Dypnsapi.CreateVerifyScheme":             100,
	"Dypnsapi.DescribeVerifyScheme":           100,
	"Dypnsapi.DeleteVerifyScheme":             100,
	"Dypnsapi.QueryGateVerifyBillingPublic":   500,
	"Dypnsapi.QueryGateVerifyStatisticPublic": 500,

	"Dysmsapi.GetSmsSign":        150,
	"Dysmsapi.AddSmsTemplate":    1000,
	"Dysmsapi.ModifySmsTemplate": 1000,
	"Dysmsapi.UpdateSmsTemplate": 1000,

	"cams.AddChatappPhoneNumber":            10,
	"cams.GetChatappVerifyCode":             10,
	"cams.ChatappVerifyAndRegister":         10,
	"cams.GetPhoneNumberVerificationStatus": 10,
	"cams.QueryChatappPhoneNumbers":         10,
	"cams.ChatappPhoneNumberDeregister":     10,
}

// FallbackQPS applies to an action with neither a documented default nor an override.
const FallbackQPS = 100
