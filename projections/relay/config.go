package relay

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// InProcessPublisher is the Publisher value of the default, in-process
// transport.
const InProcessPublisher = "gochannel"

// Defaults of Config; see the fields for what each means.
const (
	DefaultTopic               = "zhaoshang.events"
	DefaultCheckpointEvery     = 256
	DefaultCheckpointInterval  = time.Second
	DefaultPublishRetryMin     = 100 * time.Millisecond
	DefaultPublishRetryMax     = 30 * time.Second
	DefaultWebhookTimeout      = 10 * time.Second
	DefaultHandlerRetries      = 5
	DefaultHandlerRetryMin     = 500 * time.Millisecond
	DefaultHandlerRetryMax     = 30 * time.Second
	DefaultNATSStream          = "ZHAOSHANG_EVENTS"
	DefaultNATSDurable         = "zhaoshang-router"
	DefaultNATSDuplicateWindow = 10 * time.Minute
)

// DefaultWebhookEvents are the event types the webhook handler notifies by
// default: each opens something the investment-promotion centre has to act
// on (see webhook.go for the notification kinds).
func DefaultWebhookEvents() []string {
	return []string{
		domain.TypeReportRejected,
		domain.TypeSupervisionOrderIssued,
		domain.TypeProjectTerminated,
		domain.TypeToleranceRequested,
	}
}

var (
	// ErrInvalidConfig is matched (errors.Is) by every error of Validate.
	ErrInvalidConfig = errors.New("relay: invalid config")
	// ErrUnsupportedPublisher is matched by the Validate error for a
	// publisher URL whose broker this build does not support yet (AMQP,
	// Kafka, PostgreSQL).
	ErrUnsupportedPublisher = errors.New("relay: publisher not supported")
)

// Config configures a relay, its transport and its router. The zero value
// of every field but CheckpointPath means its default; WithDefaults fills
// them in and Validate checks the result.
type Config struct {
	// Publisher is where events go: "gochannel" (or empty) for the
	// in-process transport, or a NATS JetStream URL "nats://host:port"
	// (also tls://, a comma-separated list of servers, credentials in the
	// URL as nats.go accepts them).
	Publisher string
	// Topic events are published to (a NATS subject). Default
	// DefaultTopic.
	Topic string
	// PoisonTopic receives messages a handler could not process after its
	// retries. Default Topic + ".poison".
	PoisonTopic string

	// CheckpointPath is the file holding the position of the last event
	// published. Required by New (a relay without one would publish the
	// whole log again on every start); a router alone does not need it.
	CheckpointPath string
	// CheckpointEvery writes the checkpoint after this many events. Default
	// DefaultCheckpointEvery. A crash re-publishes at most the events since
	// the last write, which bounds the duplicates of at-least-once.
	CheckpointEvery int
	// CheckpointInterval writes the checkpoint this often while events
	// trickle in below CheckpointEvery. Default DefaultCheckpointInterval.
	CheckpointInterval time.Duration
	// FromHead, when no checkpoint exists yet, starts after the last event
	// of the log instead of at its beginning: a relay added to a ledger
	// that has run for years notifies what happens from now on, not every
	// alert of the past.
	FromHead bool
	// PublishRetryMin and PublishRetryMax bound the exponential backoff
	// between attempts to publish an event the publisher refused; the relay
	// retries until it succeeds or is stopped and never skips an event.
	PublishRetryMin time.Duration
	PublishRetryMax time.Duration

	// WebhookURL receives notifications (webhook.go). Empty: the router has
	// no webhook handler.
	WebhookURL string
	// WebhookSecret, when set, signs every notification body with
	// HMAC-SHA256 in the X-Zhaoshang-Signature header ("sha256=<hex>").
	WebhookSecret string
	// WebhookEvents are the event types notified. Default
	// DefaultWebhookEvents().
	WebhookEvents []string
	// WebhookTimeout bounds one POST. Default DefaultWebhookTimeout.
	WebhookTimeout time.Duration

	// HandlerRetries is how many times a failed handler is retried, with a
	// backoff from HandlerRetryMin doubling up to HandlerRetryMax, before
	// the message goes to PoisonTopic. Defaults DefaultHandlerRetries,
	// DefaultHandlerRetryMin, DefaultHandlerRetryMax.
	HandlerRetries  int
	HandlerRetryMin time.Duration
	HandlerRetryMax time.Duration

	// NATSStream is the JetStream stream holding Topic and PoisonTopic. When
	// it does not exist the relay creates it (file storage, duplicate window
	// NATSDuplicateWindow); an existing stream is used as it is configured.
	// Default DefaultNATSStream.
	NATSStream string
	// NATSDuplicateWindow is the duplicate window of a stream the relay
	// creates: a message whose id the stream saw within it is dropped.
	// Default DefaultNATSDuplicateWindow.
	NATSDuplicateWindow time.Duration
	// NATSDurable prefixes the durable consumer names of the router's
	// handlers, so that a restarted router resumes where it acknowledged.
	// Default DefaultNATSDurable.
	NATSDurable string
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Publisher == "" {
		c.Publisher = InProcessPublisher
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.PoisonTopic == "" {
		c.PoisonTopic = c.Topic + ".poison"
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = DefaultCheckpointEvery
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = DefaultCheckpointInterval
	}
	if c.PublishRetryMin == 0 {
		c.PublishRetryMin = DefaultPublishRetryMin
	}
	if c.PublishRetryMax == 0 {
		c.PublishRetryMax = DefaultPublishRetryMax
	}
	if c.WebhookEvents == nil {
		c.WebhookEvents = DefaultWebhookEvents()
	}
	if c.WebhookTimeout == 0 {
		c.WebhookTimeout = DefaultWebhookTimeout
	}
	if c.HandlerRetries == 0 {
		c.HandlerRetries = DefaultHandlerRetries
	}
	if c.HandlerRetryMin == 0 {
		c.HandlerRetryMin = DefaultHandlerRetryMin
	}
	if c.HandlerRetryMax == 0 {
		c.HandlerRetryMax = DefaultHandlerRetryMax
	}
	if c.NATSStream == "" {
		c.NATSStream = DefaultNATSStream
	}
	if c.NATSDuplicateWindow == 0 {
		c.NATSDuplicateWindow = DefaultNATSDuplicateWindow
	}
	if c.NATSDurable == "" {
		c.NATSDurable = DefaultNATSDurable
	}
	return c
}

// transportKind is what Publisher names.
type transportKind uint8

const (
	kindInProcess transportKind = iota + 1
	kindNATS
)

// unsupportedSchemes maps the schemes of brokers watermill supports but this
// build does not wire yet to their name, so that such a URL is refused with
// a sentence instead of being taken for something else.
var unsupportedSchemes = map[string]string{
	"amqp":       "AMQP (RabbitMQ)",
	"amqps":      "AMQP (RabbitMQ)",
	"kafka":      "Kafka",
	"postgres":   "PostgreSQL",
	"postgresql": "PostgreSQL",
}

// natsName matches what JetStream accepts as a stream or consumer name.
var natsName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// natsSubject matches a literal NATS subject: dot-separated tokens, no
// wildcards, no spaces.
var natsSubject = regexp.MustCompile(`^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$`)

func (c Config) kind() (transportKind, error) {
	p := strings.TrimSpace(c.Publisher)
	if p == "" || p == InProcessPublisher {
		return kindInProcess, nil
	}
	scheme, _, ok := strings.Cut(p, "://")
	if !ok {
		// Not echoed: without a scheme there is no telling which part of
		// it is a password.
		return 0, fmt.Errorf("%w: publisher is neither %q nor a nats:// URL", ErrInvalidConfig, InProcessPublisher)
	}
	scheme = strings.ToLower(scheme)
	if name, ok := unsupportedSchemes[scheme]; ok {
		return 0, fmt.Errorf("%w: %s publishers are not supported yet; use %q or nats://", ErrUnsupportedPublisher, name, InProcessPublisher)
	}
	for _, server := range strings.Split(p, ",") {
		u, err := url.Parse(strings.TrimSpace(server))
		if err != nil {
			return 0, fmt.Errorf("%w: publisher: %v", ErrInvalidConfig, err)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return 0, fmt.Errorf("%w: publisher server %q: want nats://, tls://, ws:// or wss://", ErrInvalidConfig, u.Redacted())
		}
		if u.Host == "" {
			return 0, fmt.Errorf("%w: publisher server %q has no host", ErrInvalidConfig, u.Redacted())
		}
	}
	return kindNATS, nil
}

// Validate reports the first problem of c (after WithDefaults), as an error
// matching ErrInvalidConfig or ErrUnsupportedPublisher.
func (c Config) Validate() error {
	kind, err := c.kind()
	if err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if c.Topic == "" || c.PoisonTopic == "" {
		return bad("Topic and PoisonTopic must be set")
	}
	if c.Topic == c.PoisonTopic {
		return bad("PoisonTopic must differ from Topic %q", c.Topic)
	}
	if c.CheckpointEvery < 1 {
		return bad("CheckpointEvery %d: want at least 1", c.CheckpointEvery)
	}
	if c.CheckpointInterval <= 0 {
		return bad("CheckpointInterval must be positive")
	}
	if c.PublishRetryMin <= 0 || c.PublishRetryMax < c.PublishRetryMin {
		return bad("publish retry bounds %v..%v: want 0 < min <= max", c.PublishRetryMin, c.PublishRetryMax)
	}
	if c.HandlerRetries < 0 {
		return bad("HandlerRetries %d: want at least 0", c.HandlerRetries)
	}
	if c.HandlerRetryMin <= 0 || c.HandlerRetryMax < c.HandlerRetryMin {
		return bad("handler retry bounds %v..%v: want 0 < min <= max", c.HandlerRetryMin, c.HandlerRetryMax)
	}
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil {
			return bad("WebhookURL: %v", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("WebhookURL %q: want an http:// or https:// URL", u.Redacted())
		}
		if c.WebhookTimeout <= 0 {
			return bad("WebhookTimeout must be positive")
		}
		if len(c.WebhookEvents) == 0 {
			return bad("WebhookEvents is empty: the webhook would never be called")
		}
	}
	if kind == kindNATS {
		for _, s := range []string{c.Topic, c.PoisonTopic} {
			if !natsSubject.MatchString(s) {
				return bad("topic %q is not a literal NATS subject (tokens of letters, digits, _ or -, separated by dots)", s)
			}
		}
		if !natsName.MatchString(c.NATSStream) {
			return bad("NATSStream %q: want letters, digits, _ or -", c.NATSStream)
		}
		if !natsName.MatchString(c.NATSDurable) {
			return bad("NATSDurable %q: want letters, digits, _ or -", c.NATSDurable)
		}
		if c.NATSDuplicateWindow <= 0 {
			return bad("NATSDuplicateWindow must be positive")
		}
	}
	return nil
}

// target names where the relay publishes, as recorded in the checkpoint: a
// checkpoint says how far one destination has been fed, and another
// destination must not silently inherit it. Credentials and server lists
// are left out on purpose: they change without the destination changing.
func (c Config) target() string {
	kind, _ := c.kind()
	if kind == kindNATS {
		return "nats:" + c.NATSStream + "/" + c.Topic
	}
	return InProcessPublisher + "/" + c.Topic
}
