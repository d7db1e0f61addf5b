package relay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// natsTransport publishes to and subscribes from NATS JetStream through
// watermill-nats, one connection for each direction so that closing one
// never cuts the other short.
type natsTransport struct {
	pub *wmnats.Publisher
	sub *wmnats.Subscriber
}

func openNATS(cfg Config, logger watermill.LoggerAdapter) (_ Transport, err error) {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	connect := func(role string) (*nats.Conn, error) {
		conn, err := nats.Connect(cfg.Publisher,
			nats.Name("zhaoshang-relay-"+role),
			// A broker restart must not end the relay: publishing errors
			// while disconnected are retried by the relay, and the
			// connection comes back by itself.
			nats.MaxReconnects(-1),
			nats.ReconnectWait(time.Second),
		)
		if err != nil {
			return nil, fmt.Errorf("relay: connect to NATS: %w", err)
		}
		return conn, nil
	}
	pubConn, err := connect("publisher")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			pubConn.Close()
		}
	}()
	if err := ensureStream(pubConn, cfg); err != nil {
		return nil, err
	}
	pub, err := wmnats.NewPublisherWithNatsConn(pubConn, wmnats.PublisherPublishConfig{
		Marshaler:         &wmnats.NATSMarshaler{},
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			// The message id (the event id) becomes Nats-Msg-Id, so the
			// stream drops a re-publication within its duplicate window.
			TrackMsgId: true,
			// watermill-nats appends to this slice on every publish; a
			// literal has len == cap, so each append copies and
			// concurrent publishers (the relay, the poison queue) never
			// share the array.
			PublishOptions: []nats.PubOpt{nats.ExpectStream(cfg.NATSStream)},
		},
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("relay: NATS publisher: %w", err)
	}
	subConn, err := connect("subscriber")
	if err != nil {
		return nil, err
	}
	ackWait := handlerBudget(cfg) + 30*time.Second
	sub, err := wmnats.NewSubscriberWithNatsConn(subConn, wmnats.SubscriberSubscriptionConfig{
		Unmarshaler:       &wmnats.NATSMarshaler{},
		SubscribersCount:  1,
		AckWaitTimeout:    ackWait,
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			DurablePrefix:     cfg.NATSDurable,
			DurableCalculator: durableName,
			SubscribeOptions: []nats.SubOpt{
				nats.BindStream(cfg.NATSStream),
				nats.DeliverAll(),
				nats.AckExplicit(),
				// Without ManualAck nats.go acknowledges when the callback
				// returns, even when watermill gave up waiting for the
				// handler: a message could be lost.
				nats.ManualAck(),
				// One message in flight keeps handlers in log order, even
				// across redeliveries.
				nats.MaxAckPending(1),
				nats.AckWait(ackWait),
			},
		},
	}, logger)
	if err != nil {
		subConn.Close()
		return nil, fmt.Errorf("relay: NATS subscriber: %w", err)
	}
	return &natsTransport{pub: pub, sub: sub}, nil
}

// ensureStream creates the stream when it does not exist, and checks that
// the one that exists is where both topics are stored.
func ensureStream(conn *nats.Conn, cfg Config) error {
	js, err := conn.JetStream()
	if err != nil {
		return fmt.Errorf("relay: JetStream: %w", err)
	}
	_, err = js.StreamInfo(cfg.NATSStream)
	switch {
	case errors.Is(err, nats.ErrStreamNotFound):
		_, err = js.AddStream(&nats.StreamConfig{
			Name:        cfg.NATSStream,
			Description: "zhaoshang events published by the relay",
			Subjects:    []string{cfg.Topic, cfg.PoisonTopic},
			Storage:     nats.FileStorage,
			Retention:   nats.LimitsPolicy,
			Duplicates:  cfg.NATSDuplicateWindow,
		})
		if err != nil && !errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("relay: create JetStream stream %s: %w", cfg.NATSStream, err)
		}
	case err != nil:
		return fmt.Errorf("relay: JetStream stream %s: %w", cfg.NATSStream, err)
	}
	for _, subject := range []string{cfg.Topic, cfg.PoisonTopic} {
		name, err := js.StreamNameBySubject(subject)
		if err != nil {
			return fmt.Errorf("relay: JetStream stream %s does not store subject %q: %w", cfg.NATSStream, subject, err)
		}
		if name != cfg.NATSStream {
			return fmt.Errorf("relay: subject %q is stored by JetStream stream %s, not %s", subject, name, cfg.NATSStream)
		}
	}
	return nil
}

// durableName derives a consumer name from the prefix and the topic: one
// durable consumer per subscribed topic, named so that an operator can tell
// which is which.
func durableName(prefix, topic string) string {
	return prefix + "_" + strings.NewReplacer(".", "_", "*", "_", ">", "_").Replace(topic)
}

// handlerBudget is the longest a handler can take with its retries: every
// attempt timing out plus every backoff at its cap and its jitter. A broker
// must not give a message to someone else before that.
func handlerBudget(cfg Config) time.Duration {
	budget := time.Duration(cfg.HandlerRetries+1) * cfg.WebhookTimeout
	delay := cfg.HandlerRetryMin
	for range cfg.HandlerRetries {
		budget += delay + time.Duration(float64(delay)*retryJitter)
		delay = min(2*delay, cfg.HandlerRetryMax)
	}
	return budget
}

func (t *natsTransport) Publish(topic string, messages ...*message.Message) error {
	return t.pub.Publish(topic, messages...)
}

func (t *natsTransport) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	return t.sub.Subscribe(ctx, topic)
}

func (t *natsTransport) Close() error {
	return errors.Join(t.sub.Close(), t.pub.Close())
}
