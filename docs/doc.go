// Package docs carries the project's documents that the binary serves.
//
// The Markdown files beside it are for people; the only file compiled in is
// openapi.yaml, the HTTP contract, which the api package serves at
// GET /openapi.yaml and checks its router and responses against in tests.
// Keeping the canonical file here (rather than a copy under api/) means the
// document people edit is the document the server ships: go:embed cannot reach
// a parent directory, so this small package exists to do the embedding.
package docs
