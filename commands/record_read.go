package commands

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Resources whose reads the API records (the audit's read-access log: who
// looked at which project's history or tolerance case, and when).
const (
	ReadProjectHistory = "project_history"
	ReadToleranceCase  = "tolerance_case"
	ReadAuditEvents    = "audit_events"
)

// RecordRead records that Meta.Actor read a resource: Resource is one of the
// Read… constants (or another lower-case name of at most 64 characters), ID
// the resource's id when it has one. Every role may record its own reads; the
// API calls it after authorising and answering the read. The event goes to
// the month's stream AccessStream("2024-06") in the configured zone, appended
// without an expected version: a log entry decides nothing.
type RecordRead struct {
	Resource string `json:"resource"`
	ID       string `json:"id,omitempty"`
	Meta     Meta   `json:"-"`
}

// Operation is OpRecordRead.
func (RecordRead) Operation() Operation { return OpRecordRead }

// Metadata returns the command's Meta.
func (c RecordRead) Metadata() Meta { return c.Meta }

// ReadRecorded is the data of TypeReadRecorded. The reader is the event's
// actor, the moment its occurred_at.
type ReadRecorded struct {
	Resource  string `json:"resource"`
	ID        string `json:"id,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// AccessStream is "access-<YYYY-MM>": one stream per month keeps each stream
// short and lets an auditor read a month's accesses directly.
func AccessStream(month string) string { return CategoryAccess + "-" + month }

type recordReadHandler struct{ e *engine }

func (h recordReadHandler) Handle(ctx context.Context, c RecordRead) (Result, error) {
	if err := checkResource(c); err != nil {
		return Result{}, err
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		now := h.e.now()
		stream := AccessStream(now.Format("2006-01"))
		data, err := json.Marshal(ReadRecorded{Resource: c.Resource, ID: c.ID, RequestID: c.Meta.RequestID})
		if err != nil {
			return Result{}, fmt.Errorf("commands: encode read record: %w", err)
		}
		ne := eventstore.NewEvent{ID: x.eventID(roleMain, 0), Type: TypeReadRecorded, Data: data, OccurredAt: now,
			Actor: x.meta.Actor, CommandID: x.commandID, CorrelationID: x.correlationID, CausationID: x.causationID}
		res, err := h.e.store.Append(ctx, stream, eventstore.Any(), []eventstore.NewEvent{ne})
		if err != nil {
			return Result{}, err
		}
		return x.result(stream, stream, res.Version, res.Position, 1), nil
	})
}

func checkResource(c RecordRead) error {
	var errs domain.ValidationErrors
	r := c.Resource
	switch {
	case r == "":
		errs = append(errs, &domain.ValidationError{Field: "resource", Rule: "required", Message: "is required"})
	case len(r) > 64:
		errs = append(errs, &domain.ValidationError{Field: "resource", Rule: "too_long", Message: "has more than 64 characters"})
	default:
		for i := 0; i < len(r); i++ {
			if !(r[i] >= 'a' && r[i] <= 'z' || r[i] == '_') {
				errs = append(errs, &domain.ValidationError{Field: "resource", Rule: "format", Message: "must be lower-case letters and '_'"})
				break
			}
		}
	}
	if len(c.ID) > 200 {
		errs = append(errs, &domain.ValidationError{Field: "id", Rule: "too_long", Message: "has more than 200 characters"})
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}
