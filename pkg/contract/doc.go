// Package contract holds, one package per service, the contracts between
// clerkpath's services: every request/reply endpoint as an
// rpc.Endpoint[Req, Rep] and every event as an events.Topic[T], with the
// request, reply and payload types.
//
//   - profilesapi: seekers, employers, counselors, consent (svc.profiles.*,
//     PROFILES events)
//   - credentialsapi: the catalog, credential records, plans
//     (svc.credentials.*, CREDENTIALS events)
//   - ingestapi: posting submission (svc.ingest.*, JOBS events)
//   - matchingapi: search, matches, candidates, caseload, market
//     (svc.matching.*, MATCHES events)
//   - gatewayapi: the access log (AUDIT events)
//
// A service imports its own contract package to bind its handlers; the
// gateway, the CLI, other services and the tests import it to call. Services
// never import each other. Each package lists its declarations in
// Endpoints() and Topics(); this package's tests check that no subject is
// declared twice or used as a literal elsewhere, that each topic is stored by
// the stream it names, and that docs/events.md and docs/asyncapi.yaml (the
// AsyncAPI 3.0 catalogue, generated from these declarations) are up to date.
package contract
