package projections

import (
	"testing"

	"github.com/zhaoshang/zhaoshang/domain"
)

// Jiaxing 2024 三(四): due process recorded before the decision it justifies
// counts; the same records entered after the fact do not. Each check names
// the positions of the events that prove or refute it.
func TestToleranceEvidenceRecordedBeforeVsAfter(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lateRisk  bool // the risk assessment is recorded after the signing
		cause     domain.TerminationCause
		eligible  bool
		dueProc   bool
		objective bool
	}{
		{"all evidence recorded before the signing, market change", false, domain.CauseMarketChange, true, true, true},
		{"risk assessment entered after the signing (补录) never counts", true, domain.CauseMarketChange, false, false, true},
		{"subjective fault is not an objective cause", false, domain.CauseSubjectiveFault, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger(t)
			l.unit("A", "南湖区", domain.UnitCounty)
			id := l.report(1, "A", yuan(30), day("2023-01-05"))
			l.negotiate(id, day("2023-01-10"))
			l.dueProcess(id, domain.DueFeasibilityStudy, day("2023-02-01"))
			if !tc.lateRisk {
				l.dueProcess(id, domain.DueRiskAssessment, day("2023-02-10"))
			}
			l.dueProcess(id, domain.DueCollectiveDecision, day("2023-02-20"))
			sign := l.add(domain.ProjectStream(id), domain.ContractSigned{ProjectID: id, OccurredAt: day("2023-03-01"), ContractInvestment: yuan(30), Agreement: domain.AgreementFormal, Unit: "A"})
			var late string
			if tc.lateRisk {
				// Dated before the signing, but recorded months after it.
				late = l.at(day("2023-09-01")).add(domain.ProjectStream(id), domain.DueProcessRecorded{ProjectID: id, Kind: domain.DueRiskAssessment, OccurredAt: day("2023-02-10"), Summary: "补录"}).Position.String()
			}
			term := l.add(domain.ProjectStream(id), domain.ProjectTerminated{ProjectID: id, OccurredAt: day("2023-10-01"), Kind: domain.TermBuiltNotInvested, Cause: tc.cause, Explanation: "终止", StageBefore: domain.StageSigned})
			caseID := pid(500)
			l.add(domain.ToleranceStream(caseID), domain.ToleranceRequested{CaseID: caseID, ProjectID: id, Unit: "A", Grounds: "申请容错免责", OccurredAt: day("2023-10-20")})
			v := l.views()
			c, _, ok := v.Case(caseID)
			if !ok {
				t.Fatal("case not found")
			}
			if c.Status != domain.CaseOpen || c.Decision != nil {
				t.Errorf("status %s decision %v", c.Status, c.Decision)
			}
			if c.Evaluation.Eligible != tc.eligible {
				t.Errorf("eligible %v, want %v: %+v", c.Evaluation.Eligible, tc.eligible, c.Evaluation.Checks)
			}
			checks := map[string]domain.Check{}
			for _, ch := range c.Evaluation.Checks {
				checks[ch.Name] = ch
			}
			if checks[domain.CheckDueProcess].Passed != tc.dueProc || checks[domain.CheckObjectiveCause].Passed != tc.objective {
				t.Errorf("checks %+v", c.Evaluation.Checks)
			}
			if !checks[domain.CheckTerminationKind].Passed || checks[domain.CheckTerminationKind].Evidence[0] != term.Position.String() {
				t.Errorf("termination check %+v, want evidence %s", checks[domain.CheckTerminationKind], term.Position)
			}
			ev := checks[domain.CheckDueProcess].Evidence
			if ev[len(ev)-1] != sign.Position.String() {
				t.Errorf("due-process evidence %v should end with the signing at %s", ev, sign.Position)
			}
			if tc.lateRisk && !contains(ev, late) {
				t.Errorf("due-process evidence %v should name the late record at %s", ev, late)
			}

			// A correction after the termination is shown to the reviewer.
			l.correct(id, domain.FieldName, "测试项目1", "测试项目1（更正）", day("2023-10-25"))
			l.add(domain.ToleranceStream(caseID), domain.ToleranceDecided{CaseID: caseID, ProjectID: id, Decision: domain.DecisionReduced, Rationale: "减责", OccurredAt: day("2023-11-01")})
			v = l.views()
			c, _, _ = v.Case(caseID)
			if c.Status != domain.CaseDecided || c.Decision == nil || c.Decision.Decision != domain.DecisionReduced || c.Decision.By != "tester" {
				t.Errorf("decision %+v", c.Decision)
			}
			for _, ch := range c.Evaluation.Checks {
				if ch.Name == domain.CheckNoHiddenCorrection && (ch.Passed || len(ch.Evidence) != 1) {
					t.Errorf("correction after termination not shown: %+v", ch)
				}
			}
			page, err := v.Cases(CaseQuery{Status: domain.CaseDecided})
			if err != nil || len(page.Items) != 1 {
				t.Errorf("decided cases %v %d", err, len(page.Items))
			}
			page, _ = v.Cases(CaseQuery{Status: domain.CaseOpen})
			if len(page.Items) != 0 {
				t.Errorf("open cases %d", len(page.Items))
			}
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
