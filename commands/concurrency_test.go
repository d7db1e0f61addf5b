package commands_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

const racers = 64

// conflictCounter counts the version conflicts the store answers.
type conflictCounter struct {
	commands.Store
	n atomic.Int64
}

func (s *conflictCounter) Append(ctx context.Context, stream string, ev eventstore.ExpectedVersion, evs []eventstore.NewEvent) (eventstore.AppendResult, error) {
	r, err := s.Store.Append(ctx, stream, ev, evs)
	if errors.Is(err, eventstore.ErrVersionConflict) {
		s.n.Add(1)
	}
	return r, err
}

// registerRacers registers racers county units r00 … r63.
func registerRacers(f *fixture) []domain.UnitCode {
	units := make([]domain.UnitCode, racers)
	for i := range units {
		units[i] = domain.UnitCode(fmt.Sprintf("r%02d", i))
		f.must(f.app.RegisterUnit.Handle(f.ctx, commands.RegisterUnit{Code: units[i], Name: fmt.Sprintf("县区%02d", i),
			Kind: domain.UnitCounty, Meta: as(admin)}))
	}
	return units
}

// TestExclusivityUnderConcurrency: 64 units report the same investor and
// chain at the same moment (首报首谈, Jiaxing 2024 二(一)3), half of them with
// its unified social credit code and half without (DOMAIN.md: same uscc, or
// same normalised name when no code). Exactly one holds the exclusivity;
// every other report is rejected naming it, and kept on record.
// "separate processes" gives each goroutine its own App, so nothing in
// memory is shared and only the store's expected version decides; "one
// process" shares one App.
func TestExclusivityUnderConcurrency(t *testing.T) {
	noCode := investorA
	noCode.USCC = ""
	nameStream := domain.ExclusivityStream(domain.ExclusivityKeyOf(noCode, "新能源"))
	usccStream := domain.ExclusivityStream(domain.ExclusivityKeyOf(investorA, "新能源"))
	for _, mode := range []string{"separate processes", "one process"} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t).setup()
			units := registerRacers(f)
			counting := &conflictCounter{Store: f.store}
			apps := make([]*commands.App, racers)
			for i := range apps {
				apps[i] = f.app
				if mode == "separate processes" {
					// Half of them without the stream cache: both load paths race.
					if i%2 == 0 {
						apps[i] = f.newApp(counting, 0)
					} else {
						apps[i] = f.newApp(counting, 0, noCache)
					}
				}
			}
			// With and without the code alternate, crossing the cache
			// alternation, so every combination races.
			investorOf := func(i int) domain.Investor {
				if i/2%2 == 0 {
					return investorA
				}
				return noCode
			}
			results := make([]commands.Result, racers)
			errs := make([]error, racers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() {
					a := eventstore.Actor{Subject: "staff-" + string(units[i]), Role: string(domain.RoleUnitStaff), Unit: string(units[i])}
					<-start
					results[i], errs[i] = apps[i].ReportProject.Handle(f.ctx, report(a, units[i], investorOf(i), major))
				})
			}
			close(start)
			wg.Wait()

			winner := -1
			for i, err := range errs {
				if err == nil {
					if winner >= 0 {
						t.Fatalf("two holders: %s and %s", units[winner], units[i])
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("no holder; first error: %v", errs[0])
			}
			w := results[winner]
			if w.ExclusiveUntil == nil {
				t.Fatalf("the holder has no window: %+v", w)
			}
			for i, err := range errs {
				if i == winner {
					continue
				}
				var c *domain.ExclusivityConflictError
				if !errors.As(err, &c) || c.HolderUnit != units[winner] || c.HolderProject != w.ID || !c.Until.Equal(*w.ExclusiveUntil) {
					t.Fatalf("report of %s: err = %v, want a conflict naming %s", units[i], err, units[winner])
				}
			}
			// The winner's claim is under its name key, and under its code
			// key when it gave one; every loser's attempt is on record in one
			// of the two streams, and no other claim was made.
			count := func(stream string) (claimed, rejected int) {
				for _, e := range f.stream(stream) {
					switch e.Type {
					case domain.TypeExclusivityClaimed:
						claimed++
					case domain.TypeReportRejected:
						rejected++
					}
				}
				return claimed, rejected
			}
			nameClaims, nameRejections := count(nameStream)
			usccClaims, usccRejections := count(usccStream)
			wantUSCC := 0
			if investorOf(winner).USCC != "" {
				wantUSCC = 1
			}
			if nameClaims != 1 || usccClaims != wantUSCC || nameRejections+usccRejections != racers-1 {
				t.Fatalf("claims: %d by name, %d by code (want 1, %d); rejections: %d + %d (want %d)",
					nameClaims, usccClaims, wantUSCC, nameRejections, usccRejections, racers-1)
			}
			all, err := f.store.ReadAll(f.ctx, eventstore.Start, 0)
			if err != nil {
				t.Fatal(err)
			}
			projects := 0
			for _, e := range all {
				if e.Type == domain.TypeProjectReported {
					projects++
				}
			}
			if projects != 1 {
				t.Fatalf("%d projects reported, want 1", projects)
			}
			t.Logf("winner with code: %v; %d appends lost a race and were decided again",
				wantUSCC == 1, counting.n.Load())
		})
	}
}

// TestNoLostUpdate: 64 goroutines record funds on one project at once; every
// arrival is recorded once and the total is their sum. "one process" relies
// on the stream lock; "separate processes" (8 Apps) on the store's expected
// version and retries.
func TestNoLostUpdate(t *testing.T) {
	for _, mode := range []string{"one process", "separate processes"} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t).setup()
			id := f.signed(investorA)
			counting := &conflictCounter{Store: f.store}
			apps := []*commands.App{f.app}
			if mode == "separate processes" {
				apps = nil
				for i := range 8 {
					// Each App competes with seven others; the bound lets every
					// one of 64 writers through even if it loses most rounds.
					if i%2 == 0 {
						apps = append(apps, f.newApp(counting, racers))
					} else {
						apps = append(apps, f.newApp(counting, racers, noCache))
					}
				}
			}
			errs := make([]error, racers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range racers {
				wg.Go(func() {
					<-start
					_, errs[i] = apps[i%len(apps)].RecordFunds.Handle(f.ctx, commands.RecordFunds{ProjectID: id, OccurredAt: t0,
						Amount: domain.Yuan(int64(i + 1)), Source: domain.FundsDomestic, Meta: as(staffA)})
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("writer %d: %v", i, err)
				}
			}
			evs := f.stream(domain.ProjectStream(id))
			var p domain.Project
			for _, e := range evs {
				d, err := domain.Decode(e.Type, e.Data)
				if err != nil {
					t.Fatal(err)
				}
				p.Apply(d)
			}
			s := p.Snapshot()
			var total int64
			for _, fa := range s.Funds {
				total += fa.Amount.Amount
			}
			if len(s.Funds) != racers || total != racers*(racers+1)/2 {
				t.Fatalf("%d arrivals totalling %d, want %d totalling %d", len(s.Funds), total, racers, racers*(racers+1)/2)
			}
			t.Logf("%d appends lost a race and were decided again", counting.n.Load())
		})
	}
}
