// Package esdb keeps the event store in EventStoreDB, through the official
// Go client (github.com/EventStore/EventStore-Client-Go/v4, v4.2.0). It is
// the backend for deployments that need a replicated cluster; Open takes the
// client's esdb:// connection string.
//
// The mapping, in short (docs/eventstore-esdb.md has the whole of it):
//
//   - A stream is an EventStoreDB stream of the same name. Versions count
//     from 1, revisions from 0: version = revision + 1.
//   - An event is an EventStoreDB event with our id as its event id, our
//     type as its type, our data as its JSON data, and every other envelope
//     field (occurred_at, recorded_at, actor, command, correlation and
//     causation ids, prev_hash, hash, version) in its metadata JSON.
//   - A global position is EventStoreDB's commit and prepare position.
//   - The adapter stamps recorded_at and the hash chain itself
//     (eventstore.Stamp), after reading the stream's last event, and appends
//     at exactly that revision; an append with eventstore.Any that loses the
//     race reads and stamps again.
//   - The wrong-expected-version error becomes *eventstore.VersionConflictError.
//   - EventStoreDB's own events ("$" streams and types) never show.
//   - Subscribe uses SubscribeToAll with a filter excluding system events and
//     subscribes again from the last delivered event after a drop.
//   - Every call goes through a holder that replaces the client when it has
//     closed itself (the v4.2.0 client does after failing to reach a server
//     for about a second).
//
// The tests run the contract suite (eventstore/storetest) against an
// in-process protocol server (esdbtest), which proves the adapter's
// protocol handling, not EventStoreDB's semantics; with EVENTSTORE_URL set
// they also run it against a real server.
package esdb
