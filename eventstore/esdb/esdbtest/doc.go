// Package esdbtest runs an in-process gRPC server on 127.0.0.1 that speaks
// the part of EventStoreDB's client protocol the eventstore/esdb adapter
// uses, so the adapter can be tested where no EventStoreDB server can run.
//
// It is built on the generated server interfaces shipped with
// github.com/EventStore/EventStore-Client-Go/v4 (protos/streams,
// protos/serverfeatures, protos/gossip) and keeps its global log in memory.
// What it implements follows the documented protocol and the server's
// observable behaviour:
//
//   - Streams.Append: expected revision any, no_stream, stream_exists and
//     exact, answered with WrongExpectedVersion carrying the current
//     revision; idempotency by event id (an exact expectation whose events
//     are already at the expected place answers success with the original
//     revision and position; any/stream_exists answers success when every id
//     is already in the stream); the metadata keys "type" and "content-type"
//     are required; a maximum append size (1 MiB by default, like the server).
//   - Streams.Read on a stream and on $all, forwards and backwards, from a
//     start, end, revision or position, with a count: a forwards $all read
//     from a position includes the event at it, a backwards one starts
//     before it; a missing stream is a StreamNotFound message; only Event
//     and StreamNotFound messages are sent, as the v4.2.0 client panics on
//     anything else in a read.
//   - Streams.Read as a subscription to $all: the Confirmation first, then
//     the events after the start position (exclusive), a Checkpoint every
//     window×multiplier considered events when a filter is set, CaughtUp
//     once at the end of the log, then live events; event-type and
//     stream-name filters by regex or prefixes.
//   - ServerFeatures.GetSupportedMethods (the client calls it on connect) and
//     Gossip.Read (called for cluster connection strings).
//
// Every recorded event carries the metadata "type", "content-type" and
// "created" (.NET ticks since the Unix epoch); the client terminates the
// process when "created" is missing.
//
// Positions are modelled on the transaction file: each event has its own
// log position that grows by roughly the size of its record; the events of
// one append share the commit position of their transaction (the first
// event's log position) and are ordered by their prepare positions; the
// append response carries that one transaction position for the whole write.
//
// This server proves the adapter's protocol handling — that it sends the
// right requests and understands the answers — not EventStoreDB's
// semantics: durability, replication, leader election, scavenging, stream
// metadata and ACLs, projections, and the exact behaviour of a real
// server under load are out of its reach. Run the adapter's contract suite
// against a real server (EVENTSTORE_URL, see docs/eventstore-esdb.md) for
// that.
package esdbtest
