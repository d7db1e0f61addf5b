package commands_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// TestAuthorizationMatrix runs every command as every role (unit_staff both
// of the unit concerned and of another) and checks it is allowed or
// forbidden exactly as DOMAIN.md's table says. The expectations are written
// out here from the table, independently of the package's own table.
//
// Allowed means "not refused by authorisation": the command may still fail
// on the state (a second signing), which is another rule's business.
func TestAuthorizationMatrix(t *testing.T) {
	f := newFixture(t).setup()
	ctx, app := f.ctx, f.app
	project := f.signed(investor(1)) // owned by unitA
	ended := f.terminated(investor(2))
	order := f.order() // unitA responsible
	kase := f.must(app.RequestTolerance.Handle(ctx, commands.RequestTolerance{ProjectID: ended, Grounds: "市场变化", Meta: as(staffA)})).ID

	const (
		sA = "unit_staff of the unit concerned"
		sB = "unit_staff of another unit"
	)
	actors := map[string]eventstore.Actor{
		sA: staffA, sB: staffB, "centre": centre, "leader": leader, "auditor": auditor,
		"discipline": discipline, "admin": admin,
	}
	ownerOrCentre := []string{sA, "centre"}
	centreOnly := []string{"centre"}
	everyone := []string{sA, sB, "centre", "leader", "auditor", "discipline", "admin"}

	n := 0
	next := func() int { n++; return n }
	rows := []struct {
		op      commands.Operation
		allowed []string
		do      func(m commands.Meta) error
	}{
		{commands.OpRegisterUnit, []string{"admin", "centre"}, func(m commands.Meta) error {
			_, err := app.RegisterUnit.Handle(ctx, commands.RegisterUnit{Code: domain.UnitCode("u" + string(rune('a'+next()))), Name: "新单位", Kind: domain.UnitPark, Meta: m})
			return err
		}},
		{commands.OpAdoptPolicy, centreOnly, func(m commands.Meta) error {
			p := domain.DefaultPolicy()
			p.StaleDays = 30 + next()
			_, err := app.AdoptPolicy.Handle(ctx, commands.AdoptPolicy{Policy: p, Meta: m})
			return err
		}},
		{commands.OpSetTargets, centreOnly, func(m commands.Meta) error {
			_, err := app.SetTargets.Handle(ctx, commands.SetTargets{Year: 2024, Unit: unitA,
				Indicators: map[domain.Indicator]float64{domain.IndSigned1b: float64(next())}, Meta: m})
			return err
		}},
		{commands.OpReportProject, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.ReportProject.Handle(ctx, report(m.Actor, unitA, investor(100+next()), major))
			return err
		}},
		{commands.OpRecordNegotiation, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.RecordNegotiation.Handle(ctx, commands.RecordNegotiation{ProjectID: project, OccurredAt: t0,
				LeaderLevel: domain.LeaderDeputy, Summary: "洽谈", Meta: m})
			return err
		}},
		{commands.OpRecordDueProcess, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.RecordDueProcess.Handle(ctx, commands.RecordDueProcess{ProjectID: project, Kind: domain.DueRiskAssessment,
				OccurredAt: t0, Summary: "风险评估", Meta: m})
			return err
		}},
		{commands.OpFileSigning, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.FileSigning.Handle(ctx, commands.FileSigning{ProjectID: project, PlannedDate: domain.NewDate(2024, 7, 1),
				ContractInvestment: major, Meta: m})
			return err
		}},
		{commands.OpSignContract, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.SignContract.Handle(ctx, commands.SignContract{ProjectID: project, OccurredAt: t0,
				ContractInvestment: major, Agreement: domain.AgreementFormal, Meta: m})
			return err
		}},
		{commands.OpAmendContract, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.AmendContract.Handle(ctx, commands.AmendContract{ProjectID: project, OccurredAt: t0,
				ContractInvestment: domain.Yuan(2_000_000_000 + int64(next())), Reason: "增资", Meta: m})
			return err
		}},
		{commands.OpTransferProject, centreOnly, func(m commands.Meta) error {
			_, err := app.TransferProject.Handle(ctx, commands.TransferProject{ProjectID: project, ToUnit: unitB,
				Reason: "流转", OccurredAt: t0, Meta: m})
			return err
		}},
		{commands.OpRegisterCompany, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.RegisterCompany.Handle(ctx, commands.RegisterCompany{ProjectID: project, OccurredAt: t0,
				CompanyUSCC: usccCo, Meta: m})
			return err
		}},
		{commands.OpStartConstruction, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.StartConstruction.Handle(ctx, commands.StartConstruction{ProjectID: project, OccurredAt: t0, Meta: m})
			return err
		}},
		{commands.OpRecordFunds, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.RecordFunds.Handle(ctx, commands.RecordFunds{ProjectID: project, OccurredAt: t0,
				Amount: domain.Yuan(1000), Source: domain.FundsDomestic, Meta: m})
			return err
		}},
		{commands.OpStartProduction, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.StartProduction.Handle(ctx, commands.StartProduction{ProjectID: project, OccurredAt: t0, Meta: m})
			return err
		}},
		{commands.OpCorrectDetails, ownerOrCentre, func(m commands.Meta) error {
			v, _ := json.Marshal("推荐人" + string(rune('A'+next())))
			_, err := app.CorrectDetails.Handle(ctx, commands.CorrectDetails{ProjectID: project, Field: domain.FieldReferrer,
				Value: v, Reason: "更正", Meta: m})
			return err
		}},
		{commands.OpTerminateProject, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.TerminateProject.Handle(ctx, commands.TerminateProject{ProjectID: project, OccurredAt: t0,
				Kind: domain.TermWithdrawn, Cause: domain.CauseInvestorDecision, Explanation: "撤回", Meta: m})
			return err
		}},
		{commands.OpIssueSupervisionOrder, centreOnly, func(m commands.Meta) error {
			_, err := app.IssueSupervisionOrder.Handle(ctx, commands.IssueSupervisionOrder{Matter: "m", Target: "t",
				LeadLeader: "l", ResponsibleUnit: unitA, Requirements: "r", Deadline: domain.NewDate(2024, 7, 1), Meta: m})
			return err
		}},
		{commands.OpReportSupervisionProgress, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.ReportSupervisionProgress.Handle(ctx, commands.ReportSupervisionProgress{OrderID: order,
				OccurredAt: t0, Summary: "进展", Meta: m})
			return err
		}},
		{commands.OpCloseSupervisionOrder, centreOnly, func(m commands.Meta) error {
			_, err := app.CloseSupervisionOrder.Handle(ctx, commands.CloseSupervisionOrder{OrderID: order, OccurredAt: t0,
				Result: "办结", Meta: m})
			return err
		}},
		{commands.OpAwardBonus, centreOnly, func(m commands.Meta) error {
			_, err := app.AwardBonus.Handle(ctx, commands.AwardBonus{Year: 2024, Unit: unitA, Points: 1, Reason: "加分", Meta: m})
			return err
		}},
		{commands.OpPublishAssessment, centreOnly, func(m commands.Meta) error {
			_, err := app.PublishAssessment.Handle(ctx, commands.PublishAssessment{Year: 2023, Meta: m})
			return err
		}},
		{commands.OpRequestTolerance, ownerOrCentre, func(m commands.Meta) error {
			_, err := app.RequestTolerance.Handle(ctx, commands.RequestTolerance{ProjectID: ended, Grounds: "市场变化", Meta: m})
			return err
		}},
		{commands.OpDecideTolerance, []string{"discipline"}, func(m commands.Meta) error {
			_, err := app.DecideTolerance.Handle(ctx, commands.DecideTolerance{CaseID: kase, Decision: domain.DecisionExempt,
				Rationale: "符合容错条件", Meta: m})
			return err
		}},
		{commands.OpRecordRead, everyone, func(m commands.Meta) error {
			_, err := app.RecordRead.Handle(ctx, commands.RecordRead{Resource: commands.ReadToleranceCase, ID: kase, Meta: m})
			return err
		}},
	}
	covered := map[commands.Operation]bool{}
	// Forbidden actors first, so a state change by an allowed one (the
	// transfer, the termination) cannot mask a refusal.
	order2 := []string{sB, "leader", "auditor", "discipline", "admin", sA, "centre"}
	for _, row := range rows {
		covered[row.op] = true
		for _, who := range order2 {
			want := slices.Contains(row.allowed, who)
			before := f.head()
			err := row.do(as(actors[who]))
			switch {
			case want && errors.Is(err, commands.ErrForbidden):
				t.Errorf("%s as %s: forbidden, want allowed: %v", row.op, who, err)
			case want && errors.Is(err, domain.ErrNotFound):
				t.Errorf("%s as %s: %v (the fixture is wrong)", row.op, who, err)
			case !want && !errors.Is(err, commands.ErrForbidden):
				t.Errorf("%s as %s: err = %v, want forbidden", row.op, who, err)
			case !want && f.head() != before:
				t.Errorf("%s as %s: forbidden but appended", row.op, who)
			}
			var fe *commands.ForbiddenError
			if !want && errors.As(err, &fe) && (fe.Operation != row.op || fe.Role != actors[who].Role) {
				t.Errorf("%s as %s: ForbiddenError %+v", row.op, who, fe)
			}
		}
		// The exported view of the table agrees with DOMAIN.md's.
		var roles []string
		for _, r := range commands.RolesFor(row.op) {
			roles = append(roles, string(r))
		}
		var want []string
		for _, r := range domain.Roles() {
			name := string(r)
			if r == domain.RoleUnitStaff {
				name = sA
			}
			if slices.Contains(row.allowed, name) {
				want = append(want, string(r))
			}
		}
		if !slices.Equal(roles, want) {
			t.Errorf("RolesFor(%s) = %v, want %v", row.op, roles, want)
		}
	}
	for _, op := range commands.Operations() {
		if !covered[op] {
			t.Errorf("operation %s is not in the matrix", op)
		}
	}
}

// TestMalformedActorsAreForbidden: the actor comes from the token; an
// incomplete one is refused before anything is read.
func TestMalformedActorsAreForbidden(t *testing.T) {
	f := newFixture(t).setup()
	for _, a := range []eventstore.Actor{
		{Role: string(domain.RoleCentre)},                          // no subject
		{Subject: "x", Role: "superuser"},                          // no such role
		{Subject: "x", Role: string(domain.RoleUnitStaff)},         // unit_staff without a unit
		{Subject: "x", Role: "Centre", Unit: string(unitCentre)},   // roles are case-sensitive
		{Subject: "x", Role: string(domain.RoleLeader), Unit: "a"}, // a read-only role
	} {
		_, err := f.app.ReportProject.Handle(f.ctx, report(a, unitA, investorA, major))
		if !errors.Is(err, commands.ErrForbidden) {
			t.Errorf("actor %+v: err = %v", a, err)
		}
	}
}
