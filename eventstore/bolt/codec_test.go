package bolt

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

func stamped(stream, typ, data string, prev string, occurred time.Time, actor eventstore.Actor, ids [3]string) eventstore.Event {
	ne := eventstore.NewEvent{ID: uuid.New(), Type: typ, Data: json.RawMessage(data), OccurredAt: occurred, Actor: actor,
		CommandID: ids[0], CorrelationID: ids[1], CausationID: ids[2]}
	return eventstore.Stamp(&ne, stream, 7, prev, time.Date(2025, 5, 6, 7, 8, 9, 123456000, time.UTC))
}

func sameDecoded(t *testing.T, got, want *eventstore.Event) {
	t.Helper()
	if got.ID != want.ID || got.Stream != want.Stream || got.Version != want.Version || got.Type != want.Type ||
		string(got.Data) != string(want.Data) || !got.OccurredAt.Equal(want.OccurredAt) || !got.RecordedAt.Equal(want.RecordedAt) ||
		got.Actor != want.Actor || got.CommandID != want.CommandID || got.CorrelationID != want.CorrelationID ||
		got.CausationID != want.CausationID || got.PrevHash != want.PrevHash || got.Hash != want.Hash {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, want)
	}
	if got.OccurredAt.Location() != time.UTC || got.RecordedAt.Location() != time.UTC {
		t.Fatal("decoded times are not UTC")
	}
}

func TestCodecRoundTrip(t *testing.T) {
	prev := strings.Repeat("ab", 32)
	events := []eventstore.Event{
		stamped("s", "T", `{}`, "", time.Unix(0, 0), eventstore.Actor{}, [3]string{}),
		stamped("项目-嘉兴经济技术开发区", "ProjectReported", `{"名称":"首报首谈 🏭，。"}`, prev,
			time.Date(2024, 1, 2, 3, 4, 5, 999999999, time.FixedZone("CST", 8*3600)),
			eventstore.Actor{Subject: "张三", Role: "招商专员", Unit: "嘉兴"}, [3]string{"c", "r", "x"}),
		stamped("old", "T", `[1,2,3]`, prev, time.Date(1949, 10, 1, 15, 0, 0, 1000, time.UTC), eventstore.Actor{Subject: "s"}, [3]string{"", "corr", ""}),
		stamped(strings.Repeat("n", 200), strings.Repeat("t", 300), `"`+strings.Repeat("d", 1<<16)+`"`, prev, time.Now(), eventstore.Actor{Unit: strings.Repeat("u", 200)}, [3]string{strings.Repeat("c", 129), "", ""}),
	}
	var (
		seqs []uint64
		recs [][]byte
	)
	for i := range events {
		rec, err := appendRecord(nil, &events[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(rec) > encodedSize(&events[i]) {
			t.Fatalf("record of %d bytes exceeds encodedSize %d", len(rec), encodedSize(&events[i]))
		}
		seqs = append(seqs, uint64(i+1))
		recs = append(recs, rec)
	}
	got, err := decodeRecords(seqs, recs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		sameDecoded(t, &got[i], &events[i])
		if got[i].Position != (eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}) {
			t.Fatalf("position %s", got[i].Position)
		}
		if got[i].Hash != eventstore.ComputeHash(&got[i]) {
			t.Fatalf("event %d: hash does not recompute after decoding", i)
		}
	}
	// Appending to one event's data must not spill into the next's.
	_ = append(got[0].Data, "garbage"...)
	if string(got[1].Data) != string(events[1].Data) {
		t.Fatal("appending to one event's data overwrote the next event's")
	}
	// Records stay decodable after the buffer they came from is reused.
	for _, rec := range recs {
		clear(rec)
	}
	if string(got[1].Data) != string(events[1].Data) || got[1].Stream != events[1].Stream {
		t.Fatal("decoded events alias the records")
	}
}

func TestCodecRefusesBadHashes(t *testing.T) {
	e := stamped("s", "T", `{}`, "", time.Now(), eventstore.Actor{}, [3]string{})
	e.Hash = "xyz"
	if _, err := appendRecord(nil, &e); err == nil {
		t.Fatal("a record with a malformed hash was encoded")
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to the decoder: it must refuse or
// decode, never panic or read out of bounds; and whatever a valid event
// encodes to must decode back to it.
func FuzzDecodeRecord(f *testing.F) {
	for _, e := range []eventstore.Event{
		stamped("s", "T", `{}`, "", time.Unix(0, 0), eventstore.Actor{}, [3]string{}),
		stamped("项目", "T", `{"a":"嘉兴"}`, strings.Repeat("0f", 32), time.Now(), eventstore.Actor{Subject: "张三"}, [3]string{"c", "", "x"}),
	} {
		rec, err := appendRecord(nil, &e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(rec, "stream", "type", "subject", "data", int64(0))
	}
	f.Fuzz(func(t *testing.T, raw []byte, stream, typ, subject, data string, micros int64) {
		if evs, err := decodeRecords([]uint64{1}, [][]byte{raw}); err == nil && len(evs) != 1 {
			t.Fatalf("decoded %d events from one record", len(evs))
		}
		e := eventstore.Event{
			ID: uuid.New(), Stream: stream, Version: uint64(micros) >> 1, Type: typ, Data: []byte(data),
			OccurredAt: time.UnixMicro(micros).UTC(), RecordedAt: time.UnixMicro(micros / 3).UTC(),
			Actor: eventstore.Actor{Subject: subject, Role: typ, Unit: stream}, CommandID: data,
			Hash: strings.Repeat("ab", 32),
		}
		if micros%2 == 0 {
			e.PrevHash = strings.Repeat("cd", 32)
		}
		rec, err := appendRecord(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecords([]uint64{9}, [][]byte{rec})
		if err != nil {
			t.Fatalf("a valid record does not decode: %v", err)
		}
		got[0].Position = e.Position
		sameDecoded(t, &got[0], &e)
	})
}
