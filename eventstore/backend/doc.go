// Package backend opens an event store from its URL, the one place that
// knows every backend: bolt:PATH (embedded, the default), postgres://… and
// esdb://…. It is separate from package eventstore because the backends
// import eventstore.
package backend
