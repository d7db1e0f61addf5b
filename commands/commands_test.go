package commands_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

func TestNewRefusesMissingDependencies(t *testing.T) {
	f := newFixture(t)
	ok := commands.Deps{Store: f.store, Clock: f.clock.Now, Location: shanghai}
	for name, d := range map[string]commands.Deps{
		"no store":         {Clock: ok.Clock, Location: ok.Location},
		"no clock":         {Store: ok.Store, Location: ok.Location},
		"no location":      {Store: ok.Store, Clock: ok.Clock},
		"negative retries": {Store: ok.Store, Clock: ok.Clock, Location: ok.Location, MaxRetries: -1},
	} {
		if _, err := commands.New(d); err == nil {
			t.Errorf("%s: New accepted %+v", name, d)
		}
	}
	if _, err := commands.New(ok); err != nil {
		t.Fatalf("New: %v", err)
	}
}

// TestLifecycle runs every command once on the happy path and checks what
// each appended.
func TestLifecycle(t *testing.T) {
	f := newFixture(t).setup()
	ctx, app := f.ctx, f.app

	// 首报首谈: a major report earns a window of exclusivity_days (30) from its
	// report date (Jiaxing 2024 二(一)3).
	rep := report(staffA, unitA, investorA, major)
	rep.Meta.RequestID, rep.Meta.CorrelationID = "req-1", "corr-1"
	r := f.must(app.ReportProject.Handle(ctx, rep))
	if !r.Created || r.Version != 1 || r.Stream != domain.ProjectStream(r.ID) || !domain.ValidID(r.ID) {
		t.Fatalf("report result = %+v", r)
	}
	if want := rep.OccurredAt.Add(30 * 24 * time.Hour); r.ExclusiveUntil == nil || !r.ExclusiveUntil.Equal(want) {
		t.Fatalf("exclusive until = %v, want %v", r.ExclusiveUntil, want)
	}
	id := r.ID
	first := f.stream(domain.ProjectStream(id))[0]
	if first.Actor != staffA || first.CommandID != r.CommandID || first.CorrelationID != "corr-1" ||
		first.CausationID != "req-1" || !first.OccurredAt.Equal(rep.OccurredAt) || first.RecordedAt.IsZero() {
		t.Fatalf("envelope not stamped by the server: %+v", first)
	}
	claims := f.stream(domain.ExclusivityStream(domain.ExclusivityKeyOf(investorA, "新能源")))
	if !slices.Equal(types(claims), []string{domain.TypeExclusivityClaimed}) {
		t.Fatalf("claim stream = %v", types(claims))
	}

	day := func(d int) time.Time { return t0.Add(time.Duration(d) * time.Hour) }
	steps := []struct {
		name string
		do   func() (commands.Result, error)
		typ  string
	}{
		{"negotiation", func() (commands.Result, error) {
			return app.RecordNegotiation.Handle(ctx, commands.RecordNegotiation{ProjectID: id, OccurredAt: day(-20),
				LeaderLevel: domain.LeaderPrincipal, Participants: []string{"市长", "投资方董事长"}, Summary: "首轮洽谈", Meta: as(staffA)})
		}, domain.TypeNegotiationRecorded},
		{"feasibility", func() (commands.Result, error) {
			return app.RecordDueProcess.Handle(ctx, commands.RecordDueProcess{ProjectID: id, Kind: domain.DueFeasibilityStudy,
				OccurredAt: day(-19), Body: "市发改委", Summary: "可行性研究报告", Meta: as(staffA)})
		}, domain.TypeDueProcessRecorded},
		{"filing", func() (commands.Result, error) {
			return app.FileSigning.Handle(ctx, commands.FileSigning{ProjectID: id, PlannedDate: domain.NewDate(2024, 6, 25),
				ContractInvestment: domain.Yuan(2_000_000_000), Venue: "全球招商大会", Meta: as(staffA)})
		}, domain.TypeSigningFiled},
		{"signing", func() (commands.Result, error) {
			return app.SignContract.Handle(ctx, commands.SignContract{ProjectID: id, OccurredAt: day(-10),
				ContractInvestment: domain.Yuan(2_000_000_000), Agreement: domain.AgreementFormal,
				Commitments: &domain.Commitments{RegisterBy: ptr(domain.NewDate(2024, 9, 1))}, Meta: as(staffA)})
		}, domain.TypeContractSigned},
		{"amendment", func() (commands.Result, error) {
			return app.AmendContract.Handle(ctx, commands.AmendContract{ProjectID: id, OccurredAt: day(-9),
				ContractInvestment: domain.Yuan(2_500_000_000), Reason: "增资扩产", Meta: as(staffA)})
		}, domain.TypeContractAmended},
		{"registration", func() (commands.Result, error) {
			return app.RegisterCompany.Handle(ctx, commands.RegisterCompany{ProjectID: id, OccurredAt: day(-8),
				CompanyUSCC: usccCo, Meta: as(staffA)})
		}, domain.TypeCompanyRegistered},
		{"construction", func() (commands.Result, error) {
			return app.StartConstruction.Handle(ctx, commands.StartConstruction{ProjectID: id, OccurredAt: day(-7),
				PermitNo: "330402202406001", Meta: as(staffA)})
		}, domain.TypeConstructionStarted},
		{"funds", func() (commands.Result, error) {
			return app.RecordFunds.Handle(ctx, commands.RecordFunds{ProjectID: id, OccurredAt: day(-6),
				Amount: domain.Yuan(300_000_000), Source: domain.FundsOutOfProvince, Meta: as(staffA)})
		}, domain.TypeFundsArrived},
		{"production", func() (commands.Result, error) {
			return app.StartProduction.Handle(ctx, commands.StartProduction{ProjectID: id, OccurredAt: day(-5), Meta: as(centre)})
		}, domain.TypeProductionStarted},
		{"correction", func() (commands.Result, error) {
			return app.CorrectDetails.Handle(ctx, commands.CorrectDetails{ProjectID: id, Field: domain.FieldLeadOfficial,
				Value: json.RawMessage(`"李副局长"`), Reason: "录入错误", Meta: as(staffA)})
		}, domain.TypeDetailsCorrected},
		{"termination", func() (commands.Result, error) {
			return app.TerminateProject.Handle(ctx, commands.TerminateProject{ProjectID: id, OccurredAt: day(-1),
				Kind: domain.TermBelowExpectation, Cause: domain.CauseMarketChange, Explanation: "市场需求下降", Meta: as(staffA)})
		}, domain.TypeProjectTerminated},
	}
	for i, s := range steps {
		r, err := s.do()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if r.ID != id || r.Version != uint64(i+2) || r.Appended != 1 || r.Created {
			t.Fatalf("%s: result %+v, want version %d", s.name, r, i+2)
		}
		evs := f.stream(domain.ProjectStream(id))
		if got := evs[len(evs)-1]; got.Type != s.typ || got.Position != r.Position {
			t.Fatalf("%s: last event %s at %s, result at %s", s.name, got.Type, got.Position, r.Position)
		}
	}

	// Tolerance: requested by the owning unit, decided by discipline.
	tr := f.must(app.RequestTolerance.Handle(ctx, commands.RequestTolerance{ProjectID: id, Grounds: "市场变化导致投而未达预期", Meta: as(staffA)}))
	if !tr.Created || tr.Stream != domain.ToleranceStream(tr.ID) {
		t.Fatalf("tolerance request = %+v", tr)
	}
	td := f.must(app.DecideTolerance.Handle(ctx, commands.DecideTolerance{CaseID: tr.ID, Decision: domain.DecisionReduced,
		Rationale: "程序基本完备", Meta: as(discipline)}))
	if td.Version != 2 || td.Created {
		t.Fatalf("tolerance decision = %+v", td)
	}

	// Supervision: issued by the centre, progress by the responsible unit.
	oid := f.order()
	f.must(app.ReportSupervisionProgress.Handle(ctx, commands.ReportSupervisionProgress{OrderID: oid, OccurredAt: t0,
		Summary: "已完成初步谈判", Meta: as(staffA)}))
	oc := f.must(app.CloseSupervisionOrder.Handle(ctx, commands.CloseSupervisionOrder{OrderID: oid, OccurredAt: t0,
		Result: "已签约", Meta: as(centre)}))
	if !slices.Equal(types(f.stream(oc.Stream)), []string{domain.TypeSupervisionOrderIssued,
		domain.TypeSupervisionProgressReported, domain.TypeSupervisionOrderClosed}) {
		t.Fatalf("order stream = %v", types(f.stream(oc.Stream)))
	}

	// Targets, bonuses and a deduction, publication.
	tg := f.must(app.SetTargets.Handle(ctx, commands.SetTargets{Year: 2024, Unit: unitA,
		Indicators: map[domain.Indicator]float64{domain.IndSigned1b: 10, domain.IndContractInvestment: 5e9}, Meta: as(centre)}))
	if tg.ID != "2024/nanhu" || !tg.Created {
		t.Fatalf("targets = %+v", tg)
	}
	tg2 := f.must(app.SetTargets.Handle(ctx, commands.SetTargets{Year: 2024, Unit: unitA,
		Indicators: map[domain.Indicator]float64{domain.IndSigned1b: 12}, Meta: as(centre)}))
	if tg2.Created || tg2.Version != 2 {
		t.Fatalf("targets replaced = %+v", tg2)
	}
	f.must(app.AwardBonus.Handle(ctx, commands.AwardBonus{Year: 2024, Unit: unitA, Points: 2, Reason: "引进世界500强", Meta: as(centre)}))
	f.must(app.AwardBonus.Handle(ctx, commands.AwardBonus{Year: 2024, Unit: unitA, Points: -3, Reason: "弄虚作假", Meta: as(centre)}))
	if got := types(f.stream(domain.AssessmentStream(2024))); !slices.Equal(got, []string{domain.TypeBonusAwarded, domain.TypeDeductionRecorded}) {
		t.Fatalf("assessment stream = %v", got)
	}
	f.clock.Set(time.Date(2025, 1, 10, 9, 0, 0, 0, shanghai))
	head := f.head()
	pub := f.must(app.PublishAssessment.Handle(ctx, commands.PublishAssessment{Year: 2024, Meta: as(centre)}))
	evs := f.stream(domain.AssessmentStream(2024))
	var published domain.AssessmentPublished
	if err := json.Unmarshal(evs[len(evs)-1].Data, &published); err != nil {
		t.Fatal(err)
	}
	if published.Position != head.String() || published.PolicyVersion != 0 || pub.PolicyVersion != 0 || pub.ID != "2024" {
		t.Fatalf("publication %+v, result %+v, head %s", published, pub, head)
	}
}

func TestUnitsAndPolicy(t *testing.T) {
	f := newFixture(t)
	ctx, app := f.ctx, f.app
	r := f.must(app.RegisterUnit.Handle(ctx, commands.RegisterUnit{Code: unitA, Name: "南湖区", Kind: domain.UnitCounty, Meta: as(admin)}))
	if !r.Created || r.ID != "nanhu" || r.Stream != domain.StreamUnits || r.Version != 1 {
		t.Fatalf("register = %+v", r)
	}
	// An identical PUT records nothing and answers the current version.
	head := f.head()
	r = f.must(app.RegisterUnit.Handle(ctx, commands.RegisterUnit{Code: unitA, Name: "南湖区", Kind: domain.UnitCounty, Meta: as(centre)}))
	if r.Created || r.Appended != 0 || r.Version != 1 || f.head() != head || r.Position != head {
		t.Fatalf("identical PUT = %+v", r)
	}
	r = f.must(app.RegisterUnit.Handle(ctx, commands.RegisterUnit{Code: unitA, Name: "嘉兴市南湖区", Kind: domain.UnitCounty, Meta: as(centre)}))
	if r.Created || r.Appended != 1 || r.Version != 2 {
		t.Fatalf("update = %+v", r)
	}

	// Policy: adopting a version answers it, and the next decision uses it
	// (the cache follows the policy stream's version).
	pol := domain.DefaultPolicy()
	pol.ExclusivityDays = 10
	p := f.must(app.AdoptPolicy.Handle(ctx, commands.AdoptPolicy{Policy: pol, Meta: as(centre)}))
	if p.PolicyVersion != 1 || p.ID != "1" || !p.Created {
		t.Fatalf("adopt = %+v", p)
	}
	rep := f.must(app.ReportProject.Handle(ctx, report(staffA, unitA, investorA, major)))
	if want := t0.Add(-24 * time.Hour).Add(10 * 24 * time.Hour); !rep.ExclusiveUntil.Equal(want) {
		t.Fatalf("exclusive until %v, want %v under policy 1", rep.ExclusiveUntil, want)
	}
	same := f.must(app.AdoptPolicy.Handle(ctx, commands.AdoptPolicy{Policy: pol, Meta: as(centre)}))
	if same.PolicyVersion != 1 || same.Appended != 0 || same.Created {
		t.Fatalf("re-adopt = %+v", same)
	}
	pol.ExclusivityDays = 20
	p2 := f.must(app.AdoptPolicy.Handle(ctx, commands.AdoptPolicy{Policy: pol, Meta: as(centre)}))
	if p2.PolicyVersion != 2 {
		t.Fatalf("second adopt = %+v", p2)
	}
	rep = f.must(app.ReportProject.Handle(ctx, report(staffA, unitA, investor(1), major)))
	if want := t0.Add(-24 * time.Hour).Add(20 * 24 * time.Hour); !rep.ExclusiveUntil.Equal(want) {
		t.Fatalf("exclusive until %v, want %v under policy 2", rep.ExclusiveUntil, want)
	}
	var reported domain.ProjectReported
	if err := json.Unmarshal(f.stream(rep.Stream)[0].Data, &reported); err != nil {
		t.Fatal(err)
	}
	if reported.PolicyVersion != 2 {
		t.Fatalf("report judged under policy %d, want 2", reported.PolicyVersion)
	}
}

// TestExclusivityRules checks the commands' side of 首报首谈 (Jiaxing 2024
// 二(一)3) consistently with the domain's decisions.
func TestExclusivityRules(t *testing.T) {
	f := newFixture(t).setup()
	ctx, app := f.ctx, f.app
	holder := f.must(app.ReportProject.Handle(ctx, report(staffA, unitA, investorA, major)))
	claimStream := domain.ExclusivityStream(domain.ExclusivityKeyOf(investorA, "新能源"))

	// Another unit, even with a small figure, is rejected while the window
	// holds; the attempt is kept on record in the claim stream.
	for _, planned := range []domain.Money{major, domain.Yuan(50_000_000), domain.Dollars(200_000_000)} {
		head := f.head()
		_, err := app.ReportProject.Handle(ctx, report(staffB, unitB, investorA, planned))
		var conflict *domain.ExclusivityConflictError
		if !errors.As(err, &conflict) || conflict.HolderUnit != unitA || conflict.HolderProject != holder.ID ||
			!conflict.Until.Equal(*holder.ExclusiveUntil) {
			t.Fatalf("planned %v: err = %v", planned, err)
		}
		evs := f.stream(claimStream)
		last := evs[len(evs)-1]
		if last.Type != domain.TypeReportRejected || last.Position.Compare(head) <= 0 || last.Actor != staffB {
			t.Fatalf("rejection not kept on record: %v", types(evs))
		}
	}
	// The centre reporting for another unit is judged the same way.
	if _, err := app.ReportProject.Handle(ctx, report(centre, unitPark, investorA, major)); !errors.Is(err, domain.ErrExclusivityConflict) {
		t.Fatalf("centre for park: %v", err)
	}
	// The holder's own unit may report again; no second claim, no window.
	again := f.must(app.ReportProject.Handle(ctx, report(staffA, unitA, investorA, major)))
	if again.ExclusiveUntil != nil {
		t.Fatalf("same-unit re-report got a window: %+v", again)
	}
	// Leaving the code out does not dodge the holder: a holder with a code
	// claims under its name too, and the attempt is kept on record there.
	noCode := investorA
	noCode.USCC = ""
	nameStream := domain.ExclusivityStream(domain.ExclusivityKeyOf(noCode, "新能源"))
	if _, err := app.ReportProject.Handle(ctx, report(staffB, unitB, noCode, major)); !errors.Is(err, domain.ErrExclusivityConflict) {
		t.Fatalf("same investor without its code: %v", err)
	}
	if got := types(f.stream(nameStream)); len(got) != 2 || got[0] != domain.TypeExclusivityClaimed ||
		got[1] != domain.TypeReportRejected {
		t.Fatalf("name stream = %v, want the holder's claim and the rejection", got)
	}
	// Another company of the same name (a different valid code) is another
	// investor: it claims under its own code, and beside the holder's claim
	// under the shared name.
	namesake := investorA
	namesake.USCC = usccCo
	other := f.must(app.ReportProject.Handle(ctx, report(staffB, unitB, namesake, major)))
	if other.ExclusiveUntil == nil {
		t.Fatalf("namesake with another code got no claim: %+v", other)
	}
	// A non-major report makes no claim.
	small := f.must(app.ReportProject.Handle(ctx, report(staffB, unitB, investor(7), domain.Yuan(50_000_000))))
	if small.ExclusiveUntil != nil || len(f.stream(domain.ExclusivityStream(domain.ExclusivityKeyOf(investor(7), "新能源")))) != 0 {
		t.Fatalf("non-major report claimed: %+v", small)
	}
	// After the window, another unit may claim.
	f.clock.Set(holder.ExclusiveUntil.Add(time.Minute))
	later := report(staffB, unitB, investorA, major)
	later.OccurredAt = f.clock.Now().Add(-time.Minute)
	r := f.must(app.ReportProject.Handle(ctx, later))
	if r.ExclusiveUntil == nil {
		t.Fatalf("report after the window got no claim")
	}
	claimed := 0
	for _, e := range f.stream(claimStream) {
		if e.Type == domain.TypeExclusivityClaimed {
			claimed++
		}
	}
	if claimed != 2 {
		t.Fatalf("claims = %d, want 2", claimed)
	}
}

func TestTransferMovesUnitScope(t *testing.T) {
	f := newFixture(t).setup()
	ctx, app := f.ctx, f.app
	id := f.reported(investorA)
	neg := func(a eventstore.Actor) error {
		_, err := app.RecordNegotiation.Handle(ctx, commands.RecordNegotiation{ProjectID: id, OccurredAt: t0,
			LeaderLevel: domain.LeaderDeputy, Summary: "洽谈", Meta: as(a)})
		return err
	}
	if err := neg(staffB); !errors.Is(err, commands.ErrForbidden) {
		t.Fatalf("staff of another unit: %v", err)
	}
	f.must(app.TransferProject.Handle(ctx, commands.TransferProject{ProjectID: id, ToUnit: unitB, Reason: "承接地产业配套更优",
		OccurredAt: t0, Meta: as(centre)}))
	if err := neg(staffA); !errors.Is(err, commands.ErrForbidden) {
		t.Fatalf("former owner after transfer: %v", err)
	}
	if err := neg(staffB); err != nil {
		t.Fatalf("new owner after transfer: %v", err)
	}
}

// TestCorrectionOfPublishedYearIsFlagged: a correction that changes a
// published year's figures is flagged (DOMAIN.md DetailsCorrected).
func TestCorrectionOfPublishedYearIsFlagged(t *testing.T) {
	f := newFixture(t).setup()
	ctx, app := f.ctx, f.app
	id := f.signed(investorA)
	f.clock.Set(time.Date(2025, 2, 1, 9, 0, 0, 0, shanghai))
	f.must(app.PublishAssessment.Handle(ctx, commands.PublishAssessment{Year: 2024, Meta: as(centre)}))
	r := f.must(app.CorrectDetails.Handle(ctx, commands.CorrectDetails{ProjectID: id, Field: domain.FieldContractInvestment,
		Value: json.RawMessage(`{"amount": 1800000000, "currency": "CNY"}`), Reason: "合同金额录入错误", Meta: as(staffA)}))
	var dc domain.DetailsCorrected
	if err := json.Unmarshal(f.stream(r.Stream)[r.Version-1].Data, &dc); err != nil {
		t.Fatal(err)
	}
	if !dc.Flagged || !slices.Equal(dc.PublishedYears, []int{2024}) {
		t.Fatalf("correction = %+v", dc)
	}
	// An unflagged one for comparison: a field no indicator reads.
	r = f.must(app.CorrectDetails.Handle(ctx, commands.CorrectDetails{ProjectID: id, Field: domain.FieldReferrer,
		Value: json.RawMessage(`"嘉兴市总商会"`), Reason: "推荐人更正", Meta: as(staffA)}))
	if err := json.Unmarshal(f.stream(r.Stream)[r.Version-1].Data, &dc); err != nil {
		t.Fatal(err)
	}
	if dc.Flagged {
		t.Fatalf("referrer correction flagged: %+v", dc)
	}
}

// TestPublicationUsesTheYearsPolicy: a year is frozen under the policy in
// force at its end. A version adopted in the new year, before the
// publication, must not rescore it (DOMAIN.md "Policy": "last year's scores
// can be recomputed under last year's rules").
func TestPublicationUsesTheYearsPolicy(t *testing.T) {
	f := newFixture(t).setup()
	ctx, app := f.ctx, f.app
	pol := domain.DefaultPolicy()
	f.must(app.AdoptPolicy.Handle(ctx, commands.AdoptPolicy{Policy: pol, Meta: as(centre)})) // v1 in June 2024
	f.clock.Set(time.Date(2025, 1, 5, 9, 0, 0, 0, shanghai))
	pol.StaleDays = 20
	if v := f.must(app.AdoptPolicy.Handle(ctx, commands.AdoptPolicy{Policy: pol, Meta: as(centre)})); v.PolicyVersion != 2 {
		t.Fatalf("second adoption = %+v", v)
	}
	f.clock.Set(time.Date(2025, 1, 20, 9, 0, 0, 0, shanghai))
	if r := f.must(app.PublishAssessment.Handle(ctx, commands.PublishAssessment{Year: 2024, Meta: as(centre)})); r.PolicyVersion != 1 {
		t.Fatalf("2024 published under policy version %d, want 1 (in force on 31 December 2024)", r.PolicyVersion)
	}
	// Asked for explicitly, a later version is still honoured.
	two := 2
	if r := f.must(app.PublishAssessment.Handle(ctx, commands.PublishAssessment{Year: 2023, PolicyVersion: &two, Meta: as(centre)})); r.PolicyVersion != 2 {
		t.Fatalf("2023 published under version %d, want the 2 asked for", r.PolicyVersion)
	}
}

func TestRecordRead(t *testing.T) {
	f := newFixture(t).setup()
	id := f.reported(investorA)
	for _, a := range []eventstore.Actor{leader, auditor, discipline, staffB} {
		m := as(a)
		m.RequestID = "req-" + a.Subject
		r := f.must(f.app.RecordRead.Handle(f.ctx, commands.RecordRead{Resource: commands.ReadProjectHistory, ID: id, Meta: m}))
		if r.Stream != "access-2024-06" {
			t.Fatalf("read logged to %s", r.Stream)
		}
	}
	evs := f.stream("access-2024-06")
	if len(evs) != 4 || evs[0].Type != commands.TypeReadRecorded || evs[0].Actor != leader {
		t.Fatalf("access log = %+v", evs)
	}
	var rr commands.ReadRecorded
	if err := json.Unmarshal(evs[1].Data, &rr); err != nil {
		t.Fatal(err)
	}
	if rr.Resource != commands.ReadProjectHistory || rr.ID != id || rr.RequestID != "req-liu.yang" {
		t.Fatalf("read record = %+v", rr)
	}
	head := f.head()
	if _, err := f.app.RecordRead.Handle(f.ctx, commands.RecordRead{Resource: "Project History!", Meta: as(leader)}); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("bad resource: %v", err)
	}
	if _, err := f.app.RecordRead.Handle(f.ctx, commands.RecordRead{Resource: "project_history", Meta: as(eventstore.Actor{Subject: "x", Role: "mayor"})}); !errors.Is(err, commands.ErrForbidden) {
		t.Fatalf("unknown role: %v", err)
	}
	if f.head() != head {
		t.Fatalf("refused reads were recorded")
	}
}

// TestDecorators: every handler reports to the metrics hook and the logger,
// refusals included.
func TestDecorators(t *testing.T) {
	f := newFixture(t)
	var buf strings.Builder
	var mu sync.Mutex
	seen := map[commands.Operation][]error{}
	app, err := commands.New(commands.Deps{Store: f.store, Clock: f.clock.Now, Location: shanghai,
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observe: func(op commands.Operation, d time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			seen[op] = append(seen[op], err)
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.must(app.RegisterUnit.Handle(f.ctx, commands.RegisterUnit{Code: unitA, Name: "南湖区", Kind: domain.UnitCounty, Meta: as(admin)}))
	if _, err := app.RegisterUnit.Handle(f.ctx, commands.RegisterUnit{Code: unitB, Name: "秀洲区", Kind: domain.UnitCounty, Meta: as(leader)}); !errors.Is(err, commands.ErrForbidden) {
		t.Fatalf("leader: %v", err)
	}
	if got := seen[commands.OpRegisterUnit]; len(got) != 2 || got[0] != nil || !errors.Is(got[1], commands.ErrForbidden) {
		t.Fatalf("observed %v", got)
	}
	if out := buf.String(); !strings.Contains(out, "command accepted") || !strings.Contains(out, "command rejected") {
		t.Fatalf("log:\n%s", out)
	}
}
