package domain

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
)

// history builds a project's recorded events: each step is (event, recorded_at).
type step struct {
	e        Event
	recorded time.Time
}

func recorded(steps ...step) []RecordedEvent {
	out := make([]RecordedEvent, len(steps))
	for i, s := range steps {
		out[i] = RecordedEvent{Position: strconv.Itoa(100 + i), OccurredAt: s.e.Occurred(), RecordedAt: s.recorded, Event: s.e}
	}
	return out
}

func dp(kind DueProcessKind, occurred string) Event {
	return DueProcessRecorded{ProjectID: pid1, Kind: kind, OccurredAt: at(occurred), Summary: string(kind)}
}

func TestEvaluateTolerance(t *testing.T) {
	rep := ProjectReported{ProjectID: pid1, Unit: "nanhu", OccurredAt: at("2024-01-02T09:00:00+08:00")}
	signed := ContractSigned{ProjectID: pid1, OccurredAt: at("2024-03-01T09:00:00+08:00"), ContractInvestment: bigCNY, Agreement: AgreementFormal}
	term := func(k TerminationKind, c TerminationCause) Event {
		return ProjectTerminated{ProjectID: pid1, OccurredAt: at("2024-09-01T09:00:00+08:00"), Kind: k, Cause: c, Explanation: "x"}
	}
	fs := dp(DueFeasibilityStudy, "2024-01-20T09:00:00+08:00")
	ra := dp(DueRiskAssessment, "2024-02-01T09:00:00+08:00")
	cd := dp(DueCollectiveDecision, "2024-02-20T09:00:00+08:00")
	r := func(s string) time.Time { return at(s) }
	signedAtCorrection := func(to string) Event {
		v, _ := json.Marshal(at(to))
		p, _ := json.Marshal(signed.OccurredAt)
		return DetailsCorrected{ProjectID: pid1, Field: FieldSignedAt, Value: v, Previous: p, Reason: "签约日期更正", OccurredAt: at("2024-05-01T09:00:00+08:00")}
	}
	corr := DetailsCorrected{ProjectID: pid1, Field: FieldReferrer, Value: json.RawMessage(`"x"`), Previous: json.RawMessage(`""`),
		Reason: "x", OccurredAt: at("2024-09-05T09:00:00+08:00")}

	tests := []struct {
		name     string
		events   []RecordedEvent
		eligible bool
		passed   map[string]bool
		evidence map[string][]string
	}{
		{"Jiaxing 三(四): due process before signing, objective cause, 建而未投 → eligible",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{fs, r("2024-01-20T10:00:00+08:00")},
				step{ra, r("2024-02-01T10:00:00+08:00")}, step{cd, r("2024-02-20T10:00:00+08:00")},
				step{signed, r("2024-03-01T10:00:00+08:00")}, step{term(TermBuiltNotInvested, CauseMarketChange), r("2024-09-01T10:00:00+08:00")}),
			true, map[string]bool{CheckTerminationKind: true, CheckDueProcess: true, CheckObjectiveCause: true, CheckNoHiddenCorrection: true},
			map[string][]string{CheckDueProcess: {"101", "102", "103", "104"}, CheckTerminationKind: {"105"}}},
		{"Jiaxing 三(四): risk assessment recorded after the signing never counts",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{fs, r("2024-01-20T10:00:00+08:00")},
				step{cd, r("2024-02-20T10:00:00+08:00")}, step{signed, r("2024-03-01T10:00:00+08:00")},
				step{ra, r("2024-08-30T10:00:00+08:00")}, step{term(TermBuiltNotInvested, CauseMarketChange), r("2024-09-01T10:00:00+08:00")}),
			false, map[string]bool{CheckTerminationKind: true, CheckDueProcess: false, CheckObjectiveCause: true, CheckNoHiddenCorrection: true},
			map[string][]string{CheckDueProcess: {"101", "102", "104", "103"}}},
		{"Jiaxing 三(四): evidence dated after the decision never counts",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{fs, r("2024-01-20T10:00:00+08:00")},
				step{ra, r("2024-02-01T10:00:00+08:00")},
				step{dp(DueCollectiveDecision, "2024-03-05T09:00:00+08:00"), r("2024-03-06T10:00:00+08:00")},
				step{signed, r("2024-03-07T10:00:00+08:00")}, step{term(TermBuiltNotInvested, CauseMarketChange), r("2024-09-01T10:00:00+08:00")}),
			false, map[string]bool{CheckDueProcess: false}, nil},
		{"Jiaxing 三(四): never signed, due process judged against the termination (洽谈终止)",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{fs, r("2024-01-20T10:00:00+08:00")},
				step{ra, r("2024-02-01T10:00:00+08:00")}, step{cd, r("2024-02-20T10:00:00+08:00")},
				step{term(TermNegotiationEnded, CausePolicyChange), r("2024-09-01T10:00:00+08:00")}),
			true, map[string]bool{CheckDueProcess: true}, map[string][]string{CheckDueProcess: {"101", "102", "103", "104"}}},
		{"Jiaxing 三(四): a subjective cause is not objective",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{fs, r("2024-01-20T10:00:00+08:00")},
				step{ra, r("2024-02-01T10:00:00+08:00")}, step{cd, r("2024-02-20T10:00:00+08:00")},
				step{term(TermNegotiationEnded, CauseSubjectiveFault), r("2024-09-01T10:00:00+08:00")}),
			false, map[string]bool{CheckObjectiveCause: false, CheckDueProcess: true}, map[string][]string{CheckObjectiveCause: {"104"}}},
		{"Jiaxing 三(四): withdrawal is not a tolerance case",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{term(TermWithdrawn, CauseMarketChange), r("2024-09-01T10:00:00+08:00")}),
			false, map[string]bool{CheckTerminationKind: false, CheckDueProcess: false}, nil},
		{"DOMAIN tolerance check 4: a correction after termination is shown and fails the check",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{fs, r("2024-01-20T10:00:00+08:00")},
				step{ra, r("2024-02-01T10:00:00+08:00")}, step{cd, r("2024-02-20T10:00:00+08:00")},
				step{term(TermNegotiationEnded, CauseForceMajeure), r("2024-09-01T10:00:00+08:00")},
				step{corr, r("2024-09-05T10:00:00+08:00")}),
			false, map[string]bool{CheckNoHiddenCorrection: false, CheckDueProcess: true}, map[string][]string{CheckNoHiddenCorrection: {"105"}}},
		{"DOMAIN tolerance check 2: a signing corrected to before the due process no longer follows it",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{fs, r("2024-01-20T10:00:00+08:00")},
				step{ra, r("2024-02-01T10:00:00+08:00")}, step{cd, r("2024-02-20T10:00:00+08:00")},
				step{signed, r("2024-03-01T10:00:00+08:00")},
				step{signedAtCorrection("2024-01-25T09:00:00+08:00"), r("2024-05-01T10:00:00+08:00")},
				step{term(TermBuiltNotInvested, CauseMarketChange), r("2024-09-01T10:00:00+08:00")}),
			false, map[string]bool{CheckDueProcess: false, CheckNoHiddenCorrection: true},
			map[string][]string{CheckDueProcess: {"101", "102", "103", "104", "105"}}},
		{"DOMAIN tolerance check 2: a mistaken correction a later one undid does not count",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{fs, r("2024-01-20T10:00:00+08:00")},
				step{ra, r("2024-02-01T10:00:00+08:00")}, step{cd, r("2024-02-20T10:00:00+08:00")},
				step{signed, r("2024-03-01T10:00:00+08:00")},
				step{signedAtCorrection("2024-01-25T09:00:00+08:00"), r("2024-05-01T10:00:00+08:00")},
				step{signedAtCorrection("2024-03-01T09:00:00+08:00"), r("2024-05-02T10:00:00+08:00")},
				step{term(TermBuiltNotInvested, CauseMarketChange), r("2024-09-01T10:00:00+08:00")}),
			true, map[string]bool{CheckDueProcess: true}, map[string][]string{CheckDueProcess: {"101", "102", "103", "104"}}},
		{"DOMAIN tolerance check 2: a signing corrected to a later date keeps the recorded one",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{fs, r("2024-01-20T10:00:00+08:00")},
				step{ra, r("2024-02-01T10:00:00+08:00")}, step{cd, r("2024-02-20T10:00:00+08:00")},
				step{signed, r("2024-03-01T10:00:00+08:00")},
				step{signedAtCorrection("2024-03-05T09:00:00+08:00"), r("2024-05-01T10:00:00+08:00")},
				step{term(TermBuiltNotInvested, CauseMarketChange), r("2024-09-01T10:00:00+08:00")}),
			true, map[string]bool{CheckDueProcess: true}, map[string][]string{CheckDueProcess: {"101", "102", "103", "104"}}},
		{"Jiaxing 三(四): not terminated → nothing passes but due process",
			recorded(step{rep, r("2024-01-02T10:00:00+08:00")}, step{signed, r("2024-03-01T10:00:00+08:00")}),
			false, map[string]bool{CheckTerminationKind: false, CheckObjectiveCause: false, CheckNoHiddenCorrection: false}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := EvaluateTolerance(tt.events)
			if ev.Eligible != tt.eligible || len(ev.Checks) != 4 {
				t.Fatalf("eligible = %v, checks %+v", ev.Eligible, ev.Checks)
			}
			for _, c := range ev.Checks {
				if want, ok := tt.passed[c.Name]; ok && c.Passed != want {
					t.Fatalf("%s passed = %v (%s)", c.Name, c.Passed, c.Detail)
				}
				if want, ok := tt.evidence[c.Name]; ok && !slices.Equal(c.Evidence, want) {
					t.Fatalf("%s evidence = %v, want %v", c.Name, c.Evidence, want)
				}
				if c.Detail == "" || c.Evidence == nil {
					t.Fatalf("%s: detail and evidence must be present", c.Name)
				}
			}
		})
	}
}

func TestToleranceCase(t *testing.T) {
	active := reported(t, bigCNY)
	ended := reported(t, bigCNY)
	must(t, ended, endTalks)

	var c ToleranceCase
	req := RequestTolerance{CaseID: pid3, ProjectID: pid1, Grounds: "市场变化导致洽谈终止，已履行三项程序"}
	if _, err := c.DecideRequest(req, active, now); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("Jiaxing 三(四): a request for an active project: %v", err)
	}
	if _, err := c.DecideRequest(req, NewProject(), now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing project: %v", err)
	}
	noGrounds := req
	noGrounds.Grounds = ""
	_, err := c.DecideRequest(noGrounds, ended, now)
	wantErr(t, err, ErrValidation, "grounds")
	if _, err := c.DecideDecision(DecideTolerance{Decision: DecisionExempt, Rationale: "x"}, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deciding a missing case: %v", err)
	}
	evs, err := c.DecideRequest(req, ended, now)
	if err != nil {
		t.Fatal(err)
	}
	c.Apply(evs[0])
	if rq, _ := c.Request(); rq.Unit != "nanhu" || c.Status() != CaseOpen {
		t.Fatalf("%+v", rq)
	}
	var exists *AlreadyExistsError
	if _, err := c.DecideRequest(req, ended, now); !errors.Is(err, ErrAlreadyExists) || !errors.As(err, &exists) ||
		exists.ID != pid3 {
		t.Fatalf("a case opens once: %v", err)
	}
	for _, bad := range []struct {
		cmd   DecideTolerance
		field string
	}{
		{DecideTolerance{Decision: "pardon", Rationale: "x"}, "decision"},
		{DecideTolerance{Decision: DecisionReduced}, "rationale"},
	} {
		_, err := c.DecideDecision(bad.cmd, now)
		wantErr(t, err, ErrValidation, bad.field)
	}
	evs, err = c.DecideDecision(DecideTolerance{Decision: DecisionExempt, Rationale: "符合嘉兴三(四)免责情形"}, now)
	if err != nil {
		t.Fatal(err)
	}
	c.Apply(evs[0])
	if d, ok := c.Decision(); !ok || d.Decision != DecisionExempt || c.Status() != CaseDecided {
		t.Fatal("decision not folded")
	}
	if _, err := c.DecideDecision(DecideTolerance{Decision: DecisionRejected, Rationale: "改判"}, now); !errors.Is(err, ErrInvalidTransition) {
		t.Fatal("Jiaxing 三(四): decided once")
	}
}
