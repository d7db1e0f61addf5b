package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func issue() IssueOrder {
	return IssueOrder{OrderID: pid3, ProjectID: pid1, Matter: "项目用地报批", Target: "6月底前完成供地",
		LeadLeader: "王副市长", ResponsibleUnit: "nanhu", Requirements: "每周报送进展", Deadline: MustDate("2024-06-30")}
}

func TestSupervisionOrder(t *testing.T) {
	pol := DefaultPolicy()
	without := func(edit func(*IssueOrder)) IssueOrder { c := issue(); edit(&c); return c }
	tests := []struct {
		name  string
		cmd   IssueOrder
		field string
	}{
		{"Xiamen 三(五)3 六定: 定落实事项 required", without(func(c *IssueOrder) { c.Matter = "" }), "matter"},
		{"Xiamen 三(五)3 六定: 目标任务 required", without(func(c *IssueOrder) { c.Target = " " }), "target"},
		{"Xiamen 三(五)3 六定: 牵头领导 required", without(func(c *IssueOrder) { c.LeadLeader = "" }), "lead_leader"},
		{"Xiamen 三(五)3 六定: 责任单位 required", without(func(c *IssueOrder) { c.ResponsibleUnit = "" }), "responsible_unit"},
		{"Xiamen 三(五)3 六定: 工作要求 required", without(func(c *IssueOrder) { c.Requirements = "" }), "requirements"},
		{"Xiamen 三(五)3 六定: 办结时间 required", without(func(c *IssueOrder) { c.Deadline = Date{} }), "deadline"},
		{"Xiamen 三(五)3 六定: 办结时间 not in the past", without(func(c *IssueOrder) { c.Deadline = MustDate("2024-06-14") }), "deadline"},
		{"DOMAIN Supervision: project id must be a UUID", without(func(c *IssueOrder) { c.ProjectID = "p1" }), "project_id"},
		{"Xiamen 三(五)3 六定: all six given", issue(), ""},
		{"DOMAIN Supervision: the project is optional", without(func(c *IssueOrder) { c.ProjectID = "" }), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o SupervisionOrder
			evs, err := o.Decide(tt.cmd, pol, now)
			if tt.field == "" {
				wantErr(t, err, nil, "")
				if len(evs) != 1 {
					t.Fatal("no event")
				}
				return
			}
			wantErr(t, err, ErrValidation, tt.field)
		})
	}
}

func TestSupervisionLifecycle(t *testing.T) {
	pol := DefaultPolicy()
	var o SupervisionOrder
	if _, err := o.Decide(ReportProgress{OccurredAt: now, Summary: "x"}, pol, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("progress on a missing order: %v", err)
	}
	apply := func(cmd SupervisionCommand, at time.Time) error {
		evs, err := o.Decide(cmd, pol, at)
		for _, e := range evs {
			o.Apply(e)
		}
		return err
	}
	if err := apply(issue(), now); err != nil {
		t.Fatal(err)
	}
	var exists *AlreadyExistsError
	if err := apply(issue(), now); !errors.Is(err, ErrAlreadyExists) || !errors.As(err, &exists) ||
		exists.What != "supervision order" || exists.ID != pid3 {
		t.Fatalf("issuing twice: %v", err)
	}
	if _, err := o.Decide(ReportProgress{OccurredAt: now.Add(-time.Hour), Summary: "x"}, pol, now.Add(day(1))); !errors.Is(err, ErrValidation) ||
		!strings.Contains(err.Error(), "occurred_at") {
		t.Fatalf("Xiamen 三(五)3: progress dated before the order was issued: %v", err)
	}
	if err := apply(ReportProgress{OccurredAt: now.Add(day(1)), Summary: "完成预审"}, now.Add(day(1))); err != nil {
		t.Fatal(err)
	}
	// Changsha 十三 / DOMAIN order_overdue: past the end of the deadline day and open.
	if o.Overdue(at("2024-06-30T23:00:00+08:00"), shanghai) || !o.Overdue(at("2024-07-01T00:00:00+08:00"), shanghai) {
		t.Fatal("order_overdue boundary")
	}
	if err := apply(CloseOrder{OccurredAt: now.Add(day(2)), Result: ""}, now.Add(day(2))); !errors.Is(err, ErrValidation) {
		t.Fatalf("closing without a result: %v", err)
	}
	if err := apply(CloseOrder{OccurredAt: now.Add(day(2)), Result: "已供地"}, now.Add(day(2))); err != nil {
		t.Fatal(err)
	}
	if o.Status() != OrderClosed || o.Overdue(at("2024-08-01T00:00:00+08:00"), shanghai) {
		t.Fatal("closed orders are not overdue")
	}
	if err := apply(CloseOrder{OccurredAt: now.Add(day(3)), Result: "再次办结"}, now.Add(day(3))); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("DOMAIN Supervision: close once: %v", err)
	}
	if err := apply(ReportProgress{OccurredAt: now.Add(day(3)), Summary: "x"}, now.Add(day(3))); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("DOMAIN Supervision: nothing after closure: %v", err)
	}
	if len(o.Progress()) != 1 {
		t.Fatal("progress lost")
	}
}
