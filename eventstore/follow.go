package eventstore

import (
	"context"
	"sync"
	"time"
)

// Notifier wakes every waiter at once when something was appended. Waiters
// take the channel before they read, so a wake-up between their read and
// their wait is never lost.
type Notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewNotifier returns a Notifier with no wake-up pending.
func NewNotifier() *Notifier { return &Notifier{ch: make(chan struct{})} }

// C returns a channel closed by the next Notify.
func (n *Notifier) C() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

// Notify wakes every current waiter.
func (n *Notifier) Notify() {
	n.mu.Lock()
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}

// ReadAllFunc is Store.ReadAll.
type ReadAllFunc func(ctx context.Context, after Position, max int) ([]Event, error)

// followBatch is how many events a follower reads at once.
const followBatch = 1024

// Follow implements Subscribe for backends whose readers poll the global
// log: it reads after the last delivered position until the log is
// exhausted, then waits for a wake-up from n or for the poll interval (the
// fallback for wake-ups lost, e.g. another process's appends), and reads
// again. Delivery order and exactly-once follow from ReadAll's guarantees
// and from resuming strictly after the last delivered position.
func Follow(ctx context.Context, read ReadAllFunc, n *Notifier, poll time.Duration, after Position, h Handler) error {
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		wake := n.C()
		batch, err := read(ctx, after, followBatch)
		if err != nil {
			return err
		}
		for _, e := range batch {
			if err := h(e); err != nil {
				return err
			}
			after = e.Position
		}
		if len(batch) == followBatch {
			continue
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(poll)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-timer.C:
		}
	}
}
