// Package synth generates a realistic, deterministic synthetic event log for
// benchmarks and load tests: a city's investment-attraction ledger over
// several years, with about a hundred units (counties, parks, departments),
// tens of thousands of projects going through every stage of their
// lifecycle, exclusivity claims and rejected reports, transfers, amendments,
// corrections, supervision orders, tolerance cases, targets, bonuses,
// policy versions and published assessments — every event kind the domain
// registers, with Chinese names and summaries of realistic size.
//
// Generate returns the log as recorded events with real positions, hash
// chains and recorded_at stamps, so a rebuild benchmark needs no store;
// Streams returns the same facts grouped per stream for appending to a real
// store. The same Config always yields byte-identical events.
package synth
