package domain

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	// Jiaxing 2024 defaults.
	if p.ExclusivityDays != 30 || p.MajorThresholdCNY != 1_000_000_000 || p.MajorThresholdUSD != 100_000_000 ||
		p.SigningNoticeDays != 7 || p.ExcellentMinCompletion != 0.70 || p.AdmonishAfterYears != 2 ||
		p.TransferCredit.Mode != CreditEqual {
		t.Fatalf("Jiaxing defaults wrong: %+v", p)
	}
	// Defaults no document fixes.
	if p.RegisterWithinDays != 90 || p.StartWithinDays != 180 || p.StaleDays != 30 || p.LateRecordDays != 15 ||
		p.CompletionCap != 1.2 || p.USDCNYRate.String() != "7.1" || p.ScoreBands != (ScoreBands{90, 75, 60}) {
		t.Fatalf("other defaults wrong: %+v", p)
	}
	want := map[Indicator]int{IndSigned1b: 30, IndSigned100m: 20, IndContractInvestment: 20, IndFundsArrived: 20, IndStartedProjects: 10}
	for k, v := range want {
		if p.AssessmentWeights[k] != v || p.RankingWeights[k] != v {
			t.Fatalf("weight %s", k)
		}
	}
	if p.Version != 0 {
		t.Fatal("defaults are version 0")
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Policy)
		field string
	}{
		{"weights must sum to 100", func(p *Policy) { p.AssessmentWeights[IndSigned1b] = 31 }, "assessment_weights"},
		{"ranking weights must sum to 100", func(p *Policy) { delete(p.RankingWeights, IndStartedProjects) }, "ranking_weights"},
		{"weights name known indicators", func(p *Policy) {
			delete(p.AssessmentWeights, IndStartedProjects)
			p.AssessmentWeights["golf_rounds"] = 10
		}, "assessment_weights.golf_rounds"},
		{"weights are positive", func(p *Policy) {
			p.AssessmentWeights[IndSigned1b] = 40
			p.AssessmentWeights[IndStartedProjects] = 0
		}, "assessment_weights.started_projects"},
		{"Jiaxing 二(一)3: exclusivity days positive", func(p *Policy) { p.ExclusivityDays = 0 }, "exclusivity_days"},
		{"Jiaxing 二(一)3: major threshold positive", func(p *Policy) { p.MajorThresholdCNY = -1 }, "major_threshold_cny"},
		{"Jiaxing 二(一)3: USD threshold positive", func(p *Policy) { p.MajorThresholdUSD = 0 }, "major_threshold_usd"},
		{"Jiaxing 二(一)3: signing notice positive", func(p *Policy) { p.SigningNoticeDays = 0 }, "signing_notice_days"},
		{"Xiamen 三(二)4: ratio in (0,1]", func(p *Policy) { p.TransferCredit = TransferCredit{Mode: CreditShared, Ratio: 1.5} }, "transfer_credit.ratio"},
		{"Xiamen 三(二)4: ratio not zero", func(p *Policy) { p.TransferCredit = TransferCredit{Mode: CreditShared, Ratio: 0} }, "transfer_credit.ratio"},
		{"transfer credit mode known", func(p *Policy) { p.TransferCredit.Mode = "half" }, "transfer_credit.mode"},
		{"bands descending", func(p *Policy) { p.ScoreBands = ScoreBands{75, 90, 60} }, "score_bands"},
		{"Jiaxing 三(一): excellent_min_completion in (0,1]", func(p *Policy) { p.ExcellentMinCompletion = 1.5 }, "excellent_min_completion"},
		{"completion cap at least 1", func(p *Policy) { p.CompletionCap = 0.9 }, "completion_cap"},
		{"rate positive", func(p *Policy) { p.USDCNYRate = 0 }, "usd_cny_rate"},
		{"Jiaxing 三(一): admonish years positive", func(p *Policy) { p.AdmonishAfterYears = 0 }, "admonish_after_years"},
		{"clock skew bounded", func(p *Policy) { p.ClockSkewSeconds = 7200 }, "clock_skew_seconds"},
		{"late record days positive", func(p *Policy) { p.LateRecordDays = -1 }, "late_record_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			tt.edit(&p)
			wantErr(t, p.Validate(), ErrValidation, tt.field)
		})
	}
}

func TestPolicyJSON(t *testing.T) {
	p := DefaultPolicy()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Policy
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(p) {
		t.Fatalf("round trip:\n%s", b)
	}
	doc := `{"exclusivity_days":30,"major_threshold_cny":1000000000,"major_threshold_usd":100000000,
	"signing_notice_days":7,"excellent_min_completion":0.7,"admonish_after_years":2,
	"transfer_credit":{"mode":"shared","ratio":0.6},"register_within_days":90,"start_within_days":180,
	"stale_days":30,"late_record_days":15,"completion_cap":1.2,"usd_cny_rate":7.12,"score_bands":{"excellent":90,"good":75,"pass":60},
	"exclusivity_warning_days":7,"clock_skew_seconds":300,
	"assessment_weights":{"signed_1b":50,"signed_10b":50},"ranking_weights":{"signed_100m":100}}`
	var q Policy
	if err := json.Unmarshal([]byte(doc), &q); err != nil {
		t.Fatal(err)
	}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	if q.USDCNYRate != 7_120_000 {
		t.Fatalf("rate %d", q.USDCNYRate)
	}
}

func TestPolicyAdoption(t *testing.T) {
	var ps Policies
	if ps.Version() != 0 || !ps.Current().Equal(DefaultPolicy()) {
		t.Fatal("empty stream means defaults, version 0")
	}
	adopt := func(edit func(*Policy), version int) ([]Event, error) {
		p := ps.Current()
		p.Version = version
		if edit != nil {
			edit(&p)
		}
		return ps.Decide(AdoptPolicy{Policy: p}, now)
	}
	apply := func(evs []Event) {
		for _, e := range evs {
			ps.Apply(e)
		}
	}
	// The first adoption is recorded even when it equals the defaults.
	evs, err := adopt(nil, 0)
	if err != nil || len(evs) != 1 || evs[0].(PolicyAdopted).Policy.Version != 1 {
		t.Fatalf("first adoption: %v %v", evs, err)
	}
	apply(evs)
	// Version increases by one per adoption.
	evs, err = adopt(func(p *Policy) { p.ExclusivityDays = 45 }, 0)
	if err != nil || evs[0].(PolicyAdopted).Policy.Version != 2 {
		t.Fatalf("second adoption: %v %v", evs, err)
	}
	apply(evs)
	// An explicit version must be the next one.
	if _, err := adopt(func(p *Policy) { p.StaleDays = 20 }, 2); !errors.Is(err, ErrValidation) {
		t.Fatalf("stale version accepted: %v", err)
	}
	if _, err := adopt(func(p *Policy) { p.StaleDays = 20 }, 5); !errors.Is(err, ErrValidation) {
		t.Fatalf("skipping version accepted: %v", err)
	}
	evs, err = adopt(func(p *Policy) { p.StaleDays = 20 }, 3)
	if err != nil {
		t.Fatal(err)
	}
	apply(evs)
	// An identical document records nothing.
	if evs, err := adopt(nil, 0); err != nil || len(evs) != 0 {
		t.Fatalf("identical policy: %v %v", evs, err)
	}
	// The policy in force put back unchanged, with its own version, records nothing.
	if evs, err := adopt(nil, 3); err != nil || len(evs) != 0 {
		t.Fatalf("unchanged policy with its version: %v %v", evs, err)
	}
	// An invalid document is rejected.
	if _, err := adopt(func(p *Policy) { p.RankingWeights[IndSigned1b] = 99 }, 0); !errors.Is(err, ErrValidation) {
		t.Fatalf("invalid policy: %v", err)
	}
	// Every version stays available.
	for v, days := range map[int]int{0: 30, 1: 30, 2: 45, 3: 45} {
		p, err := ps.At(v)
		if err != nil || p.ExclusivityDays != days || p.Version != v {
			t.Fatalf("At(%d) = %d days v%d, %v", v, p.ExclusivityDays, p.Version, err)
		}
	}
	if _, err := ps.At(9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("At(9): %v", err)
	}
	if ps.Version() != 3 || len(ps.All()) != 3 {
		t.Fatalf("version %d", ps.Version())
	}
	// The stored policy is not shared with callers.
	c := ps.Current()
	c.AssessmentWeights[IndSigned1b] = 0
	if ps.Current().AssessmentWeights[IndSigned1b] != 30 {
		t.Fatal("Current shares its maps")
	}
}

// TestPoliciesInForceAt: the version a period is judged under is the one in
// force at the moment asked, never one adopted later (DOMAIN.md "Policy").
func TestPoliciesInForceAt(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, cst) }
	var ps Policies
	adopt := func(when time.Time) {
		p := ps.Current()
		p.Version = ps.Version() + 1
		ps.Apply(PolicyAdopted{Policy: p, OccurredAt: when})
	}
	if got := ps.InForceAt(at(2024, 1, 1)); got != 0 {
		t.Fatalf("nothing adopted: version %d, want 0 (defaults)", got)
	}
	adopt(at(2023, 3, 1))  // v1
	adopt(at(2024, 1, 5))  // v2
	adopt(at(2024, 1, 5))  // v3, same moment: the later one wins
	adopt(at(2023, 12, 1)) // v4, back-dated into 2023
	endOf2023 := time.Date(2024, 1, 1, 0, 0, 0, 0, cst).Add(-time.Nanosecond)
	for _, tc := range []struct {
		name string
		t    time.Time
		want int
	}{
		{"before any adoption", at(2023, 2, 28), 0},
		{"the moment of adoption", at(2023, 3, 1), 1},
		{"the end of 2023: v4 was back-dated to December", endOf2023, 4},
		{"November 2023: v1", at(2023, 11, 30), 1},
		{"two adopted at one moment: the later", at(2024, 1, 5), 3},
		{"a year later", at(2025, 1, 1), 3},
	} {
		if got := ps.InForceAt(tc.t); got != tc.want {
			t.Errorf("%s: version %d, want %d", tc.name, got, tc.want)
		}
	}
}
