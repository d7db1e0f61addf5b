// Package projections is the read side of zhaoshang: the views every query
// is answered from (ARCHITECTURE.md "The read side"; docs/views.md).
//
// A Runner tails the store's global log from the views' position — decoding
// events in parallel ahead of a strictly ordered apply — and feeds every
// view: reference (units, policy versions, targets), projects (each
// project's state folded by the domain, filters, name search, the four
// lists), ranking (晾晒 per period and unit kind, with transfer credit),
// supervision (alerts judged at query time, orders with the six 定, the
// three rates, what changed), assessment (考核 with the 70% rule, admonish,
// published years frozen) and tolerance (容错免责 evaluations with their
// evidence positions). The rules are the domain package's; the views index
// and aggregate so that every answer comes from memory.
//
// Views are read while the runner applies: one RWMutex guards them all and
// each answer carries the log position it reflects; Runner.WaitFor waits
// for a position (min_position). Time travel answers "as known at T"
// (recorded_at ≤ T) and "as of T" (occurred_at ≤ T) by replaying into fresh
// views, and the ranking and assessment answer as-of from their own
// records. Digests and Reconcile let an auditor confirm that the views
// equal a fresh replay of the log.
//
// Sub-packages: pgread mirrors the views into PostgreSQL tables; synth
// generates the realistic ledger the benchmarks run on; relay carries events
// outward (watermill).
package projections
