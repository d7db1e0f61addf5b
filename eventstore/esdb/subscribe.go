package esdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Resubscription waits: doubled after each drop without a delivery in
// between, from the first to the last.
const (
	firstResubscribeWait = 50 * time.Millisecond
	lastResubscribeWait  = 5 * time.Second
)

// handlerError carries the handler's own error out of the subscription, to
// be returned as it is.
type handlerError struct{ err error }

func (h handlerError) Error() string { return h.err.Error() }

// Subscribe delivers every event after a position (exclusive), first those
// recorded, then live ones, through SubscribeToAll with a server-side filter
// that leaves out EventStoreDB's own events. When the subscription drops (the
// server restarts, the node changes, the server finds the handler too slow),
// it subscribes again from the last event delivered; events at or before
// that position are never delivered twice. It returns ctx.Err() when ctx
// ends, the handler's error when the handler fails, and any error retrying
// cannot cure.
//
// The server's checkpoints (sent for filtered subscriptions) are not used
// to resume: the last delivered event's position is exact and what callers
// checkpoint, and resuming from it costs at most a second look at the
// filtered-out events since.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, h eventstore.Handler) error {
	last := s.scope.start(after)
	wait := firstResubscribeWait
	for {
		delivered, err := s.subscribeOnce(ctx, &last, h)
		var herr handlerError
		switch {
		case errors.As(err, &herr):
			return herr.err
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, errClosed) || permanent(err):
			return fmt.Errorf("eventstore/esdb: subscription after %s: %w", last, err)
		}
		if delivered {
			wait = firstResubscribeWait
		}
		slog.Warn("eventstore/esdb: subscription dropped, subscribing again", "after", last.String(), "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, lastResubscribeWait)
	}
}

// subscribeOnce runs one subscription until it drops, advancing *last past
// every event it has looked at. A drop returns the client's raw error.
func (s *Store) subscribeOnce(ctx context.Context, last *eventstore.Position, h eventstore.Handler) (delivered bool, err error) {
	var sub *esdbclient.Subscription
	err = s.h.do(func(c *esdbclient.Client) error {
		var err error
		sub, err = c.SubscribeToAll(ctx, esdbclient.SubscribeToAllOptions{From: fromPosition(*last), Filter: s.scope.filter()})
		return err
	})
	if err != nil {
		return false, err
	}
	defer sub.Close()
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			if ev.SubscriptionDropped.Error == nil {
				return delivered, errors.New("subscription dropped")
			}
			return delivered, ev.SubscriptionDropped.Error
		case ev.EventAppeared != nil:
			re := ev.EventAppeared.OriginalEvent()
			p := toPosition(re.Position)
			if p.Compare(*last) <= 0 {
				continue
			}
			name, ok := s.scope.visible(re)
			if !ok {
				*last = p
				continue
			}
			e, err := decodeEvent(re, name)
			if err != nil {
				return delivered, err
			}
			if err := h(e); err != nil {
				return delivered, handlerError{err}
			}
			*last, delivered = p, true
		}
		// CheckPointReached, CaughtUp and FellBehind need nothing done.
	}
}
