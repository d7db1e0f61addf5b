package commands_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// readHookStore runs after once, right after the first read of stream.
type readHookStore struct {
	commands.Store
	stream string
	once   sync.Once
	after  func()
}

func (s *readHookStore) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, max int) ([]eventstore.Event, error) {
	evs, err := s.Store.ReadStream(ctx, stream, from, dir, max)
	if stream == s.stream {
		s.once.Do(s.after)
	}
	return evs, err
}

// frozenBefore answers domain.DetailsCorrected.FlaggedYears' question from
// the log: did year's publication freeze a position before pos? A
// publication without a position froze the log before itself.
func (f *fixture) frozenBefore(pos eventstore.Position) func(year int) bool {
	return func(year int) bool {
		for _, e := range f.stream(domain.AssessmentStream(year)) {
			if e.Type != domain.TypeAssessmentPublished {
				continue
			}
			var p domain.AssessmentPublished
			if err := json.Unmarshal(e.Data, &p); err != nil {
				f.t.Fatal(err)
			}
			frozen := e.Position
			if p.Position != "" {
				var err error
				if frozen, err = eventstore.ParsePosition(p.Position); err != nil {
					f.t.Fatal(err)
				}
			}
			return frozen.Compare(pos) < 0
		}
		return false
	}
}

// TestCorrectionRacingPublication: the command decides a correction's flag
// by reading the assessment streams, which is not part of its append's
// condition, so a publication decided before the correction was recorded
// and appended after the command's read leaves the recorded flag unset.
// The flag is therefore decided by the log order (DOMAIN.md
// DetailsCorrected; domain.DetailsCorrected.FlaggedYears): the racing
// publication froze a position before the correction, so the correction is
// flagged; a publication decided after the correction includes it, and it
// is not.
func TestCorrectionRacingPublication(t *testing.T) {
	for _, race := range []bool{true, false} {
		t.Run(map[bool]string{true: "publication decided before the correction", false: "publication decided after"}[race], func(t *testing.T) {
			f := newFixture(t).setup()
			id := f.signed(investorA)
			f.clock.Set(time.Date(2025, 2, 1, 9, 0, 0, 0, shanghai))
			publish := func() {
				f.must(f.app.PublishAssessment.Handle(f.ctx, commands.PublishAssessment{Year: 2024, Meta: as(centre)}))
			}
			app := f.app
			if race {
				app = f.newApp(&readHookStore{Store: f.store, stream: domain.AssessmentStream(2024), after: publish}, 0)
			}
			r := f.must(app.CorrectDetails.Handle(f.ctx, commands.CorrectDetails{ProjectID: id,
				Field: domain.FieldContractInvestment, Value: json.RawMessage(`{"amount": 1800000000, "currency": "CNY"}`),
				Reason: "合同金额录入错误", Meta: as(staffA)}))
			if !race {
				publish()
			}
			if got := types(f.stream(domain.AssessmentStream(2024))); !slices.Equal(got, []string{domain.TypeAssessmentPublished}) {
				t.Fatalf("assessment stream = %v", got)
			}
			var dc domain.DetailsCorrected
			if err := json.Unmarshal(f.stream(r.Stream)[r.Version-1].Data, &dc); err != nil {
				t.Fatal(err)
			}
			if dc.Flagged || !slices.Equal(dc.AffectedYears, []int{2024}) {
				t.Fatalf("recorded correction = %+v: the command saw no publication", dc)
			}
			got := dc.FlaggedYears(f.frozenBefore(r.Position))
			if want := map[bool][]int{true: {2024}, false: nil}[race]; !slices.Equal(got, want) {
				t.Fatalf("flagged years = %v, want %v", got, want)
			}
		})
	}
}
