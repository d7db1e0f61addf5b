package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors. Every error a decide function returns matches exactly one of
// them with errors.Is, so the API maps them to HTTP in one place.
var (
	// ErrValidation: the command is malformed (a missing field, an unknown
	// code, a future date). Details are in *ValidationError.
	ErrValidation = errors.New("validation failed")
	// ErrInvalidTransition: the command is well formed but the aggregate's
	// state does not allow it (registration before signing, anything after
	// termination, a second decision). Details are in *TransitionError.
	ErrInvalidTransition = errors.New("invalid transition")
	// ErrNotFound: the aggregate the command acts on does not exist.
	// Details are in *NotFoundError.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a command that creates an aggregate met an existing
	// one. Details are in *AlreadyExistsError.
	ErrAlreadyExists = errors.New("already exists")
	// ErrExclusivityConflict: another unit holds 首报首谈 rights on the
	// investor and chain. Details are in *ExclusivityConflictError.
	ErrExclusivityConflict = errors.New("exclusivity conflict")
	// ErrOverflow: money arithmetic left the int64 range.
	ErrOverflow = errors.New("money overflow")
	// ErrCurrencyMismatch: money of two currencies was added or compared.
	ErrCurrencyMismatch = errors.New("currency mismatch")
	// ErrUnknownEventType: Decode met a type name that is not registered.
	ErrUnknownEventType = errors.New("unknown event type")
)

// ValidationError names the offending field as it is spelt in the API's JSON
// bodies (dotted for nested fields: "investor.name", "commitments.funds[0].by"),
// the rule it broke (a stable code such as "required", "unknown", "not_future")
// and a human message.
type ValidationError struct {
	Field   string
	Rule    string
	Message string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// Is makes every ValidationError match ErrValidation.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// ValidationErrors is every field error of one command, in field order of the
// checks. errors.As finds both the list and its first *ValidationError.
type ValidationErrors []*ValidationError

func (es ValidationErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// Is makes the list itself match ErrValidation.
func (es ValidationErrors) Is(target error) bool { return target == ErrValidation }

// Unwrap exposes the single errors to errors.Is / errors.As.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// TransitionError says which action the current state refused.
type TransitionError struct {
	Aggregate string // "project", "supervision order", ...
	From      string // current stage or status
	Action    string // the refused command, e.g. "register company"
	Reason    string
}

func (e *TransitionError) Error() string {
	article := "a"
	if e.Aggregate != "" && strings.ContainsRune("aeiou", rune(e.Aggregate[0])) {
		article = "an"
	}
	msg := fmt.Sprintf("invalid transition: cannot %s %s %s in state %s", e.Action, article, e.Aggregate, e.From)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Is makes every TransitionError match ErrInvalidTransition.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

// ExclusivityConflictError is the rejection of a report while another unit holds
// first-negotiation rights (首报首谈, Jiaxing 2024 二(一)3): who holds them, on
// which project, and until when.
type ExclusivityConflictError struct {
	Key           string
	HolderUnit    UnitCode
	HolderProject string
	Until         time.Time
}

func (e *ExclusivityConflictError) Error() string {
	return fmt.Sprintf("exclusivity conflict: unit %s holds first-negotiation rights (project %s) until %s",
		e.HolderUnit, e.HolderProject, e.Until.Format(time.RFC3339))
}

// Is makes the error match ErrExclusivityConflict.
func (e *ExclusivityConflictError) Is(target error) bool { return target == ErrExclusivityConflict }

// NotFoundError names what was not found: the kind of aggregate ("project",
// "supervision order", …) and its id. The aggregates built for a stream
// (NewProjectFor, NewSupervisionOrder, NewToleranceCase) know the id before
// they exist, so their Decide names it; ID is empty only for an aggregate
// built without one.
type NotFoundError struct {
	What string
	ID   string
}

func (e *NotFoundError) Error() string {
	if e.ID == "" {
		return e.What + " not found"
	}
	return fmt.Sprintf("%s %s not found", e.What, e.ID)
}

// Is makes the error match ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// AlreadyExistsError is a creating command that met an existing aggregate:
// what it would have created and its id (a project whose stream is already
// written, an order or case id already issued).
type AlreadyExistsError struct {
	What string
	ID   string
}

func (e *AlreadyExistsError) Error() string {
	if e.ID == "" {
		return e.What + " already exists"
	}
	return fmt.Sprintf("%s %s already exists", e.What, e.ID)
}

// Is makes the error match ErrAlreadyExists.
func (e *AlreadyExistsError) Is(target error) bool { return target == ErrAlreadyExists }

// validator collects field errors of one command so the API can report them all.
type validator struct {
	errs ValidationErrors
}

func (v *validator) add(field, rule, format string, args ...any) {
	v.errs = append(v.errs, &ValidationError{Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// addErr adds err's field errors when it is a validation error; any other
// error is added under field as a generic "invalid" failure.
func (v *validator) addErr(field string, err error) {
	if err == nil {
		return
	}
	var ves ValidationErrors
	if errors.As(err, &ves) {
		v.errs = append(v.errs, ves...)
		return
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		v.errs = append(v.errs, ve)
		return
	}
	v.add(field, "invalid", "%v", err)
}

func (v *validator) required(field, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.add(field, "required", "is required")
		return false
	}
	return true
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

func transition(aggregate, from, action, reason string) error {
	return &TransitionError{Aggregate: aggregate, From: from, Action: action, Reason: reason}
}
