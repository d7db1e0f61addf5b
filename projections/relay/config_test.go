package relay

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{CheckpointPath: "cp"}.WithDefaults()
	if c.Publisher != InProcessPublisher || c.Topic != DefaultTopic || c.PoisonTopic != DefaultTopic+".poison" ||
		c.CheckpointEvery != DefaultCheckpointEvery || c.HandlerRetries != DefaultHandlerRetries ||
		len(c.WebhookEvents) != 4 || c.NATSStream != DefaultNATSStream {
		t.Fatalf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := (Config{Topic: "a.b"}).WithDefaults().PoisonTopic; got != "a.b.poison" {
		t.Fatalf("poison topic follows the topic: %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{CheckpointPath: "cp"}
	cases := []struct {
		name   string
		change func(*Config)
		want   error
		says   string
	}{
		{"in-process by name", func(c *Config) { c.Publisher = "gochannel" }, nil, ""},
		{"NATS", func(c *Config) { c.Publisher = "nats://127.0.0.1:4222" }, nil, ""},
		{"NATS cluster with credentials", func(c *Config) { c.Publisher = "nats://u:p@a:4222, tls://b:4222" }, nil, ""},
		{"AMQP not yet", func(c *Config) { c.Publisher = "amqp://guest:guest@localhost:5672/" }, ErrUnsupportedPublisher, "AMQP"},
		{"Kafka not yet", func(c *Config) { c.Publisher = "kafka://localhost:9092" }, ErrUnsupportedPublisher, "Kafka"},
		{"PostgreSQL not yet", func(c *Config) { c.Publisher = "postgres://localhost/db" }, ErrUnsupportedPublisher, "PostgreSQL"},
		{"unknown scheme", func(c *Config) { c.Publisher = "redis://localhost" }, ErrInvalidConfig, "nats://"},
		{"not a URL", func(c *Config) { c.Publisher = "localhost:4222" }, ErrInvalidConfig, "gochannel"},
		{"NATS without host", func(c *Config) { c.Publisher = "nats://" }, ErrInvalidConfig, "no host"},
		{"poison topic is the topic", func(c *Config) { c.PoisonTopic = DefaultTopic }, ErrInvalidConfig, "PoisonTopic"},
		{"NATS wildcard topic", func(c *Config) { c.Publisher = "nats://h:4222"; c.Topic = "zhaoshang.>" }, ErrInvalidConfig, "literal NATS subject"},
		{"NATS stream name with a dot", func(c *Config) { c.Publisher = "nats://h:4222"; c.NATSStream = "a.b" }, ErrInvalidConfig, "NATSStream"},
		{"in-process topic may be anything", func(c *Config) { c.Topic = "zhaoshang events" }, nil, ""},
		{"webhook not http", func(c *Config) { c.WebhookURL = "ftp://x/y" }, ErrInvalidConfig, "WebhookURL"},
		{"webhook with no events", func(c *Config) { c.WebhookURL = "https://x/y"; c.WebhookEvents = []string{} }, ErrInvalidConfig, "WebhookEvents"},
		{"negative checkpoint batch", func(c *Config) { c.CheckpointEvery = -1 }, ErrInvalidConfig, "CheckpointEvery"},
		{"retry bounds inverted", func(c *Config) { c.PublishRetryMin = time.Second; c.PublishRetryMax = time.Millisecond }, ErrInvalidConfig, "publish retry"},
		{"negative handler retries", func(c *Config) { c.HandlerRetries = -1 }, ErrInvalidConfig, "HandlerRetries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.change(&cfg)
			err := cfg.WithDefaults().Validate()
			if c.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("Validate: %v, want %v saying %q", err, c.want, c.says)
			}
		})
	}
}

// Credentials in a refused URL do not end up in the error.
func TestConfigErrorsHidePasswords(t *testing.T) {
	err := Config{CheckpointPath: "cp", Publisher: "nats://u:hunter2@h:4222,redis://u:hunter2@h"}.WithDefaults().Validate()
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v", err)
	}
}

func TestHandlerBudgetCoversEveryAttempt(t *testing.T) {
	cfg := Config{WebhookTimeout: 10 * time.Second, HandlerRetries: 3, HandlerRetryMin: time.Second, HandlerRetryMax: 3 * time.Second}
	// 4 attempts × 10 s, backoffs 1 s, 2 s, 3 s (capped), each with 25% jitter.
	if got, want := handlerBudget(cfg), 40*time.Second+time.Duration(1.25*float64(6*time.Second)); got != want {
		t.Fatalf("budget %v, want %v", got, want)
	}
}

func TestRelayNeedsACheckpointPath(t *testing.T) {
	_, err := New(openStore(t), NewInProcess(nil), Config{}, nil)
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "CheckpointPath") {
		t.Fatalf("New without CheckpointPath: %v", err)
	}
	if err := Serve(t.Context(), openStore(t), Config{}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Serve without CheckpointPath: %v", err)
	}
	if err := Serve(t.Context(), openStore(t), Config{CheckpointPath: "cp", Publisher: "kafka://k:9092"}, nil); !errors.Is(err, ErrUnsupportedPublisher) {
		t.Fatalf("Serve with Kafka: %v", err)
	}
	// A router alone needs no checkpoint.
	if _, err := NewRouter(NewInProcess(nil), Config{WebhookURL: "http://127.0.0.1:1/x"}, nil); err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
}
