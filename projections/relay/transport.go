package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// Transport is both ends of the channel between the relay and the router:
// the relay publishes to it, the router's handlers subscribe to it and its
// poison queue publishes back to it.
type Transport interface {
	Publish(topic string, messages ...*message.Message) error
	Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error)
	Close() error
}

// OpenTransport opens the transport cfg.Publisher names: the in-process one
// or NATS JetStream (creating the stream when it does not exist).
func OpenTransport(cfg Config, logger watermill.LoggerAdapter) (Transport, error) {
	cfg = cfg.WithDefaults()
	kind, err := cfg.kind()
	if err != nil {
		return nil, err
	}
	if kind == kindNATS {
		return openNATS(cfg, logger)
	}
	return NewInProcess(logger), nil
}

var (
	// ErrNoSubscriber is returned by InProcess.Publish when nothing is
	// subscribed to the topic: the message would vanish, so the publisher
	// is told to try again later instead.
	ErrNoSubscriber = errors.New("relay: no subscriber on the in-process topic")
	// ErrSubscriberGone is returned by InProcess.Publish when a subscriber
	// went away while the message was in flight, so it may not have been
	// handled.
	ErrSubscriberGone = errors.New("relay: in-process subscriber closed before it acknowledged")
	errClosed         = errors.New("relay: in-process transport closed")
)

// InProcess is the in-process transport: a watermill GoChannel whose Publish
// returns only once every subscriber acknowledged the message. That is what
// keeps messages in order (a non-blocking GoChannel hands each message to
// its own goroutine) and makes publishing at-least-once end to end: the
// relay's checkpoint moves past an event only after the router handled it.
//
// GoChannel drops a message nobody is subscribed to and reports success when
// a subscriber closes before acknowledging; InProcess turns both into errors
// (ErrNoSubscriber, ErrSubscriberGone), which the relay retries.
type InProcess struct {
	ch *gochannel.GoChannel

	mu     sync.Mutex
	subs   map[string][]context.Context
	closed bool
}

// NewInProcess returns an empty in-process transport.
func NewInProcess(logger watermill.LoggerAdapter) *InProcess {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	return &InProcess{
		ch:   gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, logger),
		subs: make(map[string][]context.Context),
	}
}

// Subscribe delivers the messages published to topic from now on, until ctx
// is done.
func (p *InProcess) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	out, err := p.ch.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.subs[topic] = append(live(p.subs[topic]), ctx)
	p.mu.Unlock()
	return out, nil
}

// Publish hands each message to every subscriber of topic and waits for all
// of them to acknowledge it.
func (p *InProcess) Publish(topic string, messages ...*message.Message) error {
	for _, msg := range messages {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return errClosed
		}
		subs := live(p.subs[topic])
		p.subs[topic] = subs
		subs = append([]context.Context(nil), subs...)
		p.mu.Unlock()
		if len(subs) == 0 {
			return fmt.Errorf("%w %q", ErrNoSubscriber, topic)
		}
		if err := p.ch.Publish(topic, msg); err != nil {
			return err
		}
		// A subscriber discards an unacknowledged message only after its
		// context is done or the channel closed, both of which happen
		// before Publish returns; checking afterwards therefore catches
		// every message that may have been discarded.
		for _, ctx := range subs {
			if ctx.Err() != nil {
				return fmt.Errorf("%w (message %s, topic %q)", ErrSubscriberGone, msg.UUID, topic)
			}
		}
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return errClosed
		}
	}
	return nil
}

// Close closes the channel; subscribers' channels are closed and publishing
// fails from now on.
func (p *InProcess) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return p.ch.Close()
}

// live drops the subscriptions whose context is done.
func live(subs []context.Context) []context.Context {
	kept := subs[:0]
	for _, ctx := range subs {
		if ctx.Err() == nil {
			kept = append(kept, ctx)
		}
	}
	clear(subs[len(kept):])
	return kept
}
