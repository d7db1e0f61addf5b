package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

func TestIfMatch(t *testing.T) {
	f := newFixture(t).setup()
	ctx, app := f.ctx, f.app
	id := f.signed(investorA) // version 2
	funds := func(ifMatch uint64) (commands.Result, error) {
		m := as(staffA)
		m.IfMatch = &ifMatch
		return app.RecordFunds.Handle(ctx, commands.RecordFunds{ProjectID: id, OccurredAt: t0,
			Amount: domain.Yuan(1_000_000), Source: domain.FundsDomestic, Meta: m})
	}
	r, err := funds(2)
	if err != nil || r.Version != 3 {
		t.Fatalf("If-Match at the current version: %+v, %v", r, err)
	}
	for _, stale := range []uint64{2, 4, 0} {
		head := f.head()
		_, err := funds(stale)
		var pf *commands.PreconditionFailedError
		if !errors.As(err, &pf) || pf.Expected != stale || pf.Actual != 3 || pf.Stream != domain.ProjectStream(id) {
			t.Fatalf("If-Match %d: err = %v", stale, err)
		}
		if errors.Is(err, eventstore.ErrVersionConflict) {
			t.Fatalf("a failed precondition must not read as a version conflict (412, not 409)")
		}
		if f.head() != head {
			t.Fatalf("If-Match %d: appended", stale)
		}
	}
	// On a command that creates its stream, only "0" can match.
	rep := report(staffA, unitA, investor(9), major)
	rep.Meta.IfMatch = ptr(uint64(1))
	if _, err := app.ReportProject.Handle(ctx, rep); !errors.Is(err, commands.ErrPreconditionFailed) {
		t.Fatalf("If-Match 1 on a new project: %v", err)
	}
	rep.Meta.IfMatch = ptr(uint64(0))
	f.must(app.ReportProject.Handle(ctx, rep))
}

// TestIfMatchLosesRace: with If-Match, losing the append race to another
// writer is the caller's failed precondition, never retried.
func TestIfMatchLosesRace(t *testing.T) {
	f := newFixture(t).setup()
	id := f.signed(investorA)
	// The other writer slips in between the load and the append.
	racing := &racingStore{Store: f.store, stream: domain.ProjectStream(id), other: func(ctx context.Context) {
		f.must(f.app.RecordFunds.Handle(ctx, commands.RecordFunds{ProjectID: id, OccurredAt: t0,
			Amount: domain.Yuan(5), Source: domain.FundsDomestic, Meta: as(centre)}))
	}}
	app := f.newApp(racing, 0)
	m := as(staffA)
	m.IfMatch = ptr(uint64(2))
	_, err := app.RecordFunds.Handle(f.ctx, commands.RecordFunds{ProjectID: id, OccurredAt: t0,
		Amount: domain.Yuan(7), Source: domain.FundsDomestic, Meta: m})
	var pf *commands.PreconditionFailedError
	if !errors.As(err, &pf) || pf.Expected != 2 || pf.Actual != 3 {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.stream(domain.ProjectStream(id))); n != 3 {
		t.Fatalf("stream has %d events, want 3 (the other writer's only)", n)
	}
	// Without If-Match the same race is retried and both land.
	racing.fired = false
	f.must(app.RecordFunds.Handle(f.ctx, commands.RecordFunds{ProjectID: id, OccurredAt: t0,
		Amount: domain.Yuan(7), Source: domain.FundsDomestic, Meta: as(staffA)}))
	if n := len(f.stream(domain.ProjectStream(id))); n != 5 {
		t.Fatalf("stream has %d events, want 5", n)
	}
}

// racingStore runs other once, just before the first append to stream, as a
// competing writer in another process would.
type racingStore struct {
	commands.Store
	stream string
	other  func(context.Context)
	fired  bool
}

func (s *racingStore) Append(ctx context.Context, stream string, ev eventstore.ExpectedVersion, evs []eventstore.NewEvent) (eventstore.AppendResult, error) {
	if stream == s.stream && !s.fired {
		s.fired = true
		s.other(ctx)
	}
	return s.Store.Append(ctx, stream, ev, evs)
}

func TestIdempotencyKey(t *testing.T) {
	f := newFixture(t).setup()
	ctx, app := f.ctx, f.app
	rep := report(staffA, unitA, investorA, major)
	rep.Meta.IdempotencyKey = "report-2024-06-14-001"

	first := f.must(app.ReportProject.Handle(ctx, rep))
	if first.Replayed {
		t.Fatalf("first answer marked replayed")
	}
	head := f.head()
	again := f.must(app.ReportProject.Handle(ctx, rep))
	if !again.Replayed || again.ID != first.ID || again.Version != first.Version || again.Position != first.Position ||
		!again.ExclusiveUntil.Equal(*first.ExclusiveUntil) || again.CommandID != first.CommandID {
		t.Fatalf("retry = %+v, first = %+v", again, first)
	}
	if f.head() != head {
		t.Fatalf("a retried command appended")
	}

	// The same key with another body, or for another command, is refused.
	other := rep
	other.Name = "另一个项目"
	if _, err := app.ReportProject.Handle(ctx, other); !errors.Is(err, commands.ErrIdempotencyMismatch) {
		t.Fatalf("other body: %v", err)
	}
	_, err := app.RecordNegotiation.Handle(ctx, commands.RecordNegotiation{ProjectID: first.ID, OccurredAt: t0,
		LeaderLevel: domain.LeaderDeputy, Summary: "洽谈", Meta: rep.Meta})
	var mm *commands.IdempotencyMismatchError
	if !errors.As(err, &mm) || mm.First != commands.OpReportProject || mm.Operation != commands.OpRecordNegotiation {
		t.Fatalf("other command: %v", err)
	}
	if f.head() != head {
		t.Fatalf("a mismatching command appended")
	}

	// Keys are scoped to the subject: another user's identical key is theirs.
	mine := rep
	mine.Meta.Actor = centre
	mine.Investor = investor(5)
	if r := f.must(app.ReportProject.Handle(ctx, mine)); r.ID == first.ID || r.Replayed {
		t.Fatalf("another subject's key answered from the first: %+v", r)
	}

	// Across a restart: a new process on the same file answers the same.
	f.reopen()
	head = f.head()
	after := f.must(f.app.ReportProject.Handle(ctx, rep))
	if !after.Replayed || after.ID != first.ID || after.Position != first.Position {
		t.Fatalf("after reopen = %+v, first = %+v", after, first)
	}
	if f.head() != head {
		t.Fatalf("a retry after reopen appended")
	}
}

// TestIdempotencyNoOpAnswer: an accepted command that had nothing to record
// still answers the same on retry.
func TestIdempotencyNoOpAnswer(t *testing.T) {
	f := newFixture(t).setup()
	m := as(admin)
	m.IdempotencyKey = "unit-nanhu"
	cmd := commands.RegisterUnit{Code: unitA, Name: "南湖区", Kind: domain.UnitCounty, Meta: m}
	r1 := f.must(f.app.RegisterUnit.Handle(f.ctx, cmd)) // identical to setup: nothing to record
	f.must(f.app.RegisterUnit.Handle(f.ctx, commands.RegisterUnit{Code: unitA, Name: "嘉兴南湖区", Kind: domain.UnitCounty, Meta: as(admin)}))
	r2 := f.must(f.app.RegisterUnit.Handle(f.ctx, cmd))
	if !r2.Replayed || r2.Version != r1.Version || r2.Appended != 0 {
		t.Fatalf("retry = %+v, first = %+v", r2, r1)
	}
}

// TestIdempotencyRejectedCommandRecordsNothing: a refusal is not stored, so
// the client may correct nothing and retry, or the state may change.
func TestIdempotencyRejectedCommandRecordsNothing(t *testing.T) {
	f := newFixture(t).setup()
	id := f.reported(investorA)
	m := as(staffA)
	m.IdempotencyKey = "funds-1"
	cmd := commands.RecordFunds{ProjectID: id, OccurredAt: t0, Amount: domain.Yuan(100), Source: domain.FundsDomestic, Meta: m}
	head := f.head()
	if _, err := f.app.RecordFunds.Handle(f.ctx, cmd); !errors.Is(err, domain.ErrInvalidTransition) {
		t.Fatalf("funds before signing: %v", err)
	}
	if f.head() != head {
		t.Fatalf("rejected keyed command appended")
	}
	f.must(f.app.SignContract.Handle(f.ctx, commands.SignContract{ProjectID: id, OccurredAt: t0,
		ContractInvestment: major, Agreement: domain.AgreementFormal, Meta: as(staffA)}))
	if r := f.must(f.app.RecordFunds.Handle(f.ctx, cmd)); r.Replayed || r.Appended != 1 {
		t.Fatalf("retry after signing = %+v", r)
	}
}

// failingStore fails every append to streams with the given prefix while
// armed, after (or instead of) writing, as a crash would.
type failingStore struct {
	commands.Store
	mu     sync.Mutex
	prefix string
	armed  bool
	write  bool // write the events, then fail (a crash after the commit)
}

var errCrash = errors.New("simulated crash")

func (s *failingStore) Append(ctx context.Context, stream string, ev eventstore.ExpectedVersion, evs []eventstore.NewEvent) (eventstore.AppendResult, error) {
	s.mu.Lock()
	armed := s.armed && strings.HasPrefix(stream, s.prefix)
	s.mu.Unlock()
	if !armed {
		return s.Store.Append(ctx, stream, ev, evs)
	}
	if s.write {
		if _, err := s.Store.Append(ctx, stream, ev, evs); err != nil {
			return eventstore.AppendResult{}, err
		}
	}
	return eventstore.AppendResult{}, errCrash
}

// TestIdempotencyCrashBetweenAppendAndRecord: the command's events are
// committed but its answer is never recorded (the process died). The retry,
// in a new process, finds its own events by their derived ids, appends no
// second copy, and answers as the first would have.
func TestIdempotencyCrashBetweenAppendAndRecord(t *testing.T) {
	f := newFixture(t).setup()
	id := f.signed(investorA)
	crashing := &failingStore{Store: f.store, prefix: commands.CategoryIdempotency + "-", armed: true}
	m := as(staffA)
	m.IdempotencyKey = "funds-2024-06-15"
	cmd := commands.RecordFunds{ProjectID: id, OccurredAt: t0, Amount: domain.Yuan(300), Source: domain.FundsForeign, Meta: m}
	if _, err := f.newApp(crashing, 0).RecordFunds.Handle(f.ctx, cmd); !errors.Is(err, errCrash) {
		t.Fatalf("first attempt: %v", err)
	}
	evs := f.stream(domain.ProjectStream(id))
	if len(evs) != 3 || evs[2].Type != domain.TypeFundsArrived {
		t.Fatalf("first attempt did not commit its event: %v", types(evs))
	}
	// Another command lands in between; the retry must still answer its own.
	f.must(f.app.RecordFunds.Handle(f.ctx, commands.RecordFunds{ProjectID: id, OccurredAt: t0,
		Amount: domain.Yuan(1), Source: domain.FundsDomestic, Meta: as(centre)}))

	f.reopen()
	r := f.must(f.app.RecordFunds.Handle(f.ctx, cmd))
	if r.Version != 3 || r.Position != evs[2].Position || r.Appended != 1 || r.CommandID != evs[2].CommandID {
		t.Fatalf("retry = %+v, want the first attempt's event %+v", r, evs[2])
	}
	if n := len(f.stream(domain.ProjectStream(id))); n != 4 {
		t.Fatalf("project stream has %d events, want 4", n)
	}
	// Now recorded: the next retry is answered from the record.
	head := f.head()
	if r2 := f.must(f.app.RecordFunds.Handle(f.ctx, cmd)); !r2.Replayed || r2.Version != 3 {
		t.Fatalf("second retry = %+v", r2)
	}
	if f.head() != head {
		t.Fatalf("second retry appended")
	}
}

// TestIdempotencyCrashBetweenClaimAndProject: a report died after its claim
// and before its project. The keyed retry completes it: one claim, one
// project, the window the claim granted.
func TestIdempotencyCrashBetweenClaimAndProject(t *testing.T) {
	f := newFixture(t).setup()
	crashing := &failingStore{Store: f.store, prefix: domain.CategoryProject + "-", armed: true}
	rep := report(staffA, unitA, investorA, major)
	rep.Meta.IdempotencyKey = "report-catl"
	if _, err := f.newApp(crashing, 0).ReportProject.Handle(f.ctx, rep); !errors.Is(err, errCrash) {
		t.Fatalf("first attempt: %v", err)
	}
	claimStream := domain.ExclusivityStream(domain.ExclusivityKeyOf(investorA, "新能源"))
	if got := types(f.stream(claimStream)); len(got) != 1 || got[0] != domain.TypeExclusivityClaimed {
		t.Fatalf("claim stream after crash = %v", got)
	}
	// Meanwhile another unit reports the same investor: the orphan claim
	// holds (the centre sees it); the competitor is rejected.
	if _, err := f.app.ReportProject.Handle(f.ctx, report(staffB, unitB, investorA, major)); !errors.Is(err, domain.ErrExclusivityConflict) {
		t.Fatalf("competitor: %v", err)
	}
	r := f.must(f.app.ReportProject.Handle(f.ctx, rep))
	if !r.Created || r.ExclusiveUntil == nil || !r.ExclusiveUntil.Equal(rep.OccurredAt.Add(30*24*time.Hour)) {
		t.Fatalf("retry = %+v", r)
	}
	got := types(f.stream(claimStream))
	if len(got) != 2 || got[0] != domain.TypeExclusivityClaimed || got[1] != domain.TypeReportRejected {
		t.Fatalf("claim stream = %v, want one claim and the competitor's rejection", got)
	}
	if evs := f.stream(domain.ProjectStream(r.ID)); len(evs) != 1 {
		t.Fatalf("project stream has %d events", len(evs))
	}
}

// TestIdempotencyRejectedReportKeptOnce: a keyed report rejected for
// exclusivity is kept on record once, however often it is retried.
func TestIdempotencyRejectedReportKeptOnce(t *testing.T) {
	f := newFixture(t).setup()
	f.reported(investorA)
	rep := report(staffB, unitB, investorA, major)
	rep.Meta.IdempotencyKey = "b-report"
	for range 3 {
		if _, err := f.app.ReportProject.Handle(f.ctx, rep); !errors.Is(err, domain.ErrExclusivityConflict) {
			t.Fatalf("err = %v", err)
		}
	}
	got := types(f.stream(domain.ExclusivityStream(domain.ExclusivityKeyOf(investorA, "新能源"))))
	if len(got) != 2 || got[1] != domain.TypeReportRejected {
		t.Fatalf("claim stream = %v", got)
	}
}

// TestIdempotencyConcurrentTwins: the same keyed request sent 16 times at
// once appends one event and every copy gets the same answer.
func TestIdempotencyConcurrentTwins(t *testing.T) {
	f := newFixture(t).setup()
	id := f.signed(investorA)
	m := as(staffA)
	m.IdempotencyKey = "twins"
	cmd := commands.RecordFunds{ProjectID: id, OccurredAt: t0, Amount: domain.Yuan(42), Source: domain.FundsDomestic, Meta: m}
	apps := []*commands.App{f.app, f.newApp(f.store, 0), f.newApp(f.store, 0), f.newApp(f.store, 0)}
	results := make([]commands.Result, 16)
	errs := make([]error, 16)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], errs[i] = apps[i%len(apps)].RecordFunds.Handle(f.ctx, cmd) })
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("twin %d: %v", i, errs[i])
		}
		if results[i].Version != 3 || results[i].Position != results[0].Position {
			t.Fatalf("twin %d answered %+v, twin 0 %+v", i, results[i], results[0])
		}
	}
	if n := len(f.stream(domain.ProjectStream(id))); n != 3 {
		t.Fatalf("project stream has %d events, want 3", n)
	}
}
