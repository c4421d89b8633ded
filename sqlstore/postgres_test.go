package sqlstore

import (
	"testing"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/storetest"
)

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock numauth.Clock) storetest.Stores {
		return stores(mustOpen(t, numauthtest.NewPostgresSchema(t), clock))
	})
}
