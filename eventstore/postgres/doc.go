// Package postgres is the PostgreSQL backend of the event store, chosen by
// a postgres:// URL.
//
// Every event is one row of zhaoshang.events (see migrations/), created and
// upgraded by versioned goose migrations that Open applies and that
// Migrate applies on its own for `zhaoshang migrate`. docs/eventstore-postgres.md
// is the operator's and auditor's description; this comment is the
// programmer's.
//
// Appends. An append is one INSERT statement, atomic on its own: the
// stream's head (last version and hash) comes from a small in-process cache
// or a read, each event is stamped (eventstore.Stamp) on top of it, and the
// rows go in with a predicate that the head still exists with that hash.
// UNIQUE (stream, version) is what decides between racing appenders: the
// loser's INSERT fails as a whole and becomes *eventstore.VersionConflictError
// (or a retry on a fresh head, for eventstore.Any). UNIQUE (event_id) makes
// a retried append a no-op that answers like the first.
//
// Global order. An event's position is (tx_id, global_position): the xid8 of
// the transaction that inserted it, then the row's identity value. Readers
// only read rows whose tx_id is below pg_snapshot_xmin of their snapshot,
// so no transaction still in flight can later commit a row that sorts
// before what they have read: a late commit is waited for, never skipped.
//
// Wake-ups. No append sends a NOTIFY (PostgreSQL serialises the commits of
// notifying transactions). A local append records its tx_id and wakes a
// watcher, which waits until that tx_id is below the xmin horizon and then
// wakes the local subscribers; a background goroutine sends one coalesced
// pg_notify for other processes, whose listener feeds the same watcher.
// Subscribers also poll, for wake-ups lost while the listener reconnects or
// for transactions outside zhaoshang that held the horizon back.
package postgres
