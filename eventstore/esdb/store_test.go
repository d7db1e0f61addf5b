package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/esdb/esdbtest"
)

// fastDiscovery makes a client give up on an unreachable server after a few
// short attempts instead of about a second, to keep outage tests short.
const fastDiscovery = "&maxDiscoverAttempts=3&discoveryInterval=10"

func TestWhatIsStored(t *testing.T) {
	srv := startServer(t)
	s := openStore(t, srv.URL())
	ne := newEvent("ProjectReported", `{"名称":"项目"}`)
	res := mustAppend(t, s, "stored", eventstore.NoStream(), ne, newEvent("Second", `{}`))
	if res.Version != 2 {
		t.Fatalf("version %d, want 2", res.Version)
	}

	rs, err := rawClient(t, srv.URL()).ReadStream(context.Background(), "stored", esdbclient.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	first, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	re := first.OriginalEvent()
	if re.EventID != ne.ID || re.EventType != ne.Type || re.ContentType != "application/json" || string(re.Data) != string(ne.Data) || re.EventNumber != 0 {
		t.Fatalf("stored as id %s type %q content %q revision %d data %s; want our id, type, application/json, revision 0 (version 1), the data", re.EventID, re.EventType, re.ContentType, re.EventNumber, re.Data)
	}
	var meta envelopeMeta
	if err := json.Unmarshal(re.UserMetadata, &meta); err != nil || meta.Format != metaFormat || meta.Version != 1 || meta.Hash == "" {
		t.Fatalf("metadata %s (%v)", re.UserMetadata, err)
	}
}

func TestSystemEventsHidden(t *testing.T) {
	srv := startServer(t) // begins with the system events of a fresh node
	s := openStore(t, srv.URL())
	raw := rawClient(t, srv.URL())
	ctx := context.Background()
	system := func(n int) {
		t.Helper()
		for i := range n {
			stream, typ := "$stats-127.0.0.1:2113", "$statsCollected"
			if i%2 == 1 {
				stream, typ = "projection-links", "$>" // a system type in a user stream
			}
			if _, err := raw.AppendToStream(ctx, stream, esdbclient.AppendToStreamOptions{}, esdbclient.EventData{
				EventType: typ, ContentType: esdbclient.ContentTypeJson, Data: []byte(`{}`),
			}); err != nil {
				t.Fatal(err)
			}
		}
	}

	if h, err := s.Head(ctx); err != nil || !h.IsZero() {
		t.Fatalf("Head of a log holding only system events = %s, %v; want Start", h, err)
	}
	if all := mustReadAll(t, s); len(all) != 0 {
		t.Fatalf("ReadAll of a log holding only system events: %d events", len(all))
	}

	var want []eventstore.Event
	for i := range 3 {
		// More system events than the server's checkpoint interval (32), so
		// a filtered subscription also meets checkpoints.
		system(40)
		mustAppend(t, s, fmt.Sprintf("ours-%d", i), eventstore.NoStream(), newEvent("E", `{}`))
	}
	sub := collect(t, s, eventstore.Start)
	got := sub.take(t, 3)
	system(5)
	want = mustReadAll(t, s)
	if len(want) != 3 || !slices.Equal(positions(got), positions(want)) {
		t.Fatalf("subscription delivered %v, ReadAll %v; want our 3 events only", positions(got), positions(want))
	}
	if h, err := s.Head(ctx); err != nil || h != want[2].Position {
		t.Fatalf("Head = %s, %v; want our last event %s, not the system events after it", h, err, want[2].Position)
	}
	// Paging by one through system events in between.
	var paged []eventstore.Event
	after := eventstore.Start
	for {
		batch, err := s.ReadAll(ctx, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		paged = append(paged, batch...)
		after = batch[0].Position
	}
	if !slices.Equal(positions(paged), positions(want)) {
		t.Fatalf("ReadAll one at a time: %v, want %v", positions(paged), positions(want))
	}
	sub.quiet(t, s)
}

func TestForeignEventRefused(t *testing.T) {
	srv := startServer(t)
	s := openStore(t, srv.URL())
	mustAppend(t, s, "ours", eventstore.NoStream(), newEvent("E", `{}`))
	if _, err := rawClient(t, srv.URL()).AppendToStream(context.Background(), "theirs", esdbclient.AppendToStreamOptions{}, esdbclient.EventData{
		EventType: "SomethingElse", ContentType: esdbclient.ContentTypeJson, Data: []byte(`{}`), Metadata: []byte(`{"$correlationId":"x"}`),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAll(context.Background(), eventstore.Start, 0); err == nil || !strings.Contains(err.Error(), "not written by zhaoshang") {
		t.Fatalf("ReadAll over a foreign event: %v, want an error naming it", err)
	}
	if _, err := s.ReadStream(context.Background(), "theirs", 1, eventstore.Forwards, 0); err == nil {
		t.Fatalf("ReadStream of a foreign stream succeeded")
	}
	// A subscription does not retry what retrying cannot cure.
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	delivered := 0
	err := s.Subscribe(ctx, eventstore.Start, func(eventstore.Event) error { delivered++; return nil })
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "not written by zhaoshang") || delivered != 1 {
		t.Fatalf("Subscribe over a foreign event returned %v after %d events; want the decode error after our 1", err, delivered)
	}
}

func TestResubscribeAfterDrop(t *testing.T) {
	srv := startServer(t)
	s := openStore(t, srv.URL())
	for i := range 5 {
		mustAppend(t, s, fmt.Sprintf("drop-%d", i%2), eventstore.Any(), newEvent("E", fmt.Sprintf(`{"i":%d}`, i)))
	}
	sub := collect(t, s, eventstore.Start)
	got := sub.take(t, 5)

	for round := range 3 {
		waitFor(t, "the subscription to be established", func() bool { return srv.Subscriptions() == 1 })
		if n := srv.DropSubscriptions(); n != 1 {
			t.Fatalf("dropped %d subscriptions, want 1", n)
		}
		// Appended while the subscriber is between subscriptions.
		for i := range 3 {
			mustAppend(t, s, fmt.Sprintf("drop-%d", i%2), eventstore.Any(), newEvent("E", fmt.Sprintf(`{"round":%d,"i":%d}`, round, i)))
		}
		got = append(got, sub.take(t, 3)...)
	}
	waitFor(t, "the subscription to be established again", func() bool { return srv.Subscriptions() == 1 })
	want := mustReadAll(t, s)
	if !slices.Equal(positions(got), positions(want)) {
		t.Fatalf("across three drops the subscriber got %v, the log is %v", positions(got), positions(want))
	}
	sub.quiet(t, s)
}

func TestResubscribeAcrossServerRestart(t *testing.T) {
	srv := startServer(t)
	s := openStore(t, srv.URL()+fastDiscovery)
	mustAppend(t, s, "restart", eventstore.NoStream(), newEvent("E", `{"i":1}`), newEvent("E", `{"i":2}`))
	sub := collect(t, s, eventstore.Start)
	got := sub.take(t, 2)
	waitFor(t, "the subscription to be established", func() bool { return srv.Subscriptions() == 1 })

	srv.Stop()
	if srv.Subscriptions() != 0 {
		t.Fatalf("a stopped server still has subscriptions")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the subscriber to subscribe again after the restart", func() bool { return srv.Subscriptions() == 1 })
	mustAppend(t, s, "restart", eventstore.Exact(2), newEvent("E", `{"i":3}`))
	got = append(got, sub.take(t, 1)...)
	if want := mustReadAll(t, s); !slices.Equal(positions(got), positions(want)) {
		t.Fatalf("across a restart the subscriber got %v, the log is %v", positions(got), positions(want))
	}
	sub.quiet(t, s)
}

func TestClientReplacedAfterItClosesItself(t *testing.T) {
	srv := startServer(t)
	s := openStore(t, srv.URL()+fastDiscovery)
	mustAppend(t, s, "rebuild", eventstore.NoStream(), newEvent("E", `{}`))
	first, _, err := s.h.acquire()
	if err != nil {
		t.Fatal(err)
	}
	s.h.release(first)
	sub := collect(t, s, eventstore.Start)
	sub.take(t, 1)

	// While the server is down the subscriber keeps subscribing again; the
	// client's discovery gives up, the client closes itself for good, and
	// the holder replaces it.
	srv.Stop()
	waitFor(t, "the holder to replace the client that closed itself", func() bool { return s.h.generation() > 1 })
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The first client is dead for good: without the holder, so would the
	// store be.
	if _, err := first.GetServerVersion(); !hasCode(err, esdbclient.ErrorCodeConnectionClosed) {
		t.Fatalf("the first client after the outage: %v, want ErrorCodeConnectionClosed", err)
	}
	res := mustAppend(t, s, "rebuild", eventstore.Exact(1), newEvent("E", `{}`))
	if res.Version != 2 {
		t.Fatalf("append after the restart answered version %d, want 2", res.Version)
	}
	if e := sub.take(t, 1)[0]; e.Position != res.Position {
		t.Fatalf("after the restart the subscriber got %s v%d, want the new event", e.Stream, e.Version)
	}
	got, err := s.ReadStream(context.Background(), "rebuild", 1, eventstore.Forwards, 0)
	if err != nil || len(got) != 2 || got[1].PrevHash != got[0].Hash {
		t.Fatalf("after the restart the stream reads %d events, %v", len(got), err)
	}
	sub.quiet(t, s)
}

func TestAnyAppendsRace(t *testing.T) {
	srv := startServer(t)
	s := openStore(t, srv.URL())
	const writers, appends = 16, 8
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		versions = map[uint64]bool{}
		errs     = make(chan error, writers*appends)
	)
	for w := range writers {
		wg.Go(func() {
			for a := range appends {
				res, err := s.Append(context.Background(), "hot", eventstore.Any(), []eventstore.NewEvent{newEvent("E", fmt.Sprintf(`{"w":%d,"a":%d}`, w, a))})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				versions[res.Version] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Any append under contention: %v", err)
	}
	if len(versions) != writers*appends {
		t.Fatalf("%d distinct versions answered for %d appends", len(versions), writers*appends)
	}
	rep, err := eventstore.Verify(context.Background(), s)
	if err != nil || !rep.OK || rep.EventsChecked != writers*appends {
		t.Fatalf("Verify after racing Any appends: %+v, %v", rep, err)
	}
}

func TestConflictReportsActualVersion(t *testing.T) {
	srv := startServer(t)
	s := openStore(t, srv.URL())
	mustAppend(t, s, "c", eventstore.NoStream(), newEvent("E", `{}`), newEvent("E", `{}`), newEvent("E", `{}`))
	_, err := s.Append(context.Background(), "c", eventstore.Exact(1), []eventstore.NewEvent{newEvent("E", `{}`)})
	var vc *eventstore.VersionConflictError
	if !errors.As(err, &vc) || vc.Actual != 3 || vc.Stream != "c" {
		t.Fatalf("conflict %v (%+v), want one at actual version 3", err, vc)
	}
}

func TestOverMaximumAppendSizeIsInvalid(t *testing.T) {
	srv := startServer(t) // EventStoreDB's default: 1 MiB of data per append
	s := openStore(t, srv.URL())
	big := newEvent("Big", `"`+strings.Repeat("数", esdbtest.DefaultMaxAppendSize/3+1)+`"`)
	_, err := s.Append(context.Background(), "big", eventstore.NoStream(), []eventstore.NewEvent{big})
	if !errors.Is(err, eventstore.ErrInvalidEvent) || !strings.Contains(err.Error(), "Maximum Append Size") {
		t.Fatalf("append over the server's maximum: %v, want ErrInvalidEvent with the server's reason", err)
	}
	if _, err := s.ReadStream(context.Background(), "big", 1, eventstore.Forwards, 0); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("the refused append left something: %v", err)
	}
}

func TestScopesAreIsolated(t *testing.T) {
	srv := startServer(t)
	all := openStore(t, srv.URL())
	// Written under c- before any view of c- exists: below every view's floor.
	mustAppend(t, all, "c-early", eventstore.NoStream(), newEvent("Early", `{}`))
	a := openStore(t, srv.URL(), withScope("a-"))
	b := openStore(t, srv.URL(), withScope("b-"))
	cv := openStore(t, srv.URL(), withScope("c-"))

	ra := mustAppend(t, a, "s", eventstore.NoStream(), newEvent("A", `{}`))
	if h, err := b.Head(context.Background()); err != nil || !h.IsZero() {
		t.Fatalf("Head of view b after an append in view a = %s, %v; want Start", h, err)
	}
	rb := mustAppend(t, b, "s", eventstore.NoStream(), newEvent("B", `{}`)) // the same name, another stream
	for _, tc := range []struct {
		view *Store
		typ  string
		pos  eventstore.Position
	}{{a, "A", ra.Position}, {b, "B", rb.Position}} {
		got := mustReadAll(t, tc.view)
		if len(got) != 1 || got[0].Stream != "s" || got[0].Type != tc.typ || got[0].Position != tc.pos {
			t.Fatalf("view %s reads %+v", tc.typ, got)
		}
		if h, _ := tc.view.Head(context.Background()); h != tc.pos {
			t.Fatalf("view %s head %s, want %s", tc.typ, h, tc.pos)
		}
		sub := collect(t, tc.view, eventstore.Start)
		if e := sub.take(t, 1)[0]; e.Type != tc.typ || e.Stream != "s" {
			t.Fatalf("view %s subscription delivered %s %s", tc.typ, e.Stream, e.Type)
		}
	}
	if got := mustReadAll(t, cv); len(got) != 0 {
		t.Fatalf("view c sees %d events written before it was opened", len(got))
	}
	names := []string{}
	for _, e := range mustReadAll(t, all) {
		names = append(names, e.Stream)
	}
	if !slices.Equal(names, []string{"c-early", "a-s", "b-s"}) {
		t.Fatalf("the unscoped store sees streams %v", names)
	}
}

func TestOpen(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()

	t.Run("cluster and kurrentdb connection strings", func(t *testing.T) {
		for _, url := range []string{
			"esdb://" + srv.Addr() + "," + srv.Addr() + "?tls=false",
			"esdb+discover://" + srv.Addr() + "?tls=false",
			"kurrentdb://" + srv.Addr() + "?tls=false",
		} {
			s := openStore(t, url)
			stream := "gossip-" + uuid.NewString()[:8]
			mustAppend(t, s, stream, eventstore.NoStream(), newEvent("E", `{}`))
			if got, err := s.ReadStream(ctx, stream, 1, eventstore.Forwards, 0); err != nil || len(got) != 1 {
				t.Fatalf("%s: read back %d events, %v", url, len(got), err)
			}
		}
	})
	t.Run("servers before 22.6 are refused", func(t *testing.T) {
		old := startServer(t, esdbtest.WithServerVersion("22.2.0"))
		if _, err := open(ctx, old.URL()); err == nil || !strings.Contains(err.Error(), "22.6") {
			t.Fatalf("open of a 22.2 server: %v, want a refusal naming 22.6", err)
		}
		ok := startServer(t, esdbtest.WithServerVersion("22.6.0"))
		openStore(t, ok.URL())
	})
	t.Run("other schemes are refused", func(t *testing.T) {
		if _, err := open(ctx, "postgres://localhost/x"); err == nil {
			t.Fatal("open accepted a postgres URL")
		}
	})
	t.Run("a bad connection string is reported without its password", func(t *testing.T) {
		_, err := open(ctx, "esdb://admin:s3cret@"+srv.Addr()+"?tls=false&nodePreference=nowhere")
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("open with a bad setting: %v", err)
		}
	})
	t.Run("an unreachable server fails within the context", func(t *testing.T) {
		gone := startServer(t)
		gone.Stop()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := open(cctx, gone.URL()+fastDiscovery); !errors.Is(err, context.Canceled) {
			t.Fatalf("open with a cancelled context: %v, want context.Canceled", err)
		}
		if _, err := open(ctx, gone.URL()+fastDiscovery); err == nil {
			t.Fatalf("open of a stopped server succeeded")
		}
	})
	t.Run("calls after Close fail", func(t *testing.T) {
		s := openStore(t, srv.URL())
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Head(ctx); !errors.Is(err, errClosed) {
			t.Fatalf("Head after Close: %v", err)
		}
		if err := s.Subscribe(ctx, eventstore.Start, func(eventstore.Event) error { return nil }); !errors.Is(err, errClosed) {
			t.Fatalf("Subscribe after Close: %v", err)
		}
	})
}

// TestIDsFromOtherProcesses: the id index of one store learns what another
// store (another process, in a deployment) appended, before each append.
func TestIDsFromOtherProcesses(t *testing.T) {
	srv := startServer(t)
	one := openStore(t, srv.URL())
	two := openStore(t, srv.URL())
	mustAppend(t, two, "warm", eventstore.NoStream(), newEvent("E", `{}`)) // two's index is built now

	e := newEvent("Reported", `{"n":1}`)
	first := mustAppend(t, one, "p-1", eventstore.NoStream(), e)
	if again := mustAppend(t, two, "p-1", eventstore.Any(), e); again != first {
		t.Fatalf("a retry through another store answered %+v, the first append %+v", again, first)
	}
	if _, err := two.Append(context.Background(), "p-2", eventstore.Any(), []eventstore.NewEvent{e}); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("reusing another store's event id in another stream: %v, want ErrInvalidEvent", err)
	}
}
