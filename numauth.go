// Package numauth is the domain of a self-hosted phone-number verification and SMS-compliance platform:
// accounts and their credentials, authorization schemes and requests, the errors every wire protocol
// translates, and the interfaces that storage and shared state implement.
//
// It imports no driver, no net/http and no Redis: those live in the packages named for them.
package numauth

import "time"

// Clock tells the time. Services take one so tests can move time instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Product is a service an account can subscribe to.
type Product string

// The products numauth serves.
const (
	ProductDypnsapi Product = "dypnsapi"
	ProductDysmsapi Product = "dysmsapi"
	ProductCAMS     Product = "cams"
	ProductSubmail  Product = "submail"
)

// Products lists every product, in a stable order.
var Products = []Product{ProductDypnsapi, ProductDysmsapi, ProductCAMS, ProductSubmail}

// ParseProduct returns the product named s.
func ParseProduct(s string) (Product, error) {
	for _, p := range Products {
		if string(p) == s {
			return p, nil
		}
	}
	return "", Errorf(EINVALID, ReasonMalformed, "unknown product %q", s)
}
