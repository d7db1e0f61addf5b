package commands

import (
	"context"
	"log/slog"
	"time"
)

// decorate wraps a handler in the cross-cutting concerns, innermost first:
// the role check of the authorisation table (before anything is loaded),
// then logging, then metrics, so the metrics see every outcome including
// refusals.
func decorate[C Command](e *engine, h Handler[C]) Handler[C] {
	h = authorizing[C]{next: h}
	if e.logger != nil {
		h = logging[C]{next: h, logger: e.logger}
	}
	if e.observe != nil {
		h = observing[C]{next: h, observe: e.observe}
	}
	return h
}

// authorizing refuses a command whose actor's role may not perform it for any
// unit; the unit scope is checked by the handler once it knows the unit.
type authorizing[C Command] struct{ next Handler[C] }

func (d authorizing[C]) Handle(ctx context.Context, cmd C) (Result, error) {
	if err := authorizeRole(cmd.Metadata().Actor, cmd.Operation()); err != nil {
		return Result{}, err
	}
	return d.next.Handle(ctx, cmd)
}

type logging[C Command] struct {
	next   Handler[C]
	logger *slog.Logger
}

func (d logging[C]) Handle(ctx context.Context, cmd C) (Result, error) {
	start := time.Now()
	r, err := d.next.Handle(ctx, cmd)
	m := cmd.Metadata()
	attrs := []slog.Attr{
		slog.String("operation", string(cmd.Operation())),
		slog.String("subject", m.Actor.Subject), slog.String("role", m.Actor.Role), slog.String("unit", m.Actor.Unit),
		slog.String("request_id", m.RequestID), slog.Duration("took", time.Since(start)),
	}
	switch {
	case err == nil:
		attrs = append(attrs, slog.String("stream", r.Stream), slog.Uint64("version", r.Version),
			slog.Int("appended", r.Appended), slog.Bool("replayed", r.Replayed), slog.String("command_id", r.CommandID))
		d.logger.LogAttrs(ctx, slog.LevelDebug, "command accepted", attrs...)
	case rejected(err):
		d.logger.LogAttrs(ctx, slog.LevelDebug, "command rejected", append(attrs, slog.String("error", err.Error()))...)
	default:
		d.logger.LogAttrs(ctx, slog.LevelError, "command failed", append(attrs, slog.String("error", err.Error()))...)
	}
	return r, err
}

type observing[C Command] struct {
	next    Handler[C]
	observe func(Operation, time.Duration, error)
}

func (d observing[C]) Handle(ctx context.Context, cmd C) (Result, error) {
	start := time.Now()
	r, err := d.next.Handle(ctx, cmd)
	d.observe(cmd.Operation(), time.Since(start), err)
	return r, err
}
