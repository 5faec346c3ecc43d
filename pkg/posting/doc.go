// Package posting turns job postings, as employers and job boards send them,
// into clerkpath's normalised Posting: what the job is (role, O*NET-SOC code),
// where it is, what it pays per hour and per year, and what it asks of a
// candidate (the routes, or ways to qualify, each of credential groups,
// education and experience; code sets, EHRs, skills). The ingest service is a thin adapter around it.
//
// The pipeline has three steps, each usable on its own:
//
//   - Decode reads a request body (JSON, NDJSON, CSV or schema.org JobPosting
//     JSON-LD) into a Batch of Raw records, checking shape and types. A bad
//     record becomes a RecordError; it never fails the whole batch.
//   - Normalize validates one Raw record's values and builds a Posting,
//     returning apierr field errors ("records[3].title") when it cannot.
//   - Extract reads a title and plain-text description and returns the
//     Requirements a careful reader would take from it, using an Aho-Corasick
//     automaton compiled once from dictionary.yaml.
//
// Fingerprint, SimHash and Hamming help de-duplicate: the fingerprint is the
// JetStream message id of a posting, and SimHash finds near-duplicates such
// as an agency re-posting an employer's job.
//
// Everything here is pure: no network, disk or clock (the caller passes
// "now"), and no mutable package state, so the package is deterministic,
// safe for concurrent use, table-testable and fuzzable.
package posting
