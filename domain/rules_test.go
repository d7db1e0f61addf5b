package domain

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestLateRecordAndFuture(t *testing.T) {
	pol := DefaultPolicy()
	occ := at("2024-05-01T09:00:00+08:00")
	tests := []struct {
		name     string
		recorded time.Time
		late     bool
	}{
		{"DOMAIN Time 补录: recorded the same day is not late", occ.Add(time.Hour), false},
		{"DOMAIN Time 补录: exactly late_record_days is not late", occ.Add(day(15)), false},
		{"DOMAIN Time 补录: beyond late_record_days is late", occ.Add(day(15) + time.Second), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if IsLateRecord(occ, tt.recorded, pol) != tt.late {
				t.Fatal(tt.name)
			}
		})
	}
	if !IsFuture(now.Add(6*time.Minute), now, pol) || IsFuture(now.Add(5*time.Minute), now, pol) {
		t.Fatal("DOMAIN Time: clock skew of 5 minutes")
	}
}

func TestSigningFiledInTime(t *testing.T) {
	pol := DefaultPolicy()
	signDay := MustDate("2024-05-10")
	tests := []struct {
		name  string
		filed []time.Time
		ok    bool
	}{
		{"Jiaxing 二(一)3 提前一周: filed 7 days before", []time.Time{at("2024-05-03T18:00:00+08:00")}, true},
		{"Jiaxing 二(一)3 提前一周: filed 6 days before is late", []time.Time{at("2024-05-04T08:00:00+08:00")}, false},
		{"Jiaxing 二(一)3 提前一周: no filing", nil, false},
		{"Jiaxing 二(一)3 提前一周: any early filing counts", []time.Time{at("2024-05-08T08:00:00+08:00"), at("2024-04-20T08:00:00+08:00")}, true},
		{"Jiaxing 二(一)3 提前一周: judged in the configured zone", []time.Time{at("2024-05-03T17:00:00Z")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SigningFiledInTime(tt.filed, signDay, shanghai, pol); got != tt.ok {
				t.Fatalf("got %v", got)
			}
		})
	}
	if SigningNeedsFiling(Yuan(999_999_999), pol) || !SigningNeedsFiling(Dollars(100_000_000), pol) {
		t.Fatal("Jiaxing 二(一)3: major signings (¥10亿 / US$1亿) need a filing")
	}
}

func TestSigningNotFiledAlert(t *testing.T) {
	pol := DefaultPolicy()
	// Filing decided (recorded) 8 days before the signing date.
	p := reported(t, bigCNY)
	evs, err := p.Decide(FileSigning{PlannedDate: MustDate("2024-06-14"), ContractInvestment: bigCNY}, pol, now.Add(-day(8)))
	if err != nil {
		t.Fatal(err)
	}
	p.Apply(evs[0])
	must(t, p, sign(at("2024-06-14T10:00:00+08:00"), bigCNY))
	if p.SigningNotFiled(shanghai, pol) {
		t.Fatal("filed 8 days ahead: no alert")
	}
	q := reported(t, bigCNY)
	must(t, q, sign(at("2024-06-14T10:00:00+08:00"), bigCNY))
	if !q.SigningNotFiled(shanghai, pol) {
		t.Fatal("Jiaxing 二(一)3: a major signing without filing raises signing_not_filed")
	}
	r := reported(t, Yuan(300_000_000))
	must(t, r, sign(at("2024-06-14T10:00:00+08:00"), Yuan(300_000_000)))
	if r.SigningNotFiled(shanghai, pol) {
		t.Fatal("a ¥3亿 signing is not major")
	}
	// Filing after signing is an invalid transition (the filing announces a signing).
	if _, err := q.Decide(FileSigning{PlannedDate: MustDate("2024-06-20"), ContractInvestment: bigCNY}, pol, now); err == nil {
		t.Fatal("filing after signing accepted")
	}
}

func TestOverdueAlerts(t *testing.T) {
	pol := DefaultPolicy()
	signedAt := at("2024-01-10T10:00:00+08:00")
	regBy := MustDate("2024-03-01")
	mk := func(c *Commitments) *Project {
		p := reportedOn(t, bigCNY, at("2023-12-01T10:00:00+08:00"))
		s := sign(signedAt, bigCNY)
		s.Commitments = c
		must(t, p, s)
		return p
	}
	committed := mk(&Commitments{RegisterBy: &regBy, Funds: []FundsMilestone{{By: MustDate("2024-04-01"), Amount: Yuan(200_000_000)}}})
	dflt := mk(nil)
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"Suzhou 五(五) 履约: registration due on register_by, not yet overdue that day",
			committed.RegistrationOverdue(at("2024-03-01T23:00:00+08:00"), shanghai, pol), false},
		{"Suzhou 五(五) 履约: overdue the day after register_by",
			committed.RegistrationOverdue(at("2024-03-02T00:00:00+08:00"), shanghai, pol), true},
		{"DOMAIN policy register_within_days 90: default due date",
			dflt.RegistrationOverdue(at("2024-04-09T12:00:00+08:00"), shanghai, pol), false},
		{"DOMAIN policy register_within_days 90: overdue after 90 days",
			dflt.RegistrationOverdue(at("2024-04-10T00:00:00+08:00"), shanghai, pol), true},
		{"DOMAIN policy start_within_days 180: overdue after 180 days",
			dflt.StartOverdue(at("2024-07-09T00:00:00+08:00"), shanghai, pol), true},
		{"DOMAIN policy start_within_days 180: not before",
			dflt.StartOverdue(at("2024-07-08T23:59:59+08:00"), shanghai, pol), false},
		{"Suzhou 五(五) 资金到位: behind schedule after the milestone",
			committed.FundsBehind(at("2024-04-02T12:00:00+08:00"), shanghai, pol), true},
		{"Suzhou 五(五) 资金到位: not behind before the milestone",
			committed.FundsBehind(at("2024-04-01T12:00:00+08:00"), shanghai, pol), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %v", tt.got)
			}
		})
	}
	// Registration met ends the alert; so does a skipped registration with a start.
	must(t, dflt, StartConstruction{OccurredAt: at("2024-02-01T10:00:00+08:00")})
	if dflt.RegistrationOverdue(at("2024-05-01T00:00:00+08:00"), shanghai, pol) {
		t.Fatal("a started project is not registration-overdue")
	}
	// Funds catching up ends funds_behind.
	committed.Apply(FundsArrived{ProjectID: pid1, OccurredAt: at("2024-04-05T10:00:00+08:00"), Amount: Yuan(200_000_000), Source: FundsDomestic})
	if committed.FundsBehind(at("2024-04-06T12:00:00+08:00"), shanghai, pol) {
		t.Fatal("funds caught up")
	}
}

func TestStaleAndExclusivityAlerts(t *testing.T) {
	pol := DefaultPolicy()
	p := reported(t, bigCNY) // reported now−10d, exclusive until now+20d
	if p.Stale(now, pol) {
		t.Fatal("10 days is not stale")
	}
	if !p.Stale(now.Add(day(21)), pol) {
		t.Fatal("DOMAIN stale: 31 days without an event")
	}
	for _, tc := range []struct {
		name  string
		steps []ProjectCommand
		stale bool
	}{
		{"Changsha 十三: a started project still owes its completion", []ProjectCommand{sign(now.Add(-day(9)), bigCNY), StartConstruction{OccurredAt: now.Add(-day(8))}}, true},
		{"Changsha 十三: a producing project has arrived; nothing to wait for", []ProjectCommand{sign(now.Add(-day(9)), bigCNY), StartProduction{OccurredAt: now.Add(-day(8))}}, false},
		{"DOMAIN stale: a terminated project is not stale", []ProjectCommand{endTalks}, false},
	} {
		q := reported(t, bigCNY)
		for _, c := range tc.steps {
			must(t, q, c)
		}
		if got := q.Stale(now.Add(day(60)), pol); got != tc.stale {
			t.Errorf("%s: stale %v after 60 days, want %v", tc.name, got, tc.stale)
		}
	}
	// DOMAIN stale ("a month without progress must be explained"): a
	// correction fixes the record, it does not move the project.
	q := reported(t, bigCNY)
	must(t, q, CorrectDetails{Field: FieldReferrer, Value: json.RawMessage(`"嘉兴市总商会"`), Reason: "推荐人更正"})
	if !q.Stale(now.Add(day(25)), pol) {
		t.Error("a correction 25 days ago reset the stale clock of a project idle for 35 days")
	}
	if p.ExclusivityExpiring(now, pol) {
		t.Fatal("20 days left is not expiring")
	}
	if !p.ExclusivityExpiring(now.Add(day(14)), pol) {
		t.Fatal("Jiaxing 二(一)3: 6 days left, no negotiation → exclusivity_expiring")
	}
	if !p.ExclusivityLapsed(now.Add(day(20))) {
		t.Fatal("Jiaxing 二(一)3: window ended with no negotiation → exclusivity_lapsed")
	}
	must(t, p, negotiat)
	if p.ExclusivityExpiring(now.Add(day(14)), pol) || p.ExclusivityLapsed(now.Add(day(20))) {
		t.Fatal("a negotiation inside the window clears both alerts")
	}
	if !IsStale(now.Add(-day(31)), now, pol) || IsStale(now.Add(-day(30)), now, pol) {
		t.Fatal("IsStale boundary")
	}
}

func TestRates(t *testing.T) {
	pol := DefaultPolicy()
	y, _ := ParsePeriod("2024", shanghai)
	regBy := MustDate("2024-03-01")
	mk := func(signedAt time.Time, cmds ...ProjectCommand) *Project {
		p := reportedOn(t, bigCNY, at("2023-12-01T10:00:00+08:00"))
		s := sign(signedAt, Yuan(1_000_000_000))
		s.Commitments = &Commitments{RegisterBy: &regBy}
		must(t, p, s)
		for _, c := range cmds {
			must(t, p, c)
		}
		return p
	}
	met := mk(at("2024-01-10T10:00:00+08:00"), RegisterCompany{OccurredAt: at("2024-02-10T10:00:00+08:00"), CompanyUSCC: usccA},
		StartConstruction{OccurredAt: at("2024-03-10T10:00:00+08:00")},
		RecordFunds{OccurredAt: at("2024-03-11T10:00:00+08:00"), Amount: Yuan(250_000_000), Source: FundsDomestic})
	late := mk(at("2024-01-12T10:00:00+08:00"), RegisterCompany{OccurredAt: at("2024-03-05T10:00:00+08:00"), CompanyUSCC: usccA})
	notDue := mk(at("2024-01-15T10:00:00+08:00"))
	notDue.s.Signing.Commitments.RegisterBy = ptr(MustDate("2024-12-01"))
	r, err := ComputeRates([]*Project{met, late, notDue}, y, at("2024-05-01T00:00:00+08:00"), shanghai, pol, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.FulfilmentDue != 2 || r.FulfilmentMet != 1 {
		t.Fatalf("Suzhou 五(五) 履约率 %d/%d, want 1/2", r.FulfilmentMet, r.FulfilmentDue)
	}
	if r.Started != 1 || r.Signed != 3 {
		t.Fatalf("Suzhou 五(五) 开工率 %d/%d, want 1/3", r.Started, r.Signed)
	}
	if r.FundsArrived != Yuan(250_000_000) || r.Contracted != Yuan(3_000_000_000) {
		t.Fatalf("Suzhou 五(五) 资金到位率 %v/%v", r.FundsArrived, r.Contracted)
	}
	if f, ok := r.FundsRate(); !ok || f < 0.0833 || f > 0.0834 {
		t.Fatalf("funds rate %v", f)
	}
	// As of an earlier moment, later facts do not count.
	r2, _ := ComputeRates([]*Project{met, late, notDue}, y, at("2024-03-10T12:00:00+08:00"), shanghai, pol, nil)
	if r2.Started != 1 || r2.FundsArrived.Amount != 0 {
		t.Fatalf("as of 03-10: %+v", r2)
	}

	// DOMAIN Tiers: USD converted at the rate in force when each fact
	// occurred — 7.1 until April, 6.5 from then.
	rateAt := func(t time.Time) Rate {
		if t.Before(at("2024-04-01T00:00:00+08:00")) {
			return 7_100_000
		}
		return 6_500_000
	}
	usd := reportedOn(t, bigCNY, at("2023-12-01T10:00:00+08:00"))
	must(t, usd, sign(at("2024-03-10T10:00:00+08:00"), Dollars(100_000_000)))
	must(t, usd, RecordFunds{OccurredAt: at("2024-03-20T10:00:00+08:00"), Amount: Dollars(20_000_000), Source: FundsForeign})
	must(t, usd, RecordFunds{OccurredAt: at("2024-05-02T10:00:00+08:00"), Amount: Dollars(10_000_000), Source: FundsForeign})
	for _, tc := range []struct {
		name            string
		rateAt          func(time.Time) Rate
		contract, funds int64
	}{
		{"each fact at its own day's rate", rateAt, 710_000_000, 142_000_000 + 65_000_000},
		{"no rate function: the policy's rate for all", nil, 710_000_000, 213_000_000},
	} {
		r, err := ComputeRates([]*Project{usd}, y, at("2024-06-01T00:00:00+08:00"), shanghai, pol, tc.rateAt)
		if err != nil || r.Contracted != Yuan(tc.contract) || r.FundsArrived != Yuan(tc.funds) {
			t.Errorf("%s: funds %v of %v (%v), want %d of %d", tc.name, r.FundsArrived, r.Contracted, err, tc.funds, tc.contract)
		}
	}
	// An amendment's increment at its own day's rate, as the ranking counts
	// it: US$100M at 7.1 (March) + US$20M more at 6.5 (May).
	must(t, usd, AmendContract{OccurredAt: at("2024-05-10T10:00:00+08:00"), ContractInvestment: Dollars(120_000_000), Reason: "增资"})
	r, err = ComputeRates([]*Project{usd}, y, at("2024-06-01T00:00:00+08:00"), shanghai, pol, rateAt)
	if err != nil || r.Contracted != Yuan(710_000_000+130_000_000) {
		t.Errorf("amended contract: %v (%v), want ¥8.4亿 (the signing at 7.1, the increment at 6.5)", r.Contracted, err)
	}
}

func TestProjectAlerts(t *testing.T) {
	pol := DefaultPolicy()
	p := reported(t, bigCNY)
	must(t, p, RecordDueProcess{Kind: DueRiskAssessment, OccurredAt: t0, Summary: "风险评估"})
	if f := p.DueProcess(); !f.RiskAssessment || f.FeasibilityStudy || f.CollectiveDecision {
		t.Fatalf("%+v", f)
	}
	must(t, p, sign(t0.Add(day(1)), bigCNY)) // major, never filed
	got := p.Alerts(at("2024-12-01T00:00:00+08:00"), shanghai, pol)
	want := []string{AlertSigningNotFiled, AlertRegistrationOverdue, AlertStale}
	if len(got) != len(want) {
		t.Fatalf("alerts %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("alerts %v, want %v", got, want)
		}
	}
	if a := NewProject().Alerts(now, shanghai, pol); a != nil {
		t.Fatal(a)
	}
	// DOMAIN signing_not_filed: terminating the project does not file the
	// signing; the deadline and stale alerts end with it.
	must(t, p, TerminateProject{OccurredAt: t0.Add(day(2)), Kind: TermBuiltNotInvested, Cause: CauseMarketChange, Explanation: "市场变化"})
	if got := p.Alerts(at("2024-12-01T00:00:00+08:00"), shanghai, pol); !slices.Equal(got, []string{AlertSigningNotFiled}) {
		t.Fatalf("alerts after termination %v, want only signing_not_filed", got)
	}
}
