// Package pgread mirrors the in-memory views into PostgreSQL tables for SQL
// consumers: BI tools, Grafana, ad hoc audits (ARCHITECTURE.md "The read
// side"). docs/views.md documents every table and column.
//
// Each table mirrors a view's answer field for field (a list inside an
// answer is a child table: a project's corrections, an order's progress, a
// published year's recomputation, differences and flagged corrections).
//
// A Writer observes the views: each applied batch marks the rows it changed
// (projects, orders, cases, ranking periods, assessment years), and a flush
// rewrites those rows from the views and stores the log position they
// reflect — the checkpoint — in the same transaction. It also rewrites the
// rows that change without being marked: the projects whose corrections a
// publication flags, the years a new correction affects, and every project
// when units or the policy change. Rows are whole states, never increments,
// so writing one again is harmless; after a restart the views are rebuilt
// from the log and only what changed after the checkpoint is written again:
// nothing is counted twice and nothing is missed.
//
// The tables live in a generation schema (<schema>_g<N>); readers use the
// views of the stable schema <schema>, which point at the current
// generation. Rebuild fills a fresh generation from the views and swaps
// every view to it in one transaction, so a reader never sees an empty or
// half-written table: it sees the old generation until the swap commits
// and the new one after. A generation built from other table definitions
// (ddlFingerprint, ddlVersion) is never written into: the first flush
// rebuilds.
//
// Alerts and rates depend on the clock as well as on the log; they are
// evaluated at the writer's clock on every flush for what changed, and
// entirely every RefreshInterval, and each row says when it was evaluated.
package pgread
