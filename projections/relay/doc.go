// Package relay carries events outward, never inward: a Relay tails the
// store's global log from its own checkpoint file and publishes every event
// as a watermill message — in log order, one at a time, at least once, with
// the event id as the message id — to the in-process transport (a watermill
// GoChannel, the default) or to NATS JetStream; a watermill router
// (NewRouter) reacts to them with its middlewares (correlation id, poison
// queue, retry) and handlers, such as the webhook that tells the centre when
// a supervision alert opens. Serve runs the whole thing; docs/relay.md says
// what is published, what is guaranteed and how to configure it.
//
// Nothing published here flows back into the store: the relay reads the log
// and writes only its checkpoint.
//
// Files: config.go (Config, defaults, Validate), message.go (the message of
// an event), relay.go (the tailing loop, publish retries), checkpoint.go
// (the checkpoint file), transport.go (the in-process transport), nats.go
// (NATS JetStream), router.go (router and middlewares), webhook.go (the
// webhook handler and its payload), serve.go (running it all).
package relay
