package esdb

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/esdb/esdbtest"
	"github.com/zhaoshang/zhaoshang/eventstore/storetest"
)

// contractAppendSize is the maximum append size the suite needs (its large
// payload is a little over 1 MiB, EventStoreDB's default limit); the
// docker-compose.yml server is configured with the same.
const contractAppendSize = 8 << 20

// TestContractInProcess runs the contract suite against the adapter talking
// to the in-process protocol server: a fresh server (an empty log, apart
// from the system events a new node writes) for every test. It proves the
// adapter's protocol handling, not EventStoreDB's semantics.
func TestContractInProcess(t *testing.T) {
	var servers sync.Map // *Store → *esdbtest.Server
	storetest.Run(t, storetest.Backend{
		Name: "esdb (in-process protocol server)",
		New: func(t testing.TB) eventstore.Store {
			srv := startServer(t, esdbtest.WithMaxAppendSize(contractAppendSize))
			s := openStore(t, srv.URL())
			servers.Store(s, srv)
			return s
		},
		Tamper: func(t testing.TB, s eventstore.Store, stream string, version uint64) {
			srv, _ := servers.Load(s)
			if !srv.(*esdbtest.Server).Tamper(s.(*Store).scope.physical(stream), version-1) {
				t.Fatalf("tamper: %s v%d does not exist", stream, version)
			}
		},
		NewWithClock: func(t testing.TB, now func() time.Time) eventstore.Store {
			srv := startServer(t, esdbtest.WithMaxAppendSize(contractAppendSize))
			return openStore(t, srv.URL(), WithClock(now))
		},
	})
}

// TestContractInProcessScoped runs the suite the way TestContractRealServer
// does — every test a view of one shared server, scoped by a stream-name
// prefix — so the scoping itself is proven where it can run in CI.
func TestContractInProcessScoped(t *testing.T) {
	srv := startServer(t, esdbtest.WithMaxAppendSize(contractAppendSize))
	storetest.Run(t, storetest.Backend{
		Name: "esdb (in-process protocol server, scoped views)",
		New: func(t testing.TB) eventstore.Store {
			return openStore(t, srv.URL(), withScope(scopePrefix()))
		},
		Tamper: func(t testing.TB, s eventstore.Store, stream string, version uint64) {
			if !srv.Tamper(s.(*Store).scope.physical(stream), version-1) {
				t.Fatalf("tamper: %s v%d does not exist", stream, version)
			}
		},
	})
}

// TestContractRealServer runs the suite against the EventStoreDB named by
// EVENTSTORE_URL (docs/eventstore-esdb.md: `docker compose up -d eventstore`
// and the command there). A real server cannot be emptied, so every test
// gets a view scoped to fresh stream names; a real server cannot be
// tampered with behind its back either, so that test skips.
func TestContractRealServer(t *testing.T) {
	url := os.Getenv("EVENTSTORE_URL")
	if url == "" {
		t.Skip("EVENTSTORE_URL is not set: no real EventStoreDB to run the contract suite against (see docs/eventstore-esdb.md)")
	}
	storetest.Run(t, storetest.Backend{
		Name: "esdb (real server)",
		New: func(t testing.TB) eventstore.Store {
			return openStore(t, url, withScope(scopePrefix()))
		},
	})
}

// scopePrefix is a stream-name prefix no other test uses.
func scopePrefix() string { return "zs-test-" + uuid.NewString()[:13] + "-" }
