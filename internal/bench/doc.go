// Package bench measures zhaoshang's end-to-end figures on the machine it
// runs on: what `zhaoshang bench` prints and docs/benchmarks.md explains.
//
// The machines these figures are taken on are shared and noisy, so no
// figure is reported alone: each stands beside a baseline measured in the
// same run, on the same store and cores, and the ratio between them is the
// figure meant to be compared across machines and commits. Figures that are
// compared take turns in interleaved rounds (load.run), so a neighbour's
// burst or a drift in the disk's fsync rate weighs on both sides of a
// ratio alike. The machine, its load average at the start and the end, and
// the settings are part of the report.
//
// # What is measured
//
//   - Write path: single-event appends to the bare store (the baseline);
//     RecordFunds and ReportProject handled in-process (authorise, load,
//     decide, append), against the bare appends; the same commands as HTTP
//     requests to the API served on 127.0.0.1 with a real bearer token,
//     against the in-process figure.
//   - Read path: the dashboard's common reads over HTTP against views
//     holding a generated log (projections/synth), against GET /healthz.
//   - Rebuild: the generated log replayed into every view in memory,
//     against a decode-only pass through the same pipeline; and the cold
//     start (open the store, replay to ready) from the store the log was
//     written into, against opening it and reading its log undecoded.
//
// # Where things are
//
//   - bench.go: Config, Wiring (how the caller composes the system, so the
//     bench measures the binary's own composition), Run and its steps.
//   - measure.go: the load driver — workers, interleaved rounds, bounds in
//     time and count, latencies.
//   - write.go, read.go: the operations of the write and read figures;
//     client.go the HTTP client they use.
//   - rebuild.go, memlog.go: the in-memory passes, writing the log into the
//     store, the store scan; memLog serves the generated log as a
//     read-only store.
//   - report.go, machine.go: the report, its table, the machine and load.
//   - logger.go: NewLogger, the server's logger during a run (the request
//     log is formatted, as its cost is part of a request's, but not
//     printed).
//
// Tests run the whole bench at a tiny size and check that the report is
// complete and consistent; they assert nothing about speed.
package bench
