package projections

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// DOMAIN.md DetailsCorrected and "Assessment": a correction is flagged for
// every affected year whose AssessmentPublished froze its result at a log
// position before the correction — decided by the log order
// (domain.DetailsCorrected.FlaggedYears), whatever the recorded `flagged`.
func TestCorrectionFlaggedByLogOrder(t *testing.T) {
	publish := func(l *ledger, year int, frozen string) {
		l.add(domain.AssessmentStream(year), domain.AssessmentPublished{Year: year, PolicyVersion: 0, Position: frozen, OccurredAt: day("2024-01-20")})
	}
	cases := []struct {
		name string
		// build appends the publication(s) around correct, which appends
		// the correction; mark is the position of the signing.
		build   func(l *ledger, correct func(published []int), mark eventstore.Position)
		flagged []int
	}{
		{"published before the correction", func(l *ledger, correct func([]int), _ eventstore.Position) {
			publish(l, 2023, "")
			correct(nil)
		}, []int{2023}},
		{"published after the correction", func(l *ledger, correct func([]int), _ eventstore.Position) {
			correct(nil)
			publish(l, 2023, "")
		}, nil},
		{"appended after the correction, frozen at an earlier position", func(l *ledger, correct func([]int), mark eventstore.Position) {
			correct(nil)
			publish(l, 2023, mark.String())
		}, []int{2023}},
		{"the command saw the year published", func(l *ledger, correct func([]int), _ eventstore.Position) {
			publish(l, 2023, "")
			correct([]int{2023})
		}, []int{2023}},
		{"another year published before", func(l *ledger, correct func([]int), _ eventstore.Position) {
			publish(l, 2022, "")
			correct(nil)
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger(t)
			l.unit("A", "南湖区", domain.UnitCounty)
			id := l.report(1, "A", yuan(15), day("2023-03-01"))
			l.negotiate(id, day("2023-03-10"))
			mark := l.add(domain.ProjectStream(id), domain.ContractSigned{ProjectID: id, OccurredAt: day("2023-06-01"), ContractInvestment: yuan(15),
				Agreement: domain.AgreementFormal, Unit: "A"}).Position
			var corrPos eventstore.Position
			correct := func(published []int) {
				v, _ := json.Marshal([]domain.Category{domain.CategoryFortuneGlobal500})
				corrPos = l.add(domain.ProjectStream(id), domain.DetailsCorrected{ProjectID: id, Field: domain.FieldInvestorCategories,
					Value: v, Previous: json.RawMessage(`[]`), Reason: "核对原始材料", OccurredAt: day("2024-02-01"),
					AffectedYears: []int{2023}, PublishedYears: published, Flagged: len(published) > 0}).Position
			}
			tc.build(l, correct, mark)
			v := l.views()

			p, _, ok := v.Project(id, day("2024-03-01"))
			if !ok || len(p.Corrections) != 1 {
				t.Fatalf("project %v, corrections %+v", ok, p.Corrections)
			}
			c := p.Corrections[0]
			if !slices.Equal(c.FlaggedYears, tc.flagged) && !(len(c.FlaggedYears) == 0 && len(tc.flagged) == 0) {
				t.Errorf("flagged years %v, want %v", c.FlaggedYears, tc.flagged)
			}
			if c.Flagged != (len(tc.flagged) > 0) || c.Position != corrPos || c.Field != domain.FieldInvestorCategories ||
				!slices.Equal(c.AffectedYears, []int{2023}) {
				t.Errorf("correction %+v", c)
			}
			// The lists show the same as the project.
			page, err := v.Projects(ProjectFilter{})
			if err != nil || len(page.Items) != 1 || len(page.Items[0].Corrections) != 1 || page.Items[0].Corrections[0].Flagged != c.Flagged {
				t.Errorf("list item corrections %+v (%v)", page.Items, err)
			}

			res, err := v.Assessment(AssessmentQuery{Year: 2023})
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if res.Published && len(tc.flagged) > 0 {
				want = 1
			}
			if len(res.Corrections) != want {
				t.Fatalf("2023 (published %v) lists %d flagged corrections, want %d: %+v", res.Published, len(res.Corrections), want, res.Corrections)
			}
			if want == 1 && (res.Corrections[0].ProjectID != id || res.Corrections[0].Position != corrPos) {
				t.Errorf("flagged correction %+v", res.Corrections[0])
			}
		})
	}
}
