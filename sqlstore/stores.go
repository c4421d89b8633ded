package sqlstore

import "github.com/numauth/numauth"

// NewStores builds every storage service over db: the one list of them, used by `serve`, the admin
// commands and the tests. codeKey (at least 32 bytes) keys the hashes verification codes are stored as;
// every process sharing the database needs the same one (see NewCodeService).
func NewStores(db *DB, codeKey []byte) (numauth.Stores, error) {
	codes, err := NewCodeService(db, codeKey)
	if err != nil {
		return numauth.Stores{}, err
	}
	return numauth.Stores{
		Accounts:       NewAccountService(db),
		Schemes:        NewSchemeService(db),
		Authorizations: NewAuthorizationService(db, codes),
		Codes:          codes,
		Outbox:         NewOutbox(db),
		Callbacks:      NewCallbackOutbox(db),
		CarrierTokens:  NewCarrierTokens(db),
		Submail:        NewSubmailService(db),
		Billing:        NewBillingService(db),
		VerifySchemes:  NewVerifySchemeService(db),
		Letters:        NewLetterService(db),
		Qualifications: NewQualificationService(db),
		Signs:          NewSignService(db),
		CAMS:           NewCAMSService(db),
		Templates:      NewTemplateService(db),
		Servers:        NewServerRegistry(db),
		Storage:        NewStorageService(db),
		Retention:      NewRetentionStore(db),
		Routing:        NewRoutingService(db),
	}, nil
}
