package bench

import (
	"context"
	"io"
	"log/slog"
)

// NewLogger is the logger for the server under test. The API writes a
// line for every request, and formatting it is part of what a request
// costs, so every record from info up is formatted as serve's JSON logger
// formats it; but a bench of a few hundred thousand requests must not
// bury its table under them, so only warnings and errors reach w.
func NewLogger(w io.Writer) *slog.Logger {
	return slog.New(quietHandler{
		format: slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}),
		print:  slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}),
	})
}

type quietHandler struct{ format, print slog.Handler }

func (h quietHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		return h.print.Handle(ctx, r)
	}
	return h.format.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{format: h.format.WithAttrs(as), print: h.print.WithAttrs(as)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{format: h.format.WithGroup(name), print: h.print.WithGroup(name)}
}
