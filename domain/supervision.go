package domain

import (
	"slices"
	"time"
)

// SupervisionOrder is the state of one supervision stream (督办,
// supervision-<uuid>).
type SupervisionOrder struct {
	// id is the order id of the stream, when the caller said
	// (NewSupervisionOrder), so that a not-found error names it.
	id       string
	issued   *SupervisionOrderIssued
	progress []SupervisionProgressReported
	closed   *SupervisionOrderClosed
}

// Order status values.
const (
	OrderOpen   = "open"
	OrderClosed = "closed"
)

// NewSupervisionOrder returns an empty order to fold the stream of order id
// into: if the stream turns out to be empty, Decide's *NotFoundError names id.
// The zero SupervisionOrder is usable too; its not-found error has no id.
func NewSupervisionOrder(id string) *SupervisionOrder { return &SupervisionOrder{id: id} }

// Apply folds one event; other events are ignored.
func (o *SupervisionOrder) Apply(e Event) {
	switch e := Unwrap(e).(type) {
	case SupervisionOrderIssued:
		if o.issued == nil {
			i := e
			o.issued = &i
		}
	case SupervisionProgressReported:
		o.progress = append(o.progress, e)
	case SupervisionOrderClosed:
		if o.closed == nil {
			c := e
			o.closed = &c
		}
	}
}

// Exists reports whether the order was issued.
func (o *SupervisionOrder) Exists() bool { return o.issued != nil }

// Issued returns the order as issued (the six 定).
func (o *SupervisionOrder) Issued() (SupervisionOrderIssued, bool) {
	if o.issued == nil {
		return SupervisionOrderIssued{}, false
	}
	return *o.issued, true
}

// Progress lists the progress reports.
func (o *SupervisionOrder) Progress() []SupervisionProgressReported { return slices.Clone(o.progress) }

// Closure returns the closure, if closed.
func (o *SupervisionOrder) Closure() (SupervisionOrderClosed, bool) {
	if o.closed == nil {
		return SupervisionOrderClosed{}, false
	}
	return *o.closed, true
}

// Status is open or closed ("" before issue).
func (o *SupervisionOrder) Status() string {
	switch {
	case o.issued == nil:
		return ""
	case o.closed != nil:
		return OrderClosed
	}
	return OrderOpen
}

// Overdue is the order_overdue alert: past the end of its deadline (办结时间,
// Xiamen 三(五)3) in loc and not closed.
func (o *SupervisionOrder) Overdue(now time.Time, loc *time.Location) bool {
	return o.issued != nil && o.closed == nil && !now.Before(o.issued.Deadline.End(loc))
}

// SupervisionCommand is a command on a supervision order.
type SupervisionCommand interface{ supervisionCommand() }

// IssueOrder is POST /supervision/orders (centre only).
type IssueOrder struct {
	OrderID         string   `json:"-"`
	ProjectID       string   `json:"project_id,omitempty"`
	Matter          string   `json:"matter"`
	Target          string   `json:"target"`
	LeadLeader      string   `json:"lead_leader"`
	ResponsibleUnit UnitCode `json:"responsible_unit"`
	Requirements    string   `json:"requirements"`
	Deadline        Date     `json:"deadline"`
}

// ReportProgress is POST /supervision/orders/{id}/progress.
type ReportProgress struct {
	OccurredAt time.Time `json:"occurred_at"`
	Summary    string    `json:"summary"`
}

// CloseOrder is POST /supervision/orders/{id}/closure (centre only).
type CloseOrder struct {
	OccurredAt time.Time `json:"occurred_at"`
	Result     string    `json:"result"`
}

func (IssueOrder) supervisionCommand()     {}
func (ReportProgress) supervisionCommand() {}
func (CloseOrder) supervisionCommand()     {}

// Decide decides a supervision command. An order carries all six 定 (Xiamen
// 三(五)3 "定落实事项、目标任务、牵头领导、责任单位、工作要求、办结时间"), each
// required; its deadline may not be before the day it is issued (in now's
// zone). Progress is reported on open orders only (Changsha 十三 周调度、月通报
// 交办); an order closes once and nothing follows its closure.
func (o *SupervisionOrder) Decide(cmd SupervisionCommand, pol Policy, now time.Time) ([]Event, error) {
	var v validator
	switch c := cmd.(type) {
	case IssueOrder:
		if o.issued != nil {
			return nil, &AlreadyExistsError{What: "supervision order", ID: o.issued.OrderID}
		}
		checkID(&v, "id", c.OrderID)
		if c.ProjectID != "" && !ValidID(c.ProjectID) {
			v.add("project_id", "format", "must be a UUID")
		}
		checkText(&v, "matter", c.Matter, true, maxSummary)
		checkText(&v, "target", c.Target, true, maxSummary)
		checkText(&v, "lead_leader", c.LeadLeader, true, maxName)
		v.addErr("responsible_unit", c.ResponsibleUnit.Validate("responsible_unit"))
		checkText(&v, "requirements", c.Requirements, true, maxSummary)
		switch {
		case c.Deadline.IsZero():
			v.add("deadline", "required", "is required")
		case !c.Deadline.Valid():
			v.add("deadline", "format", "must be a real date YYYY-MM-DD")
		case c.Deadline.Before(DateOf(now, nil)):
			v.add("deadline", "past", "must not be before today")
		}
		if err := v.err(); err != nil {
			return nil, err
		}
		return []Event{SupervisionOrderIssued{OrderID: c.OrderID, ProjectID: c.ProjectID, Matter: c.Matter,
			Target: c.Target, LeadLeader: c.LeadLeader, ResponsibleUnit: c.ResponsibleUnit,
			Requirements: c.Requirements, Deadline: c.Deadline, OccurredAt: now}}, nil
	case ReportProgress:
		if err := o.requireOpen("report progress on"); err != nil {
			return nil, err
		}
		checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
		if !c.OccurredAt.IsZero() && c.OccurredAt.Before(o.issued.OccurredAt) {
			// Progress answers the order (Xiamen 三(五)3 督办): it cannot precede it.
			v.add("occurred_at", "before_issue", "must not be before the order was issued")
		}
		checkText(&v, "summary", c.Summary, true, maxSummary)
		if err := v.err(); err != nil {
			return nil, err
		}
		return []Event{SupervisionProgressReported{OrderID: o.issued.OrderID, OccurredAt: c.OccurredAt,
			Summary: c.Summary}}, nil
	case CloseOrder:
		if err := o.requireOpen("close"); err != nil {
			return nil, err
		}
		checkOccurred(&v, "occurred_at", c.OccurredAt, now, pol)
		if !c.OccurredAt.IsZero() && c.OccurredAt.Before(o.issued.OccurredAt) {
			v.add("occurred_at", "before_issue", "must not be before the order was issued")
		}
		checkText(&v, "result", c.Result, true, maxSummary)
		if err := v.err(); err != nil {
			return nil, err
		}
		return []Event{SupervisionOrderClosed{OrderID: o.issued.OrderID, OccurredAt: c.OccurredAt,
			Result: c.Result}}, nil
	}
	return nil, ValidationErrors{{Rule: "unknown_command", Message: "unknown supervision command"}}
}

func (o *SupervisionOrder) requireOpen(action string) error {
	if o.issued == nil {
		return &NotFoundError{What: "supervision order", ID: o.id}
	}
	if o.closed != nil {
		return &TransitionError{Aggregate: "supervision order", From: OrderClosed, Action: action,
			Reason: "the order is closed"}
	}
	return nil
}
