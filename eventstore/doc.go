// Package eventstore is where every fact of zhaoshang lives.
//
// It defines the Store interface that the rest of the system appends to and
// reads from, the event envelope (Event, NewEvent), expected versions, the one
// version-conflict error every backend returns, the canonical hash encoding of
// an event (see docs/eventstore.md), and the verification of the hash chains
// and global seals.
//
// Backends live in sub-packages and are chosen by URL with backend.Open
// (package eventstore/backend, apart so that this package imports none):
//
//	bolt:PATH        eventstore/bolt     embedded single file (the default)
//	postgres://...   eventstore/postgres PostgreSQL through pgx
//	esdb://...       eventstore/esdb     EventStoreDB through the official v4 client
//
// Every backend passes the same contract suite, eventstore/storetest.
package eventstore
