package commands_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// hookStore runs after once, right after the first successful append to
// stream: another writer slipping in between two appends of one command.
type hookStore struct {
	commands.Store
	stream string
	once   sync.Once
	after  func()
}

func (s *hookStore) Append(ctx context.Context, stream string, ev eventstore.ExpectedVersion, evs []eventstore.NewEvent) (eventstore.AppendResult, error) {
	r, err := s.Store.Append(ctx, stream, ev, evs)
	if err == nil && stream == s.stream {
		s.once.Do(s.after)
	}
	return r, err
}

// claimStreams returns the name and code claim streams of inv in 新能源.
func claimStreams(inv domain.Investor) (name, code string) {
	noCode := inv
	noCode.USCC = ""
	return domain.ExclusivityStream(domain.ExclusivityKeyOf(noCode, "新能源")),
		domain.ExclusivityStream(domain.ExclusivityKeyOf(inv, "新能源"))
}

// decodeAll decodes a stream's events.
func (f *fixture) decoded(stream string) []domain.Event {
	f.t.Helper()
	var out []domain.Event
	for _, e := range f.stream(stream) {
		d, err := domain.Decode(e.Type, e.Data)
		if err != nil {
			f.t.Fatalf("decode %s: %v", e.Type, err)
		}
		out = append(out, d)
	}
	return out
}

// TestExclusivityHalfMadeClaimIsVoided: unit B's report (code X, its name)
// claims its name key, and before it claims its code key unit A's report of
// the same code under another name claims that (another API node). B
// decides again, is rejected (same code: 首报首谈, Jiaxing 2024 二(一)3), and
// its rejection is recorded in the name stream it had claimed, voiding the
// half-made claim: a later report of that name without a code is not blocked
// by a project that never existed.
func TestExclusivityHalfMadeClaimIsVoided(t *testing.T) {
	f := newFixture(t).setup()
	code := usccOf("91330411MA2CXXXX1")
	invB := domain.Investor{Name: "嘉兴华宇新材料有限公司", USCC: code}
	invA := domain.Investor{Name: "华宇新材料（嘉兴）股份公司", USCC: code}
	nameB, codeStream := claimStreams(invB)
	nameA, _ := claimStreams(invA)

	var holder commands.Result
	hooked := &hookStore{Store: f.store, stream: nameB, after: func() {
		holder = f.must(f.app.ReportProject.Handle(f.ctx, report(staffA, unitA, invA, major)))
	}}
	_, err := f.newApp(hooked, 0).ReportProject.Handle(f.ctx, report(staffB, unitB, invB, major))
	var conflict *domain.ExclusivityConflictError
	if !errors.As(err, &conflict) || conflict.HolderUnit != unitA || conflict.HolderProject != holder.ID {
		t.Fatalf("B's report: %v (holder %+v)", err, holder)
	}
	if got := types(f.stream(nameB)); !slices.Equal(got, []string{domain.TypeExclusivityClaimed, domain.TypeReportRejected}) {
		t.Fatalf("B's name stream = %v, want its half-made claim and its rejection", got)
	}
	if got := types(f.stream(codeStream)); !slices.Equal(got, []string{domain.TypeExclusivityClaimed, domain.TypeReportRejected}) {
		t.Fatalf("code stream = %v, want A's claim and B's rejection", got)
	}
	if got := types(f.stream(nameA)); !slices.Equal(got, []string{domain.TypeExclusivityClaimed}) {
		t.Fatalf("A's name stream = %v", got)
	}
	var claims domain.ExclusivityClaims
	for _, d := range f.decoded(nameB) {
		claims.Apply(d)
	}
	if half := claims.Claims()[0]; half.Unit != unitB || !claims.Void(half) {
		t.Fatalf("half-made claim %+v is not void", half)
	}
	// No project of B exists; the park reports B's name without a code and
	// gets the rights (A's claim is under another name, with a code).
	noCode := invB
	noCode.USCC = ""
	r := f.must(f.app.ReportProject.Handle(f.ctx, report(centre, unitPark, noCode, major)))
	if r.ExclusiveUntil == nil {
		t.Fatalf("report after the void got no claim: %+v", r)
	}
}

// TestExclusivityCrashBetweenClaims: a report with a code died after its
// name claim and before its code claim. A keyed retry completes both claims
// and the project; without a key the half-made claim holds its window (the
// centre sees a claim whose project does not exist) and a competitor is
// rejected against it.
func TestExclusivityCrashBetweenClaims(t *testing.T) {
	nameStream, codeStream := claimStreams(investorA)
	for _, keyed := range []bool{true, false} {
		t.Run(map[bool]string{true: "keyed retry completes", false: "unkeyed claim holds"}[keyed], func(t *testing.T) {
			f := newFixture(t).setup()
			crashing := &failingStore{Store: f.store, prefix: codeStream, armed: true}
			rep := report(staffA, unitA, investorA, major)
			if keyed {
				rep.Meta.IdempotencyKey = "report-catl"
			}
			if _, err := f.newApp(crashing, 0).ReportProject.Handle(f.ctx, rep); !errors.Is(err, errCrash) {
				t.Fatalf("first attempt: %v", err)
			}
			if got := types(f.stream(nameStream)); !slices.Equal(got, []string{domain.TypeExclusivityClaimed}) {
				t.Fatalf("name stream after the crash = %v", got)
			}
			if got := f.stream(codeStream); len(got) != 0 {
				t.Fatalf("code stream after the crash = %v", types(got))
			}
			half := domain.Unwrap(f.decoded(nameStream)[0]).(domain.ExclusivityClaimed)
			if !keyed {
				noCode := investorA
				noCode.USCC = ""
				_, err := f.app.ReportProject.Handle(f.ctx, report(staffB, unitB, noCode, major))
				var c *domain.ExclusivityConflictError
				if !errors.As(err, &c) || c.HolderProject != half.ProjectID || c.HolderUnit != unitA {
					t.Fatalf("competitor against the orphan claim: %v", err)
				}
				if evs := f.stream(domain.ProjectStream(half.ProjectID)); len(evs) != 0 {
					t.Fatalf("the orphan claim's project exists")
				}
				return
			}
			r := f.must(f.app.ReportProject.Handle(f.ctx, rep))
			if !r.Created || r.ID != half.ProjectID || r.ExclusiveUntil == nil || !r.ExclusiveUntil.Equal(half.Until) {
				t.Fatalf("retry = %+v, half-made claim %+v", r, half)
			}
			for _, s := range []string{nameStream, codeStream} {
				evs := f.decoded(s)
				if len(evs) != 1 {
					t.Fatalf("%d events in a claim stream", len(evs))
				}
				if cl := domain.Unwrap(evs[0]).(domain.ExclusivityClaimed); cl.ProjectID != r.ID || !cl.Until.Equal(half.Until) {
					t.Fatalf("claim = %+v", cl)
				}
			}
			if evs := f.stream(domain.ProjectStream(r.ID)); len(evs) != 1 {
				t.Fatalf("project stream has %d events", len(evs))
			}
		})
	}
}

// TestExclusivityKeyedRejectionReplayed: a keyed report that was rejected
// answers its recorded rejection to every retry with the key, even after the
// holder's window ended: the first answer, and never a claim whose ids the
// recorded rejection has voided.
func TestExclusivityKeyedRejectionReplayed(t *testing.T) {
	f := newFixture(t).setup()
	holder := f.must(f.app.ReportProject.Handle(f.ctx, report(staffA, unitA, investorA, major)))
	rep := report(staffB, unitB, investorA, major)
	rep.Meta.IdempotencyKey = "b-report"
	if _, err := f.app.ReportProject.Handle(f.ctx, rep); !errors.Is(err, domain.ErrExclusivityConflict) {
		t.Fatalf("first: %v", err)
	}
	head := f.head()
	f.clock.Set(holder.ExclusiveUntil.Add(time.Hour))
	_, err := f.app.ReportProject.Handle(f.ctx, rep)
	var c *domain.ExclusivityConflictError
	if !errors.As(err, &c) || c.HolderProject != holder.ID || !c.Until.Equal(*holder.ExclusiveUntil) {
		t.Fatalf("retry after the window: %v", err)
	}
	if f.head() != head {
		t.Fatal("the replayed rejection appended")
	}
	// A new key is a new report, judged now.
	rep.Meta.IdempotencyKey = "b-report-2"
	rep.OccurredAt = f.clock.Now()
	if r := f.must(f.app.ReportProject.Handle(f.ctx, rep)); r.ExclusiveUntil == nil {
		t.Fatalf("new report after the window: %+v", r)
	}
}
