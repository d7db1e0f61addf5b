package esdbtest

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// These tests speak to the server through the official client, checking
// it answers as the protocol documents.

const patience = 30 * time.Second

func start(t *testing.T, opts ...Option) (*Server, *esdb.Client) {
	t.Helper()
	srv, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, connect(t, srv)
}

// connect makes a client of the running server.
func connect(t *testing.T, srv *Server) *esdb.Client {
	t.Helper()
	cfg, err := esdb.ParseConnectionString(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func event(id uuid.UUID) esdb.EventData {
	return esdb.EventData{EventID: id, EventType: "E", ContentType: esdb.ContentTypeJson, Data: []byte(`{"a":1}`), Metadata: []byte(`{"m":true}`)}
}

func ids(n int) []uuid.UUID {
	out := make([]uuid.UUID, n)
	for i := range out {
		out[i] = uuid.New()
	}
	return out
}

func events(ids ...uuid.UUID) []esdb.EventData {
	out := make([]esdb.EventData, len(ids))
	for i, id := range ids {
		out[i] = event(id)
	}
	return out
}

func readAll(t *testing.T, c *esdb.Client, opts esdb.ReadAllOptions, n uint64) []*esdb.RecordedEvent {
	t.Helper()
	rs, err := c.ReadAll(context.Background(), opts, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.OriginalEvent())
	}
}

func readStream(c *esdb.Client, stream string, opts esdb.ReadStreamOptions, n uint64) ([]*esdb.RecordedEvent, error) {
	rs, err := c.ReadStream(context.Background(), stream, opts, n)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ev.OriginalEvent())
	}
}

func TestListensOnLoopbackOnly(t *testing.T) {
	srv, _ := start(t)
	host, _, err := net.SplitHostPort(srv.Addr())
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("listening on %s, want 127.0.0.1", srv.Addr())
	}
}

func TestAppendExpectedRevision(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	appendAt := func(stream string, rev esdb.ExpectedRevision, n int) (*esdb.WriteResult, error) {
		return c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: rev}, events(ids(n)...)...)
	}
	cases := []struct {
		name    string
		stream  string
		rev     esdb.ExpectedRevision
		n       int
		wantErr string // the client's rendering of WrongExpectedVersion
		wantRev uint64
	}{
		{"any creates", "s", esdb.Any{}, 2, "", 1},
		{"no_stream on an existing stream", "s", esdb.NoStream{}, 1, "expecting 'no_stream' but got '1'", 0},
		{"exact, behind", "s", esdb.Revision(0), 1, "expecting '0' but got '1'", 0},
		{"exact, ahead", "s", esdb.Revision(5), 1, "expecting '5' but got '1'", 0},
		{"exact, right", "s", esdb.Revision(1), 3, "", 4},
		{"stream_exists on a missing stream", "t", esdb.StreamExists{}, 1, "expecting 'stream_exists' but got 'no_stream'", 0},
		{"exact on a missing stream", "t", esdb.Revision(0), 1, "expecting '0' but got 'no_stream'", 0},
		{"no_stream creates", "t", esdb.NoStream{}, 1, "", 0},
		{"stream_exists on an existing stream", "t", esdb.StreamExists{}, 1, "", 1},
	}
	for _, tc := range cases {
		wr, err := appendAt(tc.stream, tc.rev, tc.n)
		if tc.wantErr != "" {
			var e *esdb.Error
			if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeWrongExpectedVersion || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %v, want WrongExpectedVersion %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || wr.NextExpectedVersion != tc.wantRev {
			t.Errorf("%s: %+v, %v; want revision %d", tc.name, wr, err, tc.wantRev)
		}
	}
	got, err := readStream(c, "s", esdb.ReadStreamOptions{}, 100)
	if err != nil || len(got) != 5 {
		t.Fatalf("stream s holds %d events (%v), want 5: refused appends wrote nothing", len(got), err)
	}
}

func TestAppendIdempotency(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	ab := ids(2)
	first, err := c.AppendToStream(ctx, "i", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, events(ab...)...)
	if err != nil {
		t.Fatal(err)
	}
	later, err := c.AppendToStream(ctx, "i", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)}, event(uuid.New()))
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := readStream(c, "i", esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	lastOfFirst := recorded[1].Position

	// The same ids at the expected place: success with the original
	// revision and the log position of the original last event.
	again, err := c.AppendToStream(ctx, "i", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, events(ab...)...)
	if err != nil || again.NextExpectedVersion != first.NextExpectedVersion || again.CommitPosition != lastOfFirst.Prepare || again.PreparePosition != lastOfFirst.Prepare {
		t.Fatalf("exact retry: %+v, %v; want revision %d at the original last event's log position %d", again, err, first.NextExpectedVersion, lastOfFirst.Prepare)
	}
	// Any: every id already in the stream.
	if again, err := c.AppendToStream(ctx, "i", esdb.AppendToStreamOptions{}, events(ab...)...); err != nil || again.NextExpectedVersion != 1 {
		t.Fatalf("any retry: %+v, %v", again, err)
	}
	// Partly the same: refused, for an exact expectation and for any.
	if _, err := c.AppendToStream(ctx, "i", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, events(ab[0], uuid.New())...); err == nil {
		t.Fatalf("exact append repeating one id of two succeeded")
	}
	if _, err := c.AppendToStream(ctx, "i", esdb.AppendToStreamOptions{}, events(ab[0], uuid.New())...); err == nil {
		t.Fatalf("any append repeating one id of two succeeded")
	}
	if got, _ := readStream(c, "i", esdb.ReadStreamOptions{}, 10); len(got) != 3 {
		t.Fatalf("stream holds %d events after the retries, want 3 (later write at %d)", len(got), later.NextExpectedVersion)
	}
}

func TestReads(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	seeded := readAll(t, c, esdb.ReadAllOptions{}, 100)
	if len(seeded) == 0 || !strings.HasPrefix(seeded[0].StreamID, "$") {
		t.Fatalf("a fresh server's log starts with %d events, want its system events", len(seeded))
	}
	for i := range 3 {
		if _, err := c.AppendToStream(ctx, "r", esdb.AppendToStreamOptions{}, events(ids(2)...)...); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AppendToStream(ctx, "r-other", esdb.AppendToStreamOptions{}, events(ids(1+i)...)...); err != nil {
			t.Fatal(err)
		}
	}

	revisions := func(evs []*esdb.RecordedEvent) []uint64 {
		out := []uint64{}
		for _, e := range evs {
			if e.StreamID != "r" {
				t.Fatalf("stream read returned an event of %q", e.StreamID)
			}
			out = append(out, e.EventNumber)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		opts esdb.ReadStreamOptions
		n    uint64
		want []uint64
	}{
		{"forwards from the start", esdb.ReadStreamOptions{}, 100, []uint64{0, 1, 2, 3, 4, 5}},
		{"forwards from 2, count 3", esdb.ReadStreamOptions{From: esdb.Revision(2)}, 3, []uint64{2, 3, 4}},
		{"forwards from the end", esdb.ReadStreamOptions{From: esdb.End{}}, 100, []uint64{}},
		{"backwards from the end", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 2, []uint64{5, 4}},
		{"backwards from 1", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(1)}, 100, []uint64{1, 0}},
		{"backwards from past the end", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(99)}, 1, []uint64{5}},
	} {
		got, err := readStream(c, "r", tc.opts, tc.n)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if g := revisions(got); !slices.Equal(g, tc.want) {
			t.Errorf("%s: revisions %v, want %v", tc.name, g, tc.want)
		}
	}
	if _, err := readStream(c, "missing", esdb.ReadStreamOptions{}, 1); err == nil {
		t.Fatalf("reading a missing stream succeeded")
	} else if e, ok := esdb.FromError(err); ok || e.Code() != esdb.ErrorCodeResourceNotFound {
		t.Fatalf("reading a missing stream: %v, want ErrorCodeResourceNotFound", err)
	}

	// $all: positions increase; a forwards read from a position includes
	// it, a backwards one starts before it; the events of one append share
	// a commit position.
	all := readAll(t, c, esdb.ReadAllOptions{}, 100)
	for i := 1; i < len(all); i++ {
		p, q := all[i-1].Position, all[i].Position
		if !(p.Commit < q.Commit || (p.Commit == q.Commit && p.Prepare < q.Prepare)) {
			t.Fatalf("$all positions %v then %v", p, q)
		}
	}
	mid := all[len(seeded)+1] // the second event of the first two-event append
	if mid.Position.Commit != all[len(seeded)].Position.Commit || mid.Position.Prepare == mid.Position.Commit {
		t.Fatalf("events of one append at %v and %v, want one commit position and their own prepare positions", all[len(seeded)].Position, mid.Position)
	}
	fwd := readAll(t, c, esdb.ReadAllOptions{From: mid.Position}, 2)
	if len(fwd) != 2 || fwd[0].EventID != mid.EventID {
		t.Fatalf("forwards from %v starts with %v, want the event at it", mid.Position, fwd[0].Position)
	}
	back := readAll(t, c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: mid.Position}, 1)
	if len(back) != 1 || back[0].EventID != all[len(seeded)].EventID {
		t.Fatalf("backwards from %v starts at %v, want the event before it", mid.Position, back[0].Position)
	}
	if last := readAll(t, c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1); last[0].EventID != all[len(all)-1].EventID {
		t.Fatalf("backwards from the end starts at %v, want the last event %v", last[0].Position, all[len(all)-1].Position)
	}
	// Stream reads carry the same positions.
	r, _ := readStream(c, "r", esdb.ReadStreamOptions{}, 1)
	if r[0].Position != all[len(seeded)].Position {
		t.Fatalf("stream read position %v, $all position %v", r[0].Position, all[len(seeded)].Position)
	}
	// What the client needs from every recorded event, or it exits.
	for _, e := range all {
		if e.ContentType == "" || e.EventType == "" || e.CreatedDate.IsZero() || time.Since(e.CreatedDate) > time.Hour {
			t.Fatalf("recorded event %s lacks type, content-type or created: %+v", e.EventID, e)
		}
	}
}

func TestSubscribeToAll(t *testing.T) {
	srv, c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	ours := ids(3)
	if _, err := c.AppendToStream(ctx, "sub", esdb.AppendToStreamOptions{}, event(ours[0])); err != nil {
		t.Fatal(err)
	}
	for range 40 { // more than one checkpoint interval of filtered-out events
		if _, err := c.AppendToStream(ctx, "$stats", esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "$statsCollected", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AppendToStream(ctx, "sub", esdb.AppendToStreamOptions{}, event(ours[1])); err != nil {
		t.Fatal(err)
	}

	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: esdb.ExcludeSystemEventsFilter()})
	if err != nil {
		t.Fatalf("subscribe (the client waits for the confirmation): %v", err)
	}
	defer sub.Close()
	var (
		got         []uuid.UUID
		checkpoints int
		caughtUp    bool
	)
	for len(got) < 3 {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			t.Fatalf("dropped: %v", ev.SubscriptionDropped.Error)
		case ev.CheckPointReached != nil:
			checkpoints++
		case ev.CaughtUp != nil:
			caughtUp = true
			if len(got) != 2 {
				t.Fatalf("caught up after %d events, want 2", len(got))
			}
			if _, err := c.AppendToStream(ctx, "sub", esdb.AppendToStreamOptions{}, event(ours[2])); err != nil {
				t.Fatal(err)
			}
		case ev.EventAppeared != nil:
			got = append(got, ev.EventAppeared.OriginalEvent().EventID)
		}
	}
	if !slices.Equal(got, ours) || checkpoints == 0 || !caughtUp {
		t.Fatalf("subscription gave %v with %d checkpoints (caught up %v); want our 3 events, checkpoints and CaughtUp", got, checkpoints, caughtUp)
	}
	if srv.Subscriptions() != 1 {
		t.Fatalf("%d subscriptions active, want 1", srv.Subscriptions())
	}

	// From a position: exclusive.
	first := readAll(t, c, esdb.ReadAllOptions{}, 100)
	var at esdb.Position
	for _, e := range first {
		if e.EventID == ours[0] {
			at = e.Position
		}
	}
	sub2, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: at, Filter: esdb.ExcludeSystemEventsFilter()})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	for {
		ev := sub2.Recv()
		if ev.SubscriptionDropped != nil {
			t.Fatalf("dropped: %v", ev.SubscriptionDropped.Error)
		}
		if ev.EventAppeared != nil {
			if id := ev.EventAppeared.OriginalEvent().EventID; id != ours[1] {
				t.Fatalf("subscription from %v delivered %s first, want the event after it", at, id)
			}
			break
		}
	}

	// Dropped by the server: the client sees the raw gRPC error.
	if n := srv.DropSubscriptions(); n != 2 {
		t.Fatalf("dropped %d subscriptions, want 2", n)
	}
	for {
		ev := sub.Recv()
		if ev.SubscriptionDropped != nil {
			if status.Code(ev.SubscriptionDropped.Error) != codes.Unavailable {
				t.Fatalf("drop error %v, want gRPC Unavailable", ev.SubscriptionDropped.Error)
			}
			break
		}
	}
}

func TestAppendValidation(t *testing.T) {
	srv, c := start(t, WithMaxAppendSize(16))
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	missing := func(meta map[string]string) error {
		call, err := streams.NewStreamsClient(conn).Append(ctx)
		if err != nil {
			return err
		}
		_ = call.Send(&streams.AppendReq{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{
			StreamIdentifier:       &shared.StreamIdentifier{StreamName: []byte("v")},
			ExpectedStreamRevision: &streams.AppendReq_Options_Any{Any: &shared.Empty{}},
		}}})
		_ = call.Send(&streams.AppendReq{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{
			Id:       protoUUID(uuid.New(), true),
			Metadata: meta,
			Data:     []byte(`{}`),
		}}})
		_, err = call.CloseAndRecv()
		return err
	}
	if err := missing(map[string]string{"content-type": "application/json"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("append without a type: %v, want InvalidArgument", err)
	}
	if err := missing(map[string]string{"type": "E"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("append without a content type: %v, want InvalidArgument", err)
	}
	big := event(uuid.New())
	big.Data = []byte(`"more than sixteen bytes"`)
	if _, err := c.AppendToStream(ctx, "v", esdb.AppendToStreamOptions{}, big); !strings.Contains(err.Error(), "Maximum Append Size of 16 Exceeded") {
		t.Fatalf("append over the maximum size: %v", err)
	}
}

func TestStopRestartTamper(t *testing.T) {
	srv, c := start(t)
	ctx := context.Background()
	if _, err := c.AppendToStream(ctx, "k", esdb.AppendToStreamOptions{}, events(ids(2)...)...); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	srv.Stop()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != addr {
		t.Fatalf("restarted on %s, was %s", srv.Addr(), addr)
	}
	c2 := connect(t, srv)
	before, err := readStream(c2, "k", esdb.ReadStreamOptions{}, 10)
	if err != nil || len(before) != 2 {
		t.Fatalf("after a restart the stream reads %d events, %v", len(before), err)
	}
	if !srv.Tamper("k", 1) || srv.Tamper("k", 2) {
		t.Fatalf("Tamper reports existence wrongly")
	}
	after, _ := readStream(c2, "k", esdb.ReadStreamOptions{}, 10)
	if string(after[1].Data) == string(before[1].Data) || len(after[1].Data) != len(before[1].Data) || string(after[0].Data) != string(before[0].Data) {
		t.Fatalf("Tamper changed %q to %q", before[1].Data, after[1].Data)
	}
	all := readAll(t, c2, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if string(all[0].Data) != string(after[1].Data) {
		t.Fatalf("$all still holds the untampered event")
	}
}
