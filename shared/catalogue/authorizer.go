package catalogue

import "time"

// The API's Lambda authorizer as API Gateway runs it: the identity sources whose
// values must all be present (else API Gateway answers 401 itself) and form the
// key its answers are cached under, and how long an answer is cached. The CDK
// stack deploys these and the local gateway emulates them.
//
// A cached simple response allows or denies every route for those identity
// values, so the authorizer decides who the caller is from the Authorization
// header alone; route scopes are checked by the handler (shared/api). A key
// revoked, or a staff member disabled or given another role, therefore takes
// effect within AuthorizerCacheTTL, not on the next request.
var AuthorizerIdentitySources = []string{"$request.header.Authorization"}

// AuthorizerCacheTTL is AuthorizerResultTtlInSeconds (0 to 3600 s; 0 disables
// caching).
const AuthorizerCacheTTL = 30 * time.Second
