package projections

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

func alertKinds(t *testing.T, v *Views, id string, now time.Time) []string {
	t.Helper()
	p, _, ok := v.Project(id, now)
	if !ok {
		t.Fatalf("project %s not found", id)
	}
	// The alerts list agrees with the project's own alert kinds.
	page, err := v.Alerts(AlertQuery{Now: now, ProjectID: id, Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var fromList []string
	for _, a := range page.Items {
		if a.ProjectID != id {
			t.Errorf("alert of %s in a query for %s", a.ProjectID, id)
		}
		if !slices.Contains(fromList, a.Kind) {
			fromList = append(fromList, a.Kind)
		}
		if a.Since.After(now) {
			t.Errorf("%s open at %s since %s", a.Kind, now, a.Since)
		}
	}
	slices.Sort(fromList)
	kinds := slices.Clone(p.Alerts)
	slices.Sort(kinds)
	if !slices.Equal(kinds, fromList) {
		t.Errorf("project alerts %v, alert list %v", kinds, fromList)
	}
	return p.Alerts
}

// Every alert kind of DOMAIN.md "Supervision", raised and cleared. The
// time-based ones are judged at the query's now, not when an event
// arrives.
func TestAlertsRaisedAndCleared(t *testing.T) {
	type step struct {
		do    func(l *ledger, id string)
		now   string
		open  bool
		label string
	}
	order := "00000000-0000-4000-9000-000000000001"
	issue := func(l *ledger, id, deadline string, at time.Time) {
		l.add(domain.SupervisionStream(order), domain.SupervisionOrderIssued{OrderID: order, ProjectID: id, Matter: "督办", Target: "按期推进",
			LeadLeader: "张建国", ResponsibleUnit: "A", Requirements: "每周报送", Deadline: domain.MustDate(deadline), OccurredAt: at})
	}
	closeOrder := func(l *ledger, at time.Time) {
		l.add(domain.SupervisionStream(order), domain.SupervisionOrderClosed{OrderID: order, OccurredAt: at, Result: "办结"})
	}
	cases := []struct {
		kind   string
		clause string
		setup  func(l *ledger) string
		steps  []step
	}{
		{domain.AlertExclusivityExpiring, "Jiaxing 二(一)3 首报首谈: window ends within 7 days, no negotiation",
			func(l *ledger) string { return l.report(1, "A", yuan(15), day("2024-05-01")) },
			[]step{
				{nil, "2024-05-20", false, "12 days left"},
				{nil, "2024-05-26", true, "5 days left"},
				{func(l *ledger, id string) { l.negotiate(id, day("2024-05-27")) }, "2024-05-28", false, "negotiated"},
			}},
		{domain.AlertExclusivityLapsed, "window ended with no negotiation",
			func(l *ledger) string { return l.report(1, "A", yuan(15), day("2024-05-01")) },
			[]step{
				{nil, "2024-05-30", false, "window open"},
				{nil, "2024-06-01", true, "window ended"},
				{func(l *ledger, id string) {
					l.terminate(id, domain.TermNegotiationEnded, domain.CauseMarketChange, domain.StageReported, day("2024-06-05"))
				}, "2024-06-06", false, "terminated"},
			}},
		{domain.AlertSigningNotFiled, "Jiaxing 二(一)3 重大签约提前一周报备",
			func(l *ledger) string {
				id := l.report(1, "A", yuan(15), day("2024-04-01"))
				l.negotiate(id, day("2024-04-02"))
				l.at(day("2024-04-27")).add(domain.ProjectStream(id), domain.SigningFiled{ProjectID: id, PlannedDate: domain.MustDate("2024-05-01"), ContractInvestment: yuan(15), OccurredAt: day("2024-04-27")})
				l.sign(id, "A", yuan(15), day("2024-05-01"), domain.Commitments{})
				return id
			},
			[]step{
				{nil, "2024-05-02", true, "filed 4 days ahead"},
				{func(l *ledger, id string) {
					issue(l, id, "2024-05-31", day("2024-05-03"))
					closeOrder(l, day("2024-05-10"))
				}, "2024-05-11", false, "followed up by a closed order"},
			}},
		{domain.AlertRegistrationOverdue, "Suzhou 五(五) 履约: past the committed registration date",
			func(l *ledger) string {
				id := l.report(1, "A", yuan(5), day("2024-01-01"))
				l.sign(id, "A", yuan(5), day("2024-01-10"), domain.Commitments{RegisterBy: dateP("2024-03-31")})
				return id
			},
			[]step{
				{nil, "2024-03-31", false, "due today"},
				{nil, "2024-04-01", true, "a day late"},
				{func(l *ledger, id string) {
					l.add(domain.ProjectStream(id), domain.CompanyRegistered{ProjectID: id, OccurredAt: day("2024-04-03"), CompanyUSCC: "91330400MA2B000000"})
				}, "2024-04-04", false, "registered"},
			}},
		{domain.AlertStartOverdue, "start_within_days 180 after signing when no start_by",
			func(l *ledger) string {
				id := l.report(1, "A", yuan(5), day("2024-01-01"))
				l.sign(id, "A", yuan(5), day("2024-01-10"), domain.Commitments{})
				return id
			},
			[]step{
				{nil, "2024-07-08", false, "day 180"},
				{nil, "2024-07-09", true, "day 181"},
				{func(l *ledger, id string) {
					l.add(domain.ProjectStream(id), domain.ConstructionStarted{ProjectID: id, OccurredAt: day("2024-07-10")})
				}, "2024-07-11", false, "started"},
			}},
		{domain.AlertFundsBehind, "Suzhou 五(五) 资金到位: arrivals below the schedule due",
			func(l *ledger) string {
				id := l.report(1, "A", yuan(5), day("2024-01-01"))
				l.sign(id, "A", yuan(5), day("2024-01-10"), domain.Commitments{RegisterBy: dateP("2025-01-01"), StartBy: dateP("2025-06-01"),
					Funds: []domain.FundsMilestone{{By: domain.MustDate("2024-06-30"), Amount: yuan(1)}, {By: domain.MustDate("2024-12-31"), Amount: yuan(2)}}})
				l.funds(id, yuan(0.5), domain.FundsDomestic, day("2024-05-01"))
				return id
			},
			[]step{
				{nil, "2024-06-30", false, "due at the end of the day"},
				{nil, "2024-07-01", true, "0.5亿 of 1亿"},
				{func(l *ledger, id string) { l.funds(id, yuan(0.5), domain.FundsForeign, day("2024-07-02")) }, "2024-07-03", false, "caught up"},
				{nil, "2025-01-01", true, "next milestone missed"},
			}},
		{domain.AlertStale, "a month without progress must be explained",
			func(l *ledger) string { return l.report(1, "A", yuan(3), day("2024-03-01")) },
			[]step{
				{nil, "2024-03-30", false, "29 days"},
				{nil, "2024-04-01", true, "31 days"},
				{func(l *ledger, id string) { l.negotiate(id, day("2024-04-02")) }, "2024-04-03", false, "negotiated"},
			}},
		{domain.AlertLateRecord, "补录: recorded more than late_record_days after it occurred",
			func(l *ledger) string {
				id := l.report(1, "A", yuan(3), day("2024-03-01"))
				l.at(day("2024-03-25")).negotiate(id, day("2024-03-05"))
				return id
			},
			[]step{
				{nil, "2024-03-26", true, "20 days late"},
				{func(l *ledger, id string) {
					issue(l, id, "2024-04-30", day("2024-03-27"))
					closeOrder(l, day("2024-03-28"))
				}, "2024-03-29", false, "followed up"},
			}},
		{domain.AlertOrderOverdue, "Xiamen 三(五)3 办结时间",
			func(l *ledger) string {
				id := l.report(1, "A", yuan(3), day("2024-03-01"))
				issue(l, id, "2024-03-20", day("2024-03-02"))
				return id
			},
			[]step{
				{nil, "2024-03-20", false, "deadline today"},
				{nil, "2024-03-21", true, "past the deadline"},
				{func(l *ledger, id string) { closeOrder(l, day("2024-03-22")) }, "2024-03-23", false, "closed"},
			}},
		{domain.AlertExclusivityConflict, "首报首谈 conflict kept for the centre",
			func(l *ledger) string {
				id := l.report(1, "A", yuan(15), day("2024-05-01"), withInvestor("比亚迪股份有限公司", ""))
				l.negotiate(id, day("2024-05-02"))
				key := domain.ExclusivityKeyOf(domain.Investor{Name: "比亚迪股份有限公司"}, "新能源汽车")
				l.add(domain.ExclusivityStream(key), domain.ReportRejected{Key: key, ProjectID: pid(99), Unit: "B", Name: "比亚迪整车项目",
					Investor: domain.Investor{Name: "比亚迪股份有限公司"}, IndustryChain: "新能源汽车", PlannedInvestment: yuan(15),
					OccurredAt: day("2024-05-03"), HolderUnit: "A", HolderProject: id, Until: day("2024-05-31")})
				return id
			},
			[]step{
				{nil, "2024-05-04", true, "B's report rejected"},
				{func(l *ledger, id string) {
					l.add(domain.ProjectStream(id), domain.ProjectTransferred{ProjectID: id, FromUnit: "A", ToUnit: "B", Reason: "协调流转", OccurredAt: day("2024-05-05")})
				}, "2024-05-06", false, "the centre transferred it"},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			l := newLedger(t)
			l.unit("A", "南湖区", domain.UnitCounty)
			l.unit("B", "秀洲区", domain.UnitCounty)
			id := tc.setup(l)
			for _, s := range tc.steps {
				if s.do != nil {
					s.do(l, id)
				}
				v := l.views()
				now := day(s.now)
				kinds := alertKinds(t, v, id, now)
				if got := slices.Contains(kinds, tc.kind); got != s.open {
					t.Errorf("%s (%s) at %s: open %v, want %v (alerts %v)", tc.clause, s.label, s.now, got, s.open, kinds)
				}
				page, err := v.Alerts(AlertQuery{Now: now, Kind: tc.kind, Unit: "A"})
				if err != nil {
					t.Fatal(err)
				}
				if tc.kind != domain.AlertExclusivityConflict || s.open { // after the transfer the project is B's
					if (len(page.Items) > 0) != s.open {
						t.Errorf("%s at %s: kind+unit query gives %d alerts", s.label, s.now, len(page.Items))
					}
				}
			}
		})
	}
}

func TestAlertsPaginationAndCounts(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	l.unit("B", "秀洲区", domain.UnitCounty)
	for i := range 120 {
		u := "A"
		if i%3 == 0 {
			u = "B"
		}
		l.report(i+1, u, yuan(2), day("2024-01-01").AddDate(0, 0, i%10))
	}
	v := l.views()
	now := day("2024-06-01")
	var all []Alert
	cursor := ""
	for {
		p, err := v.Alerts(AlertQuery{Now: now, Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(all) != 120 {
		t.Fatalf("paged through %d stale alerts, want 120", len(all))
	}
	seen := map[string]bool{}
	for _, a := range all {
		if seen[a.ProjectID] {
			t.Errorf("%s twice", a.ProjectID)
		}
		seen[a.ProjectID] = true
	}
	if c := v.AlertCounts(now, "B"); c[domain.AlertStale] != 40 {
		t.Errorf("B stale count %d, want 40", c[domain.AlertStale])
	}
	if _, err := v.Alerts(AlertQuery{Now: now, Cursor: "garbage"}); err == nil {
		t.Error("a bad cursor was accepted")
	}
	if _, err := v.Alerts(AlertQuery{Now: now, Kind: "nonsense"}); err == nil {
		t.Error("an unknown kind was accepted")
	}
}

// Orders carry the six 定 (Xiamen 三(五)3) and their status at now.
func TestOrdersStatus(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	id := l.report(1, "A", yuan(3), day("2024-03-01"))
	mk := func(n int, deadline string) string {
		o := pid(1000 + n)
		l.add(domain.SupervisionStream(o), domain.SupervisionOrderIssued{OrderID: o, ProjectID: id, Matter: "推进注册", Target: "4月底前完成注册",
			LeadLeader: "李卫东", ResponsibleUnit: "A", Requirements: "每周报送进展", Deadline: domain.MustDate(deadline), OccurredAt: day("2024-03-02")})
		return o
	}
	open, overdue, closed := mk(1, "2024-12-31"), mk(2, "2024-03-31"), mk(3, "2024-03-31")
	l.add(domain.SupervisionStream(closed), domain.SupervisionProgressReported{OrderID: closed, OccurredAt: day("2024-03-10"), Summary: "已提交材料"})
	l.add(domain.SupervisionStream(closed), domain.SupervisionOrderClosed{OrderID: closed, OccurredAt: day("2024-03-20"), Result: "已办结"})
	v := l.views()
	now := day("2024-04-10")
	for status, want := range map[string]string{StatusOpen: open, StatusOverdue: overdue, StatusClosed: closed} {
		p, err := v.Orders(OrderQuery{Now: now, Status: status})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 1 || p.Items[0].ID != want {
			t.Errorf("%s orders: %+v", status, p.Items)
			continue
		}
		it := p.Items[0]
		if it.Matter == "" || it.Target == "" || it.LeadLeader == "" || it.ResponsibleUnit == "" || it.Requirements == "" || it.Deadline.IsZero() {
			t.Errorf("six 定 incomplete: %+v", it)
		}
	}
	o, _, ok := v.Order(closed, now)
	if !ok || len(o.Progress) != 1 || o.ClosedAt == nil || o.Result != "已办结" {
		t.Errorf("closed order %+v", o)
	}
	if _, err := v.Orders(OrderQuery{Now: now, Status: "pending"}); err == nil {
		t.Error("unknown status accepted")
	}
}

// Suzhou 五(五): 履约率, 开工率, 资金到位率 with numerators and denominators,
// over the projects a unit signed in the year.
func TestRates(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	l.unit("B", "秀洲区", domain.UnitCounty)
	reg := func(id string, at string) {
		l.add(domain.ProjectStream(id), domain.CompanyRegistered{ProjectID: id, OccurredAt: day(at), CompanyUSCC: "91330400MA2B000000"})
	}
	start := func(id string, at string) {
		l.add(domain.ProjectStream(id), domain.ConstructionStarted{ProjectID: id, OccurredAt: day(at)})
	}
	com := domain.Commitments{RegisterBy: dateP("2024-04-30"), StartBy: dateP("2024-08-31")}
	// p1: registered and started on time.
	p1 := l.report(1, "A", yuan(10), day("2024-01-02"))
	l.sign(p1, "A", yuan(10), day("2024-02-01"), com)
	reg(p1, "2024-04-01")
	start(p1, "2024-06-01")
	l.funds(p1, yuan(6), domain.FundsDomestic, day("2024-07-01"))
	// p2: registered late, started on time.
	p2 := l.report(2, "A", yuan(20), day("2024-01-02"))
	l.sign(p2, "A", yuan(20), day("2024-02-01"), com)
	reg(p2, "2024-05-10")
	start(p2, "2024-08-01")
	l.funds(p2, yuan(4), domain.FundsDomestic, day("2024-09-01"))
	// p3: signed late in the year, nothing due yet.
	p3 := l.report(3, "A", yuan(10), day("2024-01-02"))
	l.sign(p3, "A", yuan(10), day("2024-11-01"), domain.Commitments{})
	// p4: signed in 2023: not in 2024's rates.
	p4 := l.report(4, "A", yuan(10), day("2023-01-02"))
	l.sign(p4, "A", yuan(10), day("2023-06-01"), domain.Commitments{})
	v := l.views()
	res, err := v.Rates(2024, "A", day("2024-12-31"))
	if err != nil {
		t.Fatal(err)
	}
	it := res.Items[0]
	if it.Fulfilment.Numerator != 1 || it.Fulfilment.Denominator != 2 || *it.Fulfilment.Rate != 0.5 {
		t.Errorf("fulfilment %+v, want 1/2", it.Fulfilment)
	}
	if it.Start.Numerator != 2 || it.Start.Denominator != 3 {
		t.Errorf("start %+v, want 2/3", it.Start)
	}
	if it.Funds.Numerator.Amount != 10e8 || it.Funds.Denominator.Amount != 40e8 || *it.Funds.Rate != 0.25 {
		t.Errorf("funds %+v, want 10亿/40亿", it.Funds)
	}
	all, err := v.Rates(2024, "", day("2024-12-31"))
	if err != nil || len(all.Items) != 2 {
		t.Fatalf("all units: %v %d", err, len(all.Items))
	}
	if b := all.Items[1]; b.Unit != "B" || b.Start.Rate != nil || b.Start.Denominator != 0 {
		t.Errorf("B (nothing signed): %+v", b)
	}
}

// A report with a code claims under two keys (domain.ExclusivityKeysOf), so
// one rejected attempt can leave several ReportRejected records: the
// holder's, in the stream of its Key, and voiding copies in the streams
// the loser had already claimed. The conflict is raised once per rejected
// attempt, and never by a voiding copy.
func TestExclusivityConflictCountedOncePerAttempt(t *testing.T) {
	base := "91330400MA2B00000"
	c, ok := domain.USCCCheckChar(base)
	if !ok {
		t.Fatal("no check character")
	}
	inv := domain.Investor{Name: "比亚迪股份有限公司", USCC: base + string(c)}
	keys := domain.ExclusivityKeysOf(inv, "新能源汽车")
	if len(keys) != 2 {
		t.Fatalf("keys %v, want a name key and a uscc key", keys)
	}
	usccKey, nameKey := keys[1], keys[0]
	if !strings.HasPrefix(usccKey, "uscc:") {
		usccKey, nameKey = nameKey, usccKey
	}
	type rec struct {
		stream  string // key whose stream holds the record
		attempt int
	}
	cases := []struct {
		name string
		recs []rec
		want int
	}{
		{"holder's record only", []rec{{usccKey, 99}}, 1},
		{"holder's record and a voiding copy", []rec{{nameKey, 99}, {usccKey, 99}}, 1},
		{"voiding copy first, then the holder's", []rec{{usccKey, 99}, {nameKey, 99}}, 1},
		{"the holder's record written twice", []rec{{usccKey, 99}, {usccKey, 99}}, 1},
		{"two attempts, each with a voiding copy", []rec{{nameKey, 98}, {usccKey, 98}, {nameKey, 99}, {usccKey, 99}}, 2},
		{"a voiding copy alone", []rec{{nameKey, 99}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger(t)
			l.unit("A", "南湖区", domain.UnitCounty)
			l.unit("B", "秀洲区", domain.UnitCounty)
			id := l.report(1, "A", yuan(15), day("2024-05-01"), withInvestor(inv.Name, inv.USCC))
			l.negotiate(id, day("2024-05-02"))
			for i, r := range tc.recs {
				// Every record of an attempt names the key of the holder's
				// claim it lost to: the uscc key here, whichever stream
				// holds it; a record in another stream voids a claim.
				l.add(domain.ExclusivityStream(r.stream), domain.ReportRejected{Key: usccKey, ProjectID: pid(r.attempt), Unit: "B",
					Name: "比亚迪整车项目", Investor: inv, IndustryChain: "新能源汽车", PlannedInvestment: yuan(15),
					OccurredAt: day("2024-05-03").Add(time.Duration(i) * time.Minute), HolderUnit: "A", HolderProject: id, Until: day("2024-05-31")})
			}
			v := l.views()
			page, err := v.Alerts(AlertQuery{Now: day("2024-05-04"), Kind: domain.AlertExclusivityConflict, Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != tc.want {
				t.Errorf("%d exclusivity_conflict alerts, want %d: %+v", len(page.Items), tc.want, page.Items)
			}
			for _, a := range page.Items {
				if a.ProjectID != id {
					t.Errorf("conflict raised on %s, want the holder %s", a.ProjectID, id)
				}
			}
			if got := v.AlertCounts(day("2024-05-04"), "A")[domain.AlertExclusivityConflict]; got != tc.want {
				t.Errorf("alert count %d, want %d", got, tc.want)
			}
		})
	}
}

// TestAlertsAfterAPolicyShortensDeadlines: a version that shortens
// stale_days and register_within_days opens the alerts at the new, earlier
// deadlines for projects whose facts came before it; a query at a moment
// still under the old version keeps the old deadlines (DOMAIN.md
// "Supervision": each alert by the policy in force; views.md: decided by the
// domain's rule at the query's now).
func TestAlertsAfterAPolicyShortensDeadlines(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	idle := l.report(1, "A", yuan(5), day("2024-01-05"))
	signed := l.report(2, "A", yuan(5), day("2024-01-05"))
	l.sign(signed, "A", yuan(5), day("2024-01-10"), domain.Commitments{})
	pol := domain.DefaultPolicy()
	pol.Version = 1
	pol.StaleDays = 15
	pol.RegisterWithinDays = 30
	l.policy(pol, day("2024-01-12"))
	v := l.views()
	for _, tc := range []struct {
		name string
		id   string
		now  time.Time
		want []string
	}{
		{"stale after 15 days under v1 (23 days idle)", idle, day("2024-01-28"), []string{domain.AlertStale}},
		{"registration due 30 days after signing under v1", signed, day("2024-03-01"), []string{domain.AlertRegistrationOverdue, domain.AlertStale}},
		{"before v1, the default 30 stale days", idle, day("2024-01-11"), nil},
	} {
		if got := alertKinds(t, v, tc.id, tc.now); !slices.Equal(got, tc.want) {
			t.Errorf("%s: alerts %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRatesConvertLikeTheRanking: the 资金到位率 and the ranking convert a
// USD contract and its funds at the rate in force when each occurred, so
// both views show the same yuan for the same facts after the rate changes.
func TestRatesConvertLikeTheRanking(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	id := l.report(1, "A", domain.Dollars(150_000_000), day("2024-01-05"))
	l.sign(id, "A", domain.Dollars(150_000_000), day("2024-03-10"), domain.Commitments{})
	l.funds(id, domain.Dollars(50_000_000), domain.FundsForeign, day("2024-04-10"))
	pol := domain.DefaultPolicy()
	pol.Version = 1
	pol.USDCNYRate = domain.Rate(6_500_000)
	l.policy(pol, day("2024-06-01"))
	v := l.views()
	ind := rankItem(t, mustRank(t, v, RankingQuery{Period: "2024", Kind: domain.UnitCounty}), "A").Indicators
	rates, err := v.Rates(2024, "A", day("2024-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	f := rates.Items[0].Funds
	if f.Denominator != domain.Yuan(1_065_000_000) || f.Numerator != domain.Yuan(355_000_000) ||
		ind[domain.IndContractInvestment] != 1_065_000_000 || ind[domain.IndFundsArrived] != 355_000_000 {
		t.Fatalf("rates funds %v / %v, ranking funds %v / contract %v; want ¥3.55亿 / ¥10.65亿 in both (rate 7.1 when they occurred)",
			f.Numerator, f.Denominator, ind[domain.IndFundsArrived], ind[domain.IndContractInvestment])
	}
}

// TestCorrectionIsNotProgress: a correction fixes the record; it does not
// restart the stale clock (DOMAIN.md: "a month without progress must be
// explained"), nor does a producing project ever turn stale.
func TestCorrectionIsNotProgress(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	idle := l.report(1, "A", yuan(5), day("2024-01-05"))
	l.correct(idle, domain.FieldReferrer, "", "嘉兴市总商会", day("2024-01-30"))
	done := l.report(2, "A", yuan(5), day("2024-01-05"))
	l.sign(done, "A", yuan(5), day("2024-01-06"), domain.Commitments{})
	l.add(domain.ProjectStream(done), domain.ProductionStarted{ProjectID: done, OccurredAt: day("2024-01-07")})
	v := l.views()
	if got := alertKinds(t, v, idle, day("2024-02-10")); !slices.Equal(got, []string{domain.AlertStale}) {
		t.Errorf("idle since 01-05, corrected 01-30, asked 02-10: %v, want stale", got)
	}
	if got := alertKinds(t, v, done, day("2024-06-01")); slices.Contains(got, domain.AlertStale) {
		t.Errorf("producing project: %v, want no stale", got)
	}
}

// TestFundsBehindAfterARateChange: funds_behind is judged at the USD rate of
// the policy in force at the query's now (domain.Project.FundsBehind), so
// the index arms it under every rate a version has set: US$9.6M arrived
// against US$10M due is behind at 7.5 as at 7.1, whatever rate each fact
// was recorded under.
func TestFundsBehindAfterARateChange(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	id := signedWithMilestone(l, 1, domain.Dollars(20_000_000), domain.Dollars(10_000_000))
	pol := domain.DefaultPolicy()
	pol.Version = 1
	pol.USDCNYRate = domain.Rate(7_500_000)
	l.policy(pol, day("2024-03-01"))
	l.funds(id, domain.Dollars(9_600_000), domain.FundsForeign, day("2024-04-01"))
	v := l.views()
	if got := alertKinds(t, v, id, day("2024-07-10")); !slices.Contains(got, domain.AlertFundsBehind) {
		t.Errorf("US$9.6M of US$10M due by 06-30, asked 07-10 under the 7.5 rate: %v, want funds_behind", got)
	}
	if got := alertKinds(t, v, id, day("2024-06-20")); slices.Contains(got, domain.AlertFundsBehind) {
		t.Errorf("before the milestone: %v, want no funds_behind", got)
	}
	// Yuan against a dollar schedule: ¥72M covers US$10M at 7.1 but not at
	// 7.5, the rate in force when asked.
	cny := signedWithMilestone(l, 2, domain.Dollars(20_000_000), domain.Dollars(10_000_000))
	l.funds(cny, domain.Yuan(72_000_000), domain.FundsDomestic, day("2024-02-01"))
	v = l.views()
	if got := alertKinds(t, v, cny, day("2024-07-10")); !slices.Contains(got, domain.AlertFundsBehind) {
		t.Errorf("¥72M against US$10M, asked under the 7.5 rate: %v, want funds_behind", got)
	}
	// ¥78M covers US$10M at both rates so far, so the index counts the
	// milestone covered; a later version raising the rate to 8.0 uncovers
	// it, and the index must count again.
	raised := signedWithMilestone(l, 3, domain.Dollars(20_000_000), domain.Dollars(10_000_000))
	l.funds(raised, domain.Yuan(78_000_000), domain.FundsDomestic, day("2024-02-01"))
	if got := alertKinds(t, l.views(), raised, day("2024-07-10")); slices.Contains(got, domain.AlertFundsBehind) {
		t.Errorf("¥78M against US$10M under the 7.5 rate: %v, want no funds_behind", got)
	}
	pol.Version = 2
	pol.USDCNYRate = domain.Rate(8_000_000)
	l.policy(pol, day("2024-07-01"))
	if got := alertKinds(t, l.views(), raised, day("2024-07-10")); !slices.Contains(got, domain.AlertFundsBehind) {
		t.Errorf("¥78M against US$10M under the 8.0 rate adopted later: %v, want funds_behind", got)
	}
}

// TestFundsBehindAfterAFundsCorrection: a correction that lowers an
// arrival uncovers a milestone the arrivals had covered, so funds_behind
// opens again from that milestone's end.
func TestFundsBehindAfterAFundsCorrection(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	id := signedWithMilestone(l, 1, domain.Yuan(500_000_000), domain.Yuan(100_000_000))
	l.funds(id, domain.Yuan(100_000_000), domain.FundsDomestic, day("2024-04-01"))
	if got := alertKinds(t, l.views(), id, day("2024-07-10")); slices.Contains(got, domain.AlertFundsBehind) {
		t.Errorf("¥100M of ¥100M due: %v, want no funds_behind", got)
	}
	l.correct(id, domain.FundsAmountField(0), domain.Yuan(100_000_000), domain.Yuan(60_000_000), day("2024-07-05"))
	v := l.views()
	if got := alertKinds(t, v, id, day("2024-07-10")); !slices.Contains(got, domain.AlertFundsBehind) {
		t.Errorf("¥60M of ¥100M due after the correction: %v, want funds_behind", got)
	}
	page, err := v.Alerts(AlertQuery{Now: day("2024-07-10"), ProjectID: id, Kind: domain.AlertFundsBehind})
	if err != nil || len(page.Items) != 1 || !page.Items[0].Since.Equal(domain.MustDate("2024-06-30").End(v.Location())) {
		t.Errorf("funds_behind after the correction: %+v, %v; want one, since the end of 2024-06-30", page.Items, err)
	}
}

// signedWithMilestone reports project n of unit A on 2024-01-05 and signs
// it on 2024-01-10 with one funds milestone: due by 2024-06-30.
func signedWithMilestone(l *ledger, n int, contract, due domain.Money) string {
	id := l.report(n, "A", contract, day("2024-01-05"))
	l.sign(id, "A", contract, day("2024-01-10"), domain.Commitments{
		Funds: []domain.FundsMilestone{{By: domain.MustDate("2024-06-30"), Amount: due}}})
	return id
}

// TestFundsBehindAfterANegativeArrival: the log is the truth, so an arrival
// with a negative amount (which the commands refuse) lowers the funds and
// uncovers a milestone the arrivals had covered.
func TestFundsBehindAfterANegativeArrival(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	id := signedWithMilestone(l, 1, domain.Yuan(500_000_000), domain.Yuan(100_000_000))
	l.funds(id, domain.Yuan(100_000_000), domain.FundsDomestic, day("2024-04-01"))
	l.funds(id, domain.Yuan(-50_000_000), domain.FundsDomestic, day("2024-05-01"))
	if got := alertKinds(t, l.views(), id, day("2024-07-10")); !slices.Contains(got, domain.AlertFundsBehind) {
		t.Errorf("¥50M net of ¥100M due: %v, want funds_behind", got)
	}
}
