package commands

import (
	"errors"
	"fmt"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Errors a handler returns, beyond the domain's (domain.ErrValidation 422,
// domain.ErrInvalidTransition 409, domain.ErrNotFound 404 with
// *domain.NotFoundError, domain.ErrAlreadyExists 409 with
// *domain.AlreadyExistsError, domain.ErrExclusivityConflict 409) and the
// store's (eventstore.ErrVersionConflict 409 when the retries are exhausted):
var (
	// ErrIdempotencyMismatch: the idempotency key was used before for a
	// different command or body (HTTP 422 idempotency_mismatch).
	ErrIdempotencyMismatch = errors.New("idempotency key reused for a different request")
	// ErrPreconditionFailed: If-Match named a version the stream is not at
	// (HTTP 412). Details are in *PreconditionFailedError.
	ErrPreconditionFailed = errors.New("precondition failed")
)

// IdempotencyMismatchError names the key and the operation it was first
// used for.
type IdempotencyMismatchError struct {
	Key string
	// First is the operation the key was first used for; Operation the one
	// now refused.
	First, Operation Operation
}

func (e *IdempotencyMismatchError) Error() string {
	if e.First != e.Operation {
		return fmt.Sprintf("idempotency key %q was used for %s, not %s", e.Key, e.First, e.Operation)
	}
	return fmt.Sprintf("idempotency key %q was used for a %s with a different body", e.Key, e.Operation)
}

// Is makes the error match ErrIdempotencyMismatch.
func (e *IdempotencyMismatchError) Is(target error) bool { return target == ErrIdempotencyMismatch }

// PreconditionFailedError is a command refused because If-Match named
// version Expected while Stream was at Actual. It deliberately does not match
// eventstore.ErrVersionConflict: a stale If-Match is the client's
// precondition (412), a lost race after every retry is a conflict (409).
type PreconditionFailedError struct {
	Stream   string
	Expected uint64
	Actual   uint64
}

func (e *PreconditionFailedError) Error() string {
	return fmt.Sprintf("If-Match: %s is at version %d, not %d", e.Stream, e.Actual, e.Expected)
}

// Is makes the error match ErrPreconditionFailed.
func (e *PreconditionFailedError) Is(target error) bool { return target == ErrPreconditionFailed }

// mergeValidation joins the field errors of several checks into one
// domain.ValidationErrors, so a client learns every bad field at once (a
// field reported twice keeps its first error). It returns nil when every
// argument is nil, and the first error that is not a validation error when
// there is one.
func mergeValidation(errs ...error) error {
	var out domain.ValidationErrors
	seen := map[string]bool{}
	for _, err := range errs {
		if err == nil {
			continue
		}
		var list domain.ValidationErrors
		var one *domain.ValidationError
		switch {
		case errors.As(err, &list):
		case errors.As(err, &one):
			list = domain.ValidationErrors{one}
		default:
			return err
		}
		for _, ve := range list {
			if !seen[ve.Field] {
				seen[ve.Field] = true
				out = append(out, ve)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// rejected reports whether err is a refusal of the command (a client-side
// outcome the API answers with a 4xx), as opposed to a failure of the server.
func rejected(err error) bool {
	for _, target := range []error{domain.ErrValidation, domain.ErrInvalidTransition, domain.ErrNotFound,
		domain.ErrAlreadyExists, domain.ErrExclusivityConflict, ErrForbidden, ErrIdempotencyMismatch,
		ErrPreconditionFailed, eventstore.ErrVersionConflict} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func isValidation(err error) bool { return errors.Is(err, domain.ErrValidation) }
