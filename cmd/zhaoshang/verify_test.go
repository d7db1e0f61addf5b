package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
)

var (
	verifyLog  = regexp.MustCompile(`(?m)^log: (OK|FAILED) — (\d+) events in (\d+) streams, (\d+) seals checked, through position (\S+)$`)
	verifyView = regexp.MustCompile(`(?m)^view (\S+) +(OK|DIFFERS) +events \d+ `)
	sealLine   = regexp.MustCompile(`^sealed (\d+) events through position (\S+): digest ([0-9a-f]{64}) \(seal at position (\S+)\)\n$`)
)

// TestVerify: a clean store verifies: every event of the log, and every
// view equal to a fresh replay.
func TestVerify(t *testing.T) {
	data := demoData(t)
	r := mustZS(t, "verify", "--data", data)
	m := verifyLog.FindStringSubmatch(r.out)
	if m == nil || m[1] != "OK" {
		t.Fatalf("verify: %s", r)
	}
	if n, _ := strconv.Atoi(m[2]); n != countEvents(t, data) {
		t.Errorf("checked %s events, the log holds %d", m[2], countEvents(t, data))
	}
	if m[5] != head(t, data).String() {
		t.Errorf("verified through %s, the head is %s", m[5], head(t, data))
	}
	views := verifyView.FindAllStringSubmatch(r.out, -1)
	if len(views) < 5 {
		t.Errorf("%d views reconciled:\n%s", len(views), r.out)
	}
	for _, v := range views {
		if v[2] != "OK" {
			t.Errorf("view %s differs from a fresh replay:\n%s", v[1], r.out)
		}
	}
}

// TestSealThenVerify: a seal covers the log as it stood, and verify (its
// JSON report) checks the seal afterwards.
func TestSealThenVerify(t *testing.T) {
	data := demoData(t)
	before := head(t, data)
	s := openStore(t, data)
	log, err := eventstore.Verify(t.Context(), s)
	s.Close()
	if err != nil || !log.OK {
		t.Fatalf("the log before the seal: %+v %v", log, err)
	}

	r := mustZS(t, "seal", "--data", data)
	m := sealLine.FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("seal: %s", r)
	}
	if m[1] != strconv.FormatUint(log.EventsChecked, 10) || m[2] != before.String() || m[3] != log.Digest {
		t.Errorf("the seal covers %s events through %s with digest %s; the log held %d through %s with digest %s",
			m[1], m[2], m[3], log.EventsChecked, before, log.Digest)
	}
	after := head(t, data)
	if m[4] != after.String() || after.Compare(before) <= 0 {
		t.Errorf("the seal is at %s, the head moved from %s to %s", m[4], before, after)
	}

	r = mustZS(t, "verify", "--data", data, "--json")
	var rep struct {
		Log   eventstore.Report          `json:"log"`
		Views projections.Reconciliation `json:"views"`
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.out)
	}
	if !rep.Log.OK || rep.Log.SealsChecked < 1 || rep.Log.FirstBad != nil || rep.Log.Through != after || !rep.Views.OK {
		t.Errorf("verify after the seal: %+v", rep)
	}
}

// TestVerifyTampered: one digit changed in one event's data, straight in
// the bbolt file, makes verify exit 3 and name that event.
func TestVerifyTampered(t *testing.T) {
	data := demoData(t)
	seq := tamper(t, storePath(data))

	s := openStore(t, data)
	evs, err := s.ReadAll(t.Context(), eventstore.Position{Commit: seq - 1, Prepare: seq - 1}, 1)
	s.Close()
	if err != nil || len(evs) != 1 {
		t.Fatalf("reading the tampered event: %v", err)
	}
	ev := evs[0]

	r := zs(t, "verify", "--data", data)
	if r.code != 3 {
		t.Fatalf("verify of a tampered log: %s", r)
	}
	if m := verifyLog.FindStringSubmatch(r.out); m == nil || m[1] != "FAILED" {
		t.Errorf("verify does not say the log failed:\n%s", r.out)
	}
	want := fmt.Sprintf("first bad event: position %s, stream %s, version %d, event %s: ", ev.Position, ev.Stream, ev.Version, ev.ID)
	if !strings.Contains(r.out, want) {
		t.Errorf("verify does not name the tampered event (%s):\n%s", want, r.out)
	}
	if !strings.Contains(r.errOut, "the log failed verification") || !strings.Contains(r.errOut, ev.ID.String()) {
		t.Errorf("stderr: %s", r.errOut)
	}
}

// TestVerifyUndecodable: a changed byte that leaves an event's data
// unreadable still gets the log's report and exit 3 naming the event (the
// views cannot be built from it, which verify says too).
func TestVerifyUndecodable(t *testing.T) {
	data := demoData(t)
	seq := tamperData(t, storePath(data), true)
	s := openStore(t, data)
	evs, err := s.ReadAll(t.Context(), eventstore.Position{Commit: seq - 1, Prepare: seq - 1}, 1)
	s.Close()
	if err != nil || len(evs) != 1 {
		t.Fatalf("reading the tampered event: %v", err)
	}
	r := zs(t, "verify", "--data", data)
	if r.code != 3 {
		t.Fatalf("verify of an undecodable event: %s", r)
	}
	if m := verifyLog.FindStringSubmatch(r.out); m == nil || m[1] != "FAILED" || !strings.Contains(r.out, evs[0].ID.String()) ||
		!strings.Contains(r.out, "views: not checked") {
		t.Errorf("verify does not report the log and name the event:\n%s", r.out)
	}
	j := zs(t, "verify", "--data", data, "--json")
	var rep struct {
		Log struct {
			OK bool `json:"ok"`
		} `json:"log"`
		ViewsError string `json:"views_error"`
	}
	if j.code != 3 || json.Unmarshal([]byte(j.out), &rep) != nil || rep.Log.OK || !strings.Contains(rep.ViewsError, "does not decode") {
		t.Errorf("verify --json: %s", j)
	}
}

// tamper changes the first digit of the first "amount" in the data of an
// event in the middle of the bbolt file at path (the store closed), as
// someone with the file and a hex editor could, keeping the JSON valid.
// It returns the event's sequence number.
//
// The layout is eventstore/bolt's: the log bucket maps the 8-byte
// big-endian sequence number to the record, whose JSON data runs from the
// first '{' that begins valid JSON to the end (codec.go).
func tamper(t *testing.T, path string) uint64 { return tamperData(t, path, false) }

// tamperData is tamper; with breakJSON the digit becomes a letter, so the
// event's data no longer decodes at all.
func tamperData(t *testing.T, path string, breakJSON bool) uint64 {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var seq uint64
	err = db.Update(func(tx *bbolt.Tx) error {
		log := tx.Bucket([]byte("log"))
		if log == nil {
			return errors.New("no log bucket")
		}
		c := log.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			n := binary.BigEndian.Uint64(k)
			if n < 1000 { // past the units, the policy and the targets
				continue
			}
			start := dataStart(v)
			if start < 0 {
				continue
			}
			i := bytes.Index(v[start:], []byte(`"amount":`))
			if i < 0 {
				continue
			}
			d := start + i + len(`"amount":`)
			if v[d] < '1' || v[d] > '8' {
				continue
			}
			rec := bytes.Clone(v) // v is bbolt's memory map, read-only
			rec[d]++
			if breakJSON {
				rec[d] = 'x'
			}
			if json.Valid(rec[start:]) == breakJSON || uuid.UUID(rec[1:17]) != uuid.UUID(v[1:17]) {
				return errors.New("the edit broke the record")
			}
			seq = n
			return log.Put(bytes.Clone(k), rec)
		}
		return errors.New("no event with an amount")
	})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// dataStart is the offset of a record's JSON data, or -1.
func dataStart(rec []byte) int {
	for i := 17; i < len(rec); i++ {
		if rec[i] == '{' && json.Valid(rec[i:]) {
			return i
		}
	}
	return -1
}
