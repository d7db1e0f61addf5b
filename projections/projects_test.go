package projections

import (
	"errors"
	"testing"

	"github.com/zhaoshang/zhaoshang/domain"
)

func TestProjectState(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	l.unit("B", "秀洲区", domain.UnitCounty)
	id := l.report(1, "A", domain.Dollars(150_000_000), day("2024-01-05"), withCats(domain.CategoryForeign, domain.CategoryFortuneGlobal500))
	l.negotiate(id, day("2024-01-10"))
	l.add(domain.ProjectStream(id), domain.ProjectTransferred{ProjectID: id, FromUnit: "A", ToUnit: "B", Reason: "流转", OccurredAt: day("2024-01-20")})
	l.dueProcess(id, domain.DueFeasibilityStudy, day("2024-01-25"))
	l.sign(id, "B", domain.Dollars(160_000_000), day("2024-02-01"), domain.Commitments{})
	l.funds(id, domain.Dollars(10_000_000), domain.FundsForeign, day("2024-03-01"))
	l.funds(id, yuan(1), domain.FundsDomestic, day("2024-03-02"))
	v := l.views()
	p, pos, ok := v.Project(id, day("2024-03-03"))
	if !ok {
		t.Fatal("not found")
	}
	if p.Stage != domain.StageSigned || p.Unit != "B" || p.FirstUnit != "A" {
		t.Errorf("stage %s unit %s first %s", p.Stage, p.Unit, p.FirstUnit)
	}
	if p.Tier == nil || *p.Tier != domain.Tier1b || !p.USD100m { // US$1.6亿 × 7.1 = ¥11.36亿
		t.Errorf("tier %v usd100m %v", p.Tier, p.USD100m)
	}
	if p.FundsArrived != domain.Yuan(71_000_000+100_000_000) {
		t.Errorf("funds arrived %v", p.FundsArrived)
	}
	if !p.DueProcess.FeasibilityStudy || p.DueProcess.RiskAssessment {
		t.Errorf("due process %+v", p.DueProcess)
	}
	if p.SignedAt == nil || p.SignedAt.String() != "2024-02-01" || p.ReportedAt.String() != "2024-01-05" || p.StartedAt != nil {
		t.Errorf("dates %v %v %v", p.ReportedAt, p.SignedAt, p.StartedAt)
	}
	if p.Version != 7 || p.Position.Commit != 9 || pos.Commit != 9 {
		t.Errorf("version %d position %s views at %s", p.Version, p.Position, pos)
	}
	if _, _, ok := v.Project(pid(999), day("2024-03-03")); ok {
		t.Error("unknown project found")
	}
}

func TestProjectFiltersSearchAndLists(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	l.unit("B", "秀洲区", domain.UnitCounty)
	ids := []string{
		l.report(1, "A", yuan(2), day("2024-01-01"), withName("宁德时代动力电池项目"), withInvestor("宁德时代新能源科技股份有限公司", "")),
		l.report(2, "A", yuan(60), day("2024-01-02"), withName("Tesla 超级工厂项目"), withInvestor("ＴＥＳＬＡ（上海）有限公司", ""), withCats(domain.CategoryFortuneGlobal500)),
		l.report(3, "B", yuan(12), day("2024-01-03"), withName("中芯国际12英寸晶圆项目"), withChain("集成电路")),
		l.report(4, "B", yuan(0.5), day("2024-01-04"), withName("小型电池回收项目")),
	}
	l.negotiate(ids[0], day("2024-01-05"))
	l.sign(ids[1], "A", yuan(60), day("2024-01-06"), domain.Commitments{})
	l.sign(ids[2], "B", yuan(12), day("2024-01-07"), domain.Commitments{})
	l.add(domain.ProjectStream(ids[2]), domain.CompanyRegistered{ProjectID: ids[2], OccurredAt: day("2024-01-08"), CompanyUSCC: "91330400MA2B000000"})
	l.correct(ids[3], domain.FieldName, "小型电池回收项目", "锂电池回收利用项目", day("2024-01-09"))
	v := l.views()

	got := func(f ProjectFilter) []string {
		t.Helper()
		p, err := v.Projects(f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range p.Items {
			out = append(out, it.ID)
		}
		return out
	}
	eq := func(name string, a []string, b ...string) {
		t.Helper()
		if len(a) != len(b) {
			t.Errorf("%s: %v, want %v", name, a, b)
			return
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("%s: %v, want %v", name, a, b)
				return
			}
		}
	}
	eq("q 电池 (Chinese substring)", got(ProjectFilter{Q: "电池"}), ids[0], ids[3])
	eq("q 时代 matches the investor too", got(ProjectFilter{Q: "新能源科技"}), ids[0])
	eq("q tesla (case, full-width folded)", got(ProjectFilter{Q: "tesla"}), ids[1])
	eq("q ＴＥＳＬＡ 上海", got(ProjectFilter{Q: "ＴＥＳＬＡ 上海"}), ids[1])
	eq("corrected name is searched", got(ProjectFilter{Q: "锂电池"}), ids[3])
	eq("old name no longer matches", got(ProjectFilter{Q: "小型"}))
	eq("every rune present, across name and investor, but no substring", got(ProjectFilter{Q: "电池新能源"}))
	first, err := v.Projects(ProjectFilter{Q: "电池", Limit: 1})
	if err != nil || len(first.Items) != 1 || first.Items[0].ID != ids[0] || first.NextCursor == "" {
		t.Fatalf("search page 1: %+v, %v", first, err)
	}
	eq("search page 2 (cursor)", got(ProjectFilter{Q: "电池", Limit: 1, Cursor: first.NextCursor}), ids[3])
	eq("unit", got(ProjectFilter{Unit: "B"}), ids[2], ids[3])
	eq("stage", got(ProjectFilter{Stage: domain.StageSigned}), ids[1])
	eq("chain (normalised)", got(ProjectFilter{Chain: " 集成电路 "}), ids[2])
	eq("tier 1b", got(ProjectFilter{Tier: "1b"}), ids[2])
	eq("tier 1b+", got(ProjectFilter{Tier: "1b+"}), ids[1], ids[2])
	eq("tier none", got(ProjectFilter{Tier: "none"}), ids[3])
	eq("category", got(ProjectFilter{Category: domain.CategoryFortuneGlobal500}), ids[1])
	eq("combined", got(ProjectFilter{Unit: "A", Q: "项目", Tier: "5b"}), ids[1])

	for _, tc := range []struct {
		list ListName
		unit domain.UnitCode
		want []string
	}{
		{ListNegotiating, "", []string{ids[0]}},
		{ListSigned, "", []string{ids[1]}},
		{ListRegistered, "B", []string{ids[2]}},
		{ListRegistered, "A", nil},
		{ListStarted, "", nil},
	} {
		p, err := v.List(tc.list, tc.unit, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range p.Items {
			out = append(out, it.ID)
		}
		eq(string(tc.list)+" "+string(tc.unit), out, tc.want...)
	}
	if c := v.ListCounts(""); c[ListNegotiating] != 1 || c[ListSigned] != 1 || c[ListRegistered] != 1 || c[ListStarted] != 0 {
		t.Errorf("list counts %v", c)
	}

	// Pagination walks every project exactly once.
	var all []string
	cursor := ""
	for {
		p, err := v.Projects(ProjectFilter{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			all = append(all, it.ID)
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	eq("paged", all, ids...)

	for _, f := range []ProjectFilter{{Limit: 501}, {Tier: "2b"}, {Stage: "done"}, {Cursor: "eA"}} {
		if _, err := v.Projects(f); !errors.Is(err, ErrInvalidQuery) && !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%+v: %v", f, err)
		}
	}
	if _, err := v.List("finished", "", 0, ""); !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("unknown list: %v", err)
	}
}

// TestCursorsContinueAfterTheLastItem: a cursor continues just after the
// last item its page returned, so a project that joins the list between
// two pages, earlier in the list order than the next item then was, is
// not skipped; a cursor given for one list is refused by another.
func TestCursorsContinueAfterTheLastItem(t *testing.T) {
	l := newLedger(t)
	l.unit("A", "南湖区", domain.UnitCounty)
	var ids []string
	for i := range 5 {
		ids = append(ids, l.report(i+1, "A", yuan(5), day("2024-01-05")))
	}
	l.sign(ids[0], "A", yuan(5), day("2024-02-01"), domain.Commitments{})
	l.sign(ids[3], "A", yuan(5), day("2024-02-01"), domain.Commitments{})
	v := l.views()
	first, err := v.List(ListSigned, "", 1, "")
	if err != nil || len(first.Items) != 1 || first.Items[0].ID != ids[0] || first.NextCursor == "" {
		t.Fatalf("first page %+v, %v", first, err)
	}
	// ids[1] (reported second) is signed before the client asks for page 2.
	l.sign(ids[1], "A", yuan(5), day("2024-02-02"), domain.Commitments{})
	v = l.views()
	second, err := v.List(ListSigned, "", 1, first.NextCursor)
	if err != nil || len(second.Items) != 1 || second.Items[0].ID != ids[1] {
		t.Fatalf("page 2 after ids[1] joined: %+v, %v; want ids[1]", second.Items, err)
	}
	for name, other := range map[string]func() error{
		"another list": func() error { _, err := v.List(ListNegotiating, "", 1, first.NextCursor); return err },
		"another unit": func() error { _, err := v.List(ListSigned, "A", 1, first.NextCursor); return err },
		"all projects": func() error { _, err := v.Projects(ProjectFilter{Limit: 1, Cursor: first.NextCursor}); return err },
		"alerts": func() error {
			_, err := v.Alerts(AlertQuery{Now: day("2024-03-01"), Limit: 1, Cursor: first.NextCursor})
			return err
		},
	} {
		if err := other(); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("the signed list's cursor on %s: %v, want ErrInvalidCursor", name, err)
		}
	}
}
