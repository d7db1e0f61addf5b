package relay

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// Handler names of the router. Stable: with NATS they name the durable
// consumers' positions, and the poison queue records them.
const (
	HandlerWebhook   = "webhook"
	HandlerPoisonLog = "poison_log"
)

// retryJitter is the randomisation of the handler retry backoff, so that
// retries of several consumers of one broken endpoint spread out.
const retryJitter = 0.25

// NewRouter returns a watermill router reading t: router-level middlewares
// CorrelationID, PoisonQueue (to cfg.PoisonTopic), Retry and Recoverer, in
// that order from the outside in; the handler "webhook" (when
// cfg.WebhookURL is set) on cfg.Topic; and the handler "poison_log" on
// cfg.PoisonTopic, which logs every poisoned message at error level so that
// none disappears unnoticed.
//
// The router does not own t: closing the router leaves it open. The caller
// may add handlers before running it.
func NewRouter(t Transport, cfg Config, logger watermill.LoggerAdapter) (*message.Router, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil transport", ErrInvalidConfig)
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	router, err := message.NewRouter(message.RouterConfig{}, logger)
	if err != nil {
		return nil, err
	}
	// A handler stopped by shutdown failed for no fault of the message; it
	// is left unacknowledged (the broker, or the relay for the in-process
	// transport, delivers it again) instead of being poisoned.
	poison, err := middleware.PoisonQueueWithFilter(poisonIDs{t}, cfg.PoisonTopic, func(err error) bool {
		return !errors.Is(err, context.Canceled)
	})
	if err != nil {
		return nil, err
	}
	router.AddMiddleware(
		middleware.CorrelationID,
		poison,
		middleware.Retry{
			MaxRetries:          cfg.HandlerRetries,
			InitialInterval:     cfg.HandlerRetryMin,
			MaxInterval:         cfg.HandlerRetryMax,
			Multiplier:          2,
			RandomizationFactor: retryJitter,
			// Each attempt gets the message's own context back, or the
			// first attempt's timeout would cancel every later one.
			ResetContextOnRetry: true,
			Logger:              logger,
		}.Middleware,
		middleware.Recoverer,
	)
	sub := keepOpen{t}
	if cfg.WebhookURL != "" {
		wh := NewWebhook(cfg, &http.Client{Timeout: cfg.WebhookTimeout})
		router.AddConsumerHandler(HandlerWebhook, cfg.Topic, sub, wh.Handle)
	}
	router.AddConsumerHandler(HandlerPoisonLog, cfg.PoisonTopic, sub, func(msg *message.Message) error {
		logger.Error("Message poisoned", errors.New(msg.Metadata.Get(middleware.ReasonForPoisonedKey)), watermill.LogFields{
			"event_id":       msg.Metadata.Get(MetaEventID),
			"type":           msg.Metadata.Get(MetaType),
			"stream":         msg.Metadata.Get(MetaStream),
			"position":       msg.Metadata.Get(MetaPosition),
			"handler":        msg.Metadata.Get(middleware.PoisonedHandlerKey),
			"correlation_id": msg.Metadata.Get(MetaCorrelationID),
		})
		return nil
	})
	return router, nil
}

// keepOpen is a subscriber whose Close does nothing: a watermill router
// closes its handlers' subscribers when it stops, but the transport is
// shared with the relay and closed by whoever opened it.
type keepOpen struct{ Transport }

func (keepOpen) Close() error { return nil }

// poisonIDs publishes poisoned messages under an id of their own,
// "<event id>.poison.<handler>", the event id kept in metadata (MetaEventID):
// JetStream deduplicates by message id across the whole stream, so the
// event's own id would make the poisoned copy a duplicate of the original
// and drop it. The id stays deterministic so that a message poisoned again
// after a redelivery is still deduplicated.
type poisonIDs struct{ Transport }

func (p poisonIDs) Publish(topic string, messages ...*message.Message) error {
	out := make([]*message.Message, len(messages))
	for i, m := range messages {
		c := m.Copy()
		c.UUID = m.UUID + ".poison." + m.Metadata.Get(middleware.PoisonedHandlerKey)
		c.Metadata.Set(MetaEventID, m.UUID)
		out[i] = c
	}
	return p.Transport.Publish(topic, out...)
}
