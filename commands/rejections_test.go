package commands_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// TestRejectionsAppendNothing: every refusal leaves the log as it was
// (API.md: "a rejected command appends nothing"), whatever refused it — the
// authorisation table, the request, the state, the units.
func TestRejectionsAppendNothing(t *testing.T) {
	f := newFixture(t).setup()
	ctx, app := f.ctx, f.app
	reported := f.reported(investor(1))
	signed := f.signed(investor(2))
	ended := f.terminated(investor(3))
	oid := f.order()
	f.must(app.CloseSupervisionOrder.Handle(ctx, commands.CloseSupervisionOrder{OrderID: oid, OccurredAt: t0, Result: "办结", Meta: as(centre)}))
	open := f.order()
	kase := f.must(app.RequestTolerance.Handle(ctx, commands.RequestTolerance{ProjectID: ended, Grounds: "市场变化", Meta: as(staffA)})).ID
	f.must(app.DecideTolerance.Handle(ctx, commands.DecideTolerance{CaseID: kase, Decision: domain.DecisionExempt, Rationale: "符合容错条件", Meta: as(discipline)}))
	unknown := "0b7f3a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	future := t0.Add(24 * time.Hour)

	bad := domain.DefaultPolicy()
	bad.AssessmentWeights = map[domain.Indicator]int{domain.IndSigned1b: 50}

	tests := []struct {
		name  string
		do    func() error
		want  error
		field string // for validation errors: a field that must be named
	}{
		{"unit with unknown kind", func() error {
			_, err := app.RegisterUnit.Handle(ctx, commands.RegisterUnit{Code: "haiyan", Name: "海盐县", Kind: "province", Meta: as(admin)})
			return err
		}, domain.ErrValidation, "kind"},
		{"policy weights not summing to 100", func() error {
			_, err := app.AdoptPolicy.Handle(ctx, commands.AdoptPolicy{Policy: bad, Meta: as(centre)})
			return err
		}, domain.ErrValidation, "assessment_weights"},
		{"policy adopted by a unit", func() error {
			_, err := app.AdoptPolicy.Handle(ctx, commands.AdoptPolicy{Policy: domain.DefaultPolicy(), Meta: as(staffA)})
			return err
		}, commands.ErrForbidden, ""},
		{"targets of an unknown unit", func() error {
			_, err := app.SetTargets.Handle(ctx, commands.SetTargets{Year: 2024, Unit: "haining",
				Indicators: map[domain.Indicator]float64{domain.IndSigned1b: 3}, Meta: as(centre)})
			return err
		}, domain.ErrValidation, "unit"},
		{"report for an unknown unit", func() error {
			_, err := app.ReportProject.Handle(ctx, report(centre, "haining", investorA, major))
			return err
		}, domain.ErrValidation, "unit"},
		{"report dated in the future", func() error {
			r := report(staffA, unitA, investorA, major)
			r.OccurredAt = future
			_, err := app.ReportProject.Handle(ctx, r)
			return err
		}, domain.ErrValidation, "occurred_at"},
		{"report for another unit", func() error {
			_, err := app.ReportProject.Handle(ctx, report(staffA, unitB, investorA, major))
			return err
		}, commands.ErrForbidden, ""},
		{"report by a leader", func() error {
			_, err := app.ReportProject.Handle(ctx, report(leader, unitA, investorA, major))
			return err
		}, commands.ErrForbidden, ""},
		{"negotiation on an unknown project", func() error {
			_, err := app.RecordNegotiation.Handle(ctx, commands.RecordNegotiation{ProjectID: unknown, OccurredAt: t0,
				LeaderLevel: domain.LeaderDeputy, Summary: "洽谈", Meta: as(centre)})
			return err
		}, domain.ErrNotFound, ""},
		{"negotiation on a malformed id", func() error {
			_, err := app.RecordNegotiation.Handle(ctx, commands.RecordNegotiation{ProjectID: "../policy", OccurredAt: t0,
				LeaderLevel: domain.LeaderDeputy, Summary: "洽谈", Meta: as(centre)})
			return err
		}, domain.ErrNotFound, ""},
		{"negotiation without summary", func() error {
			_, err := app.RecordNegotiation.Handle(ctx, commands.RecordNegotiation{ProjectID: reported, OccurredAt: t0,
				LeaderLevel: domain.LeaderDeputy, Meta: as(staffA)})
			return err
		}, domain.ErrValidation, "summary"},
		{"due process of unknown kind", func() error {
			_, err := app.RecordDueProcess.Handle(ctx, commands.RecordDueProcess{ProjectID: reported, Kind: "gut_feeling",
				OccurredAt: t0, Summary: "拍脑袋", Meta: as(staffA)})
			return err
		}, domain.ErrValidation, "kind"},
		{"filing after signing", func() error {
			_, err := app.FileSigning.Handle(ctx, commands.FileSigning{ProjectID: signed, PlannedDate: domain.NewDate(2024, 7, 1),
				ContractInvestment: major, Meta: as(staffA)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"second signing", func() error {
			_, err := app.SignContract.Handle(ctx, commands.SignContract{ProjectID: signed, OccurredAt: t0,
				ContractInvestment: major, Agreement: domain.AgreementFormal, Meta: as(staffA)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"amendment before signing", func() error {
			_, err := app.AmendContract.Handle(ctx, commands.AmendContract{ProjectID: reported, OccurredAt: t0,
				ContractInvestment: major, Reason: "增资", Meta: as(staffA)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"transfer by the owning unit", func() error {
			_, err := app.TransferProject.Handle(ctx, commands.TransferProject{ProjectID: reported, ToUnit: unitB,
				Reason: "流转", OccurredAt: t0, Meta: as(staffA)})
			return err
		}, commands.ErrForbidden, ""},
		{"transfer to an unknown unit", func() error {
			_, err := app.TransferProject.Handle(ctx, commands.TransferProject{ProjectID: reported, ToUnit: "haining",
				Reason: "流转", OccurredAt: t0, Meta: as(centre)})
			return err
		}, domain.ErrValidation, "to_unit"},
		{"transfer to the centre (Jiaxing 二(一)3: it coordinates transfers)", func() error {
			_, err := app.TransferProject.Handle(ctx, commands.TransferProject{ProjectID: reported, ToUnit: unitCentre,
				Reason: "流转", OccurredAt: t0, Meta: as(centre)})
			return err
		}, domain.ErrValidation, "to_unit"},
		{"transfer to an unknown unit, without reason", func() error {
			_, err := app.TransferProject.Handle(ctx, commands.TransferProject{ProjectID: reported, ToUnit: "haining",
				OccurredAt: t0, Meta: as(centre)})
			return err
		}, domain.ErrValidation, "reason"},
		{"transfer of a signed project", func() error {
			_, err := app.TransferProject.Handle(ctx, commands.TransferProject{ProjectID: signed, ToUnit: unitB,
				Reason: "流转", OccurredAt: t0, Meta: as(centre)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"registration before signing", func() error {
			_, err := app.RegisterCompany.Handle(ctx, commands.RegisterCompany{ProjectID: reported, OccurredAt: t0,
				CompanyUSCC: usccCo, Meta: as(staffA)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"construction before signing", func() error {
			_, err := app.StartConstruction.Handle(ctx, commands.StartConstruction{ProjectID: reported, OccurredAt: t0, Meta: as(staffA)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"funds before signing", func() error {
			_, err := app.RecordFunds.Handle(ctx, commands.RecordFunds{ProjectID: reported, OccurredAt: t0,
				Amount: domain.Yuan(1000), Source: domain.FundsDomestic, Meta: as(staffA)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"funds by another unit", func() error {
			_, err := app.RecordFunds.Handle(ctx, commands.RecordFunds{ProjectID: signed, OccurredAt: t0,
				Amount: domain.Yuan(1000), Source: domain.FundsDomestic, Meta: as(staffB)})
			return err
		}, commands.ErrForbidden, ""},
		{"production before signing", func() error {
			_, err := app.StartProduction.Handle(ctx, commands.StartProduction{ProjectID: reported, OccurredAt: t0, Meta: as(staffA)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"termination of a kind that does not fit", func() error {
			_, err := app.TerminateProject.Handle(ctx, commands.TerminateProject{ProjectID: reported, OccurredAt: t0,
				Kind: domain.TermBuiltNotInvested, Cause: domain.CauseOther, Explanation: "x", Meta: as(staffA)})
			return err
		}, domain.ErrValidation, "kind"},
		{"anything after termination", func() error {
			_, err := app.RecordNegotiation.Handle(ctx, commands.RecordNegotiation{ProjectID: ended, OccurredAt: t0,
				LeaderLevel: domain.LeaderDeputy, Summary: "洽谈", Meta: as(staffA)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"correction of an unknown field", func() error {
			_, err := app.CorrectDetails.Handle(ctx, commands.CorrectDetails{ProjectID: reported, Field: "stage",
				Value: json.RawMessage(`"signed"`), Reason: "改阶段", Meta: as(staffA)})
			return err
		}, domain.ErrValidation, "field"},
		{"order for an unknown unit and project", func() error {
			_, err := app.IssueSupervisionOrder.Handle(ctx, commands.IssueSupervisionOrder{ProjectID: unknown,
				Matter: "m", Target: "t", LeadLeader: "l", ResponsibleUnit: "haining", Requirements: "r",
				Deadline: domain.NewDate(2024, 7, 1), Meta: as(centre)})
			return err
		}, domain.ErrValidation, "project_id"},
		{"order without matter", func() error {
			_, err := app.IssueSupervisionOrder.Handle(ctx, commands.IssueSupervisionOrder{Target: "t", LeadLeader: "l",
				ResponsibleUnit: "haining", Requirements: "r", Deadline: domain.NewDate(2024, 7, 1), Meta: as(centre)})
			return err
		}, domain.ErrValidation, "responsible_unit"},
		{"order issued by a unit", func() error {
			_, err := app.IssueSupervisionOrder.Handle(ctx, commands.IssueSupervisionOrder{Matter: "m", Target: "t",
				LeadLeader: "l", ResponsibleUnit: unitA, Requirements: "r", Deadline: domain.NewDate(2024, 7, 1), Meta: as(staffA)})
			return err
		}, commands.ErrForbidden, ""},
		{"progress on an unknown order", func() error {
			_, err := app.ReportSupervisionProgress.Handle(ctx, commands.ReportSupervisionProgress{OrderID: unknown,
				OccurredAt: t0, Summary: "s", Meta: as(centre)})
			return err
		}, domain.ErrNotFound, ""},
		{"progress by a unit not responsible", func() error {
			_, err := app.ReportSupervisionProgress.Handle(ctx, commands.ReportSupervisionProgress{OrderID: open,
				OccurredAt: t0, Summary: "s", Meta: as(staffB)})
			return err
		}, commands.ErrForbidden, ""},
		{"progress on a closed order", func() error {
			_, err := app.ReportSupervisionProgress.Handle(ctx, commands.ReportSupervisionProgress{OrderID: oid,
				OccurredAt: t0, Summary: "s", Meta: as(staffA)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"second closure", func() error {
			_, err := app.CloseSupervisionOrder.Handle(ctx, commands.CloseSupervisionOrder{OrderID: oid, OccurredAt: t0,
				Result: "r", Meta: as(centre)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"bonus of zero points", func() error {
			_, err := app.AwardBonus.Handle(ctx, commands.AwardBonus{Year: 2024, Unit: unitA, Points: 0, Reason: "r", Meta: as(centre)})
			return err
		}, domain.ErrValidation, "points"},
		{"bonus for an unknown unit", func() error {
			_, err := app.AwardBonus.Handle(ctx, commands.AwardBonus{Year: 2024, Unit: "haining", Points: 1, Reason: "r", Meta: as(centre)})
			return err
		}, domain.ErrValidation, "unit"},
		{"publication before the year ends", func() error {
			_, err := app.PublishAssessment.Handle(ctx, commands.PublishAssessment{Year: 2024, Meta: as(centre)})
			return err
		}, domain.ErrValidation, "year"},
		{"publication under an unknown policy version", func() error {
			_, err := app.PublishAssessment.Handle(ctx, commands.PublishAssessment{Year: 2023, PolicyVersion: ptr(7), Meta: as(centre)})
			return err
		}, domain.ErrValidation, "policy_version"},
		{"publication at a position beyond the head", func() error {
			_, err := app.PublishAssessment.Handle(ctx, commands.PublishAssessment{Year: 2023,
				Position: ptr(eventstore.Position{Commit: f.head().Commit + 1, Prepare: f.head().Prepare + 1}), Meta: as(centre)})
			return err
		}, domain.ErrValidation, "position"},
		{"tolerance for a project still active", func() error {
			_, err := app.RequestTolerance.Handle(ctx, commands.RequestTolerance{ProjectID: reported, Grounds: "g", Meta: as(staffA)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"tolerance for an unknown project", func() error {
			_, err := app.RequestTolerance.Handle(ctx, commands.RequestTolerance{ProjectID: unknown, Grounds: "g", Meta: as(centre)})
			return err
		}, domain.ErrNotFound, ""},
		{"tolerance requested by another unit", func() error {
			_, err := app.RequestTolerance.Handle(ctx, commands.RequestTolerance{ProjectID: ended, Grounds: "g", Meta: as(staffB)})
			return err
		}, commands.ErrForbidden, ""},
		{"tolerance decided by the centre", func() error {
			_, err := app.DecideTolerance.Handle(ctx, commands.DecideTolerance{CaseID: kase, Decision: domain.DecisionExempt,
				Rationale: "r", Meta: as(centre)})
			return err
		}, commands.ErrForbidden, ""},
		{"second tolerance decision", func() error {
			_, err := app.DecideTolerance.Handle(ctx, commands.DecideTolerance{CaseID: kase, Decision: domain.DecisionRejected,
				Rationale: "r", Meta: as(discipline)})
			return err
		}, domain.ErrInvalidTransition, ""},
		{"decision on an unknown case", func() error {
			_, err := app.DecideTolerance.Handle(ctx, commands.DecideTolerance{CaseID: unknown, Decision: domain.DecisionRejected,
				Rationale: "r", Meta: as(discipline)})
			return err
		}, domain.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.head()
			err := tt.do()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.field != "" {
				var ves domain.ValidationErrors
				if !errors.As(err, &ves) {
					t.Fatalf("err = %T, want domain.ValidationErrors", err)
				}
				named := false
				for _, ve := range ves {
					named = named || ve.Field == tt.field
				}
				if !named {
					t.Fatalf("field %q not named in %v", tt.field, err)
				}
			}
			if after := f.head(); after != before {
				t.Fatalf("a rejected command appended: head %s → %s", before, after)
			}
		})
	}
}
