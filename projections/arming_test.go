package projections

import (
	"context"
	"slices"
	"testing"

	"github.com/zhaoshang/zhaoshang/projections/synth"
)

// A replay arms the time-based alerts once per project at its end
// (setBulk); the views it leaves must be those of arming after every
// event, and a reader in the middle of a replay must find them armed.
func TestArmingDeferredEqualsArmingEachEvent(t *testing.T) {
	log, err := synth.Generate(synth.Config{Events: 20_000, Units: 12, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Location: synth.Zone}
	half := len(log.Events) / 2

	// Armed after each event: batches of one, outside a replay.
	eachEvent := func(evs int) *Views {
		v := NewViews(opts)
		d := newDecoder(nil, synth.Zone)
		dec, hashes := make([]decoded, 1), make([][32]byte, 1)
		for i := range evs {
			one := log.Events[i : i+1]
			if err := d.decode(one, dec); err != nil {
				t.Fatal(err)
			}
			if err := decodeHashes(one, hashes); err != nil {
				t.Fatal(err)
			}
			v.apply(dec, hashes)
			if v.sup.nDirty != 0 {
				t.Fatalf("event %d left %d projects to arm outside a replay", i, v.sup.nDirty)
			}
		}
		return v
	}

	whole, err := ReplaySlice(context.Background(), log.Events, opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The replay itself armed everything before handing the views over
	// (a reader would arm what is pending, and hide the omission).
	if whole.sup.nDirty != 0 {
		t.Fatalf("a replay left %d projects to arm", whole.sup.nDirty)
	}
	if got, want := whole.Digests(), eachEvent(len(log.Events)).Digests(); !slices.Equal(got, want) {
		t.Fatalf("a replay's views differ from views armed after each event:\n%v\n%v", got, want)
	}

	// A reader in the middle of a replay: half the log fed in bulk, not
	// yet settled.
	mid := NewViews(opts)
	mid.bulk = true
	d := newDecoder(nil, synth.Zone)
	dec, hashes := make([]decoded, half), make([][32]byte, half)
	if err := d.decode(log.Events[:half], dec); err != nil {
		t.Fatal(err)
	}
	if err := decodeHashes(log.Events[:half], hashes); err != nil {
		t.Fatal(err)
	}
	mid.apply(dec, hashes)
	if mid.sup.nDirty == 0 {
		t.Fatal("a bulk batch armed its projects at once; the test would not test the reader")
	}
	ref := eachEvent(half)
	first, last, ok := ref.BusinessSpan()
	if !ok {
		t.Fatal("no business days in the generated log")
	}
	for _, now := range []int{0, 1} {
		at := first.Start(synth.Zone)
		if now == 1 {
			at = last.Start(synth.Zone).AddDate(0, 6, 0)
		}
		got, err := mid.Alerts(AlertQuery{Now: at, Limit: MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Alerts(AlertQuery{Now: at, Limit: MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Items) == 0 && now == 1 {
			t.Fatal("no alert open half a year after the log: the comparison would be empty")
		}
		if !slices.EqualFunc(got.Items, want.Items, func(a, b Alert) bool {
			return a.Kind == b.Kind && a.ProjectID == b.ProjectID && a.Since.Equal(b.Since) && a.Detail == b.Detail
		}) {
			t.Fatalf("alerts at %s mid-replay: %d, armed after each event: %d", at, len(got.Items), len(want.Items))
		}
	}
	if mid.sup.nDirty != 0 {
		t.Fatalf("a reader left %d projects to arm", mid.sup.nDirty)
	}
}
