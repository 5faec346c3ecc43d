// Package pathway plans careers in medical records and health information:
// which credentials a seeker may sit for today, what blocks the others, what
// to do next, the shortest route to a target credential, and when each held
// credential must be renewed.
//
// The rules live in data, not code: catalog.yaml (embedded, versioned) lists
// education steps, trainings, credentials, roles and issuers, each fact with
// its confidence (confirmed, secondary, estimate or unknown) and its source.
// LoadCatalog validates it (duplicate or unknown codes, dangling or cyclic
// prerequisites, facts without a source) so a bad edit fails at load, not in
// front of a user. Unknown facts stay unknown: the engine never fills a gap
// with a guess, and reports "eligibility rules unknown" instead.
//
// The package is pure: it does no I/O besides parsing the bytes it is given
// and never reads the clock; callers pass "today" in Options.
package pathway
