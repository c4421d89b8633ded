package numauth

// Stores are every storage service of one installation, built together by one constructor (sqlstore's
// NewStores) so that the server, the admin commands and the tests never keep their own lists.
type Stores struct {
	Accounts       AccountService
	Schemes        SchemeService
	Authorizations AuthorizationService
	Codes          CodeService
	Outbox         Outbox
	Callbacks      CallbackOutbox
	CarrierTokens  CarrierTokens
	Submail        SubmailService
	Billing        BillingService
	VerifySchemes  VerifySchemeService
	Letters        LetterService
	Qualifications QualificationService
	Signs          SignService
	CAMS           CAMSService
	Templates      TemplateService
	Servers        ServerRegistry
	Storage        StorageService
	Retention      RetentionStore
	Routing        RoutingService
}
