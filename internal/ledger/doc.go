// Package ledger imports the project ledgers (台账) units keep in Excel or
// CSV today: one row per project with its current stage and the dates it
// got there, turned into the facts the row implies through the command
// handlers (`zhaoshang import FILE`). docs/import.md is the user's guide.
//
// # Where things are
//
//   - columns.go: the sheet's columns (Chinese header, English alias, what
//     each holds) and the vocabularies of the choice columns — the one place
//     the format is defined; the template, the reader and docs/import.md
//     (kept in step by a test) follow it.
//   - read.go: bytes to a table — .xlsx through excelize, delimited text in
//     UTF-8, UTF-16 or GB18030 — and finding the header row.
//   - parse.go: a row to an entry: each cell read and checked, then the rules
//     between cells (the dates a stage needs, lifecycle order), with errors
//     naming row and column in Chinese and English.
//   - plan.go: the dry run. Each row's facts are decided by the domain
//     against the ledger as it stands (units, policy, 首报首谈 claims, the
//     project an earlier import created) with the earlier rows applied.
//   - ledger.go: Import — read, check, plan, and only when every row passed,
//     record the commands; report.go the Report.
//   - template.go: WriteTemplate, docs/import-template.xlsx.
//
// # Guarantees
//
// All or nothing per file for every rule a sheet can break: nothing is
// appended unless every row passed. Imports are marked by their envelope
// (the commands have no source field): the importing actor, and the
// correlation id ledger-import:<file hash>. Facts carry idempotency keys
// derived from the row's unit and 项目编号, so importing the same file
// again appends nothing, a later version of the ledger adds only what is
// new, and an import interrupted by a store failure is completed by
// running it again.
package ledger
