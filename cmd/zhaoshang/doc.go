// Command zhaoshang is the ledger's one binary: it serves the HTTP API and
// runs the operator's tasks (token, demo, import, export, rebuild, verify,
// migrate, bench). main.go is the composition root: the only place that
// knows every package and wires them together.
package main
