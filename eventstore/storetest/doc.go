// Package storetest is the contract every eventstore.Store backend passes.
//
// A backend's own test calls Run with a Backend that knows how to make a
// fresh, empty store; Run then checks, as subtests and only through the
// Store interface, everything the rest of zhaoshang relies on: round-trips
// of every envelope field, expected versions and the one conflict error,
// racing appends, idempotent retries, atomic multi-event appends, the global
// order, stream reads in both directions, catch-up-then-live subscriptions
// resumable from a checkpoint, large payloads, Chinese text, the hash chain
// and seals. Two checks need more than the interface and run only when the
// backend supplies the hook: Tamper (change stored bytes behind the store's
// back, to prove Verify finds and locates it) and HoldOpen (keep an append's
// transaction uncommitted while later ones commit, to prove readers never
// skip a late commit).
//
// Waits are bounded (a failure names what did not arrive) and no test
// asserts how fast anything is.
package storetest
