package synth

import (
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// The generated log is a valid ledger: positions increase, every stream's
// versions are contiguous and its hash chain verifies, recorded_at never
// goes backwards, every registered event kind occurs, and the same config
// gives the same bytes.
func TestGenerateIsAValidDeterministicLedger(t *testing.T) {
	t0 := time.Now()
	log, err := Generate(Config{Events: 40_000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events, %d projects in %s", len(log.Events), log.Projects, time.Since(t0))
	if len(log.Events) != 40_000 {
		t.Errorf("%d events, want 40000", len(log.Events))
	}
	if per := float64(len(log.Events)) / float64(log.Projects); per < 16 || per > 24 {
		t.Errorf("%.1f events per project, want about 20", per)
	}
	for _, et := range domain.EventTypes() {
		if log.Counts[et.Name] == 0 {
			t.Errorf("no %s generated", et.Name)
		}
	}
	versions := map[string]uint64{}
	prev := map[string]string{}
	var last eventstore.Event
	for i, e := range log.Events {
		if i > 0 && (e.Position.Compare(last.Position) <= 0 || e.RecordedAt.Before(last.RecordedAt)) {
			t.Fatalf("event %d out of order", i)
		}
		if e.Version != versions[e.Stream]+1 || e.PrevHash != prev[e.Stream] || eventstore.ComputeHash(&e) != e.Hash {
			t.Fatalf("event %d (%s v%d) breaks its stream's chain", i, e.Stream, e.Version)
		}
		if _, err := domain.Decode(e.Type, e.Data); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		versions[e.Stream], prev[e.Stream], last = e.Version, e.Hash, e
	}
	again, err := Generate(Config{Events: 40_000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	for i := range log.Events {
		if again.Events[i].Hash != log.Events[i].Hash {
			t.Fatalf("event %d differs between two runs", i)
		}
	}
}
