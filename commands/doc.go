// Package commands is zhaoshang's write side: one application service per
// command of API.md, each turning a request into facts in the event store
// under the rules of ../shared/design/DOMAIN.md.
//
// # Where things are
//
//   - app.go: Deps, New, App (one Handler per command), Meta, Result, the
//     Store interface this package needs (declared here, its consumer).
//   - one file per command (report_project.go, record_funds.go, …): its
//     request type, with the API's body fields typed, and its handler.
//   - access.go: the authorisation table of DOMAIN.md (role × operation →
//     forbidden, every unit, own unit only), the one place it is written,
//     and *ForbiddenError.
//   - decorate.go: the decorators New applies to every handler — the role
//     check, logging, metrics.
//   - engine.go: the write path shared by the handlers (execute), the
//     stream locks and the retry policy; project.go and supervision.go the
//     paths of commands on an existing project or order; load.go the
//     loading of streams through a cache of their decoded events; cache.go
//     the folded policy and units.
//   - exec.go, idempotency.go: one execution's ids and envelopes, and
//     idempotency keys.
//   - errors.go: ErrIdempotencyMismatch, ErrPreconditionFailed and their
//     types.
//
// # The write path
//
// A handler authorises the actor by role (decorator) and, once it knows the
// unit concerned, by unit; loads the aggregate's stream (the decoded events
// of recently used streams are cached, so only the events after them are
// read) and folds it with the domain's Apply; consults the policy in force
// and the registered units (both cached by their stream's version,
// re-checked with one read of the stream's last event); decides with the
// domain at now = Deps.Clock() in Deps.Location; and appends with the
// version it loaded as the expected version. The server stamps the
// envelope: actor, occurred_at (the event's business time), command id,
// correlation id (Meta.CorrelationID or the command id) and causation id
// (Meta.RequestID or the command id); the store stamps recorded_at and the
// hash chain.
//
// A lost race — another writer appended between the load and the append — is
// retried: the stream is loaded and the command decided again, up to
// Deps.MaxRetries times, because no decision depends on the caller's view of
// the version. With If-Match the caller named the version, so the command
// fails with *PreconditionFailedError instead. Within one process, commands
// on the same stream also queue on a stream lock so they do not spend their
// retries on each other; correctness never rests on it.
//
// A rejected command appends nothing, with one deliberate exception: a
// report rejected for 首报首谈 exclusivity is kept on record in the claim
// stream of the conflict for the centre (see reportProjectHandler.Handle,
// which also explains how a report claims under several keys).
//
// # Errors and HTTP
//
// Handlers return the domain's typed errors and this package's:
// domain.ErrValidation (*domain.ValidationError / domain.ValidationErrors,
// naming fields) 422; domain.ErrNotFound (*domain.NotFoundError, naming
// what and its id) 404; domain.ErrInvalidTransition 409;
// domain.ErrExclusivityConflict (*domain.ExclusivityConflictError) 409;
// domain.ErrAlreadyExists (*domain.AlreadyExistsError) 409; ErrForbidden
// (*ForbiddenError) 403;
// ErrPreconditionFailed (*PreconditionFailedError) 412;
// ErrIdempotencyMismatch (*IdempotencyMismatchError) 422;
// eventstore.ErrVersionConflict (retries exhausted) 409; anything else is a
// server failure (500).
//
// # Idempotency
//
// Meta.IdempotencyKey makes a retried command answer the first Result and
// append nothing, across restarts: the answer is recorded in the event store
// (stream IdempotencyStream(subject, key)) with the request's fingerprint,
// and the command's ids are derived from (subject, key, fingerprint) so a
// crash between the command's append and its record leaves a retry that
// finds its own events. idempotency.go has the details.
package commands
