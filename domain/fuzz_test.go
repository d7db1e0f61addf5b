package domain

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// commandPool returns the commands a fuzz program picks from, parameterised by a
// byte so dates and amounts vary.
func commandPool(b byte, step int) []ProjectCommand {
	when := t0.Add(time.Duration(step)*time.Hour + time.Duration(b)*time.Minute)
	amt := int64(b)*50_000_000 + 1
	return []ProjectCommand{
		RecordNegotiation{OccurredAt: when, LeaderLevel: LeaderLevels()[int(b)%3], Summary: "洽谈"},
		RecordDueProcess{Kind: DueProcessKinds()[int(b)%3], OccurredAt: when, Summary: "程序"},
		FileSigning{PlannedDate: DateOf(when, nil).AddDays(int(b % 20)), ContractInvestment: Yuan(amt)},
		SignContract{OccurredAt: when, ContractInvestment: Money{Amount: amt, Currency: []Currency{CNY, USD}[b%2]},
			Agreement: AgreementKinds()[int(b)%2], Commitments: &Commitments{RegisterBy: ptr(DateOf(when, nil).AddDays(int(b)))}},
		AmendContract{OccurredAt: when, ContractInvestment: Money{Amount: amt + 7, Currency: []Currency{CNY, USD}[b%2]}, Reason: "增资"},
		TransferProject{ToUnit: []UnitCode{"nanhu", "haiyan", "xiuzhou"}[int(b)%3], Reason: "流转", OccurredAt: when},
		RegisterCompany{OccurredAt: when, CompanyUSCC: usccA},
		StartConstruction{OccurredAt: when},
		RecordFunds{OccurredAt: when, Amount: Yuan(amt), Source: FundSources()[int(b)%3]},
		StartProduction{OccurredAt: when},
		TerminateProject{OccurredAt: when, Kind: TerminationKinds()[int(b)%4], Cause: TerminationCauses()[int(b)%6], Explanation: "x"},
		CorrectDetails{Field: CorrectionFields()[int(b)%len(CorrectionFields())], Value: json.RawMessage(`"修正` + strconv.Itoa(int(b)) + `"`), Reason: "更正"},
		CorrectDetails{Field: FieldContractInvestment, Value: json.RawMessage(`{"amount":` + strconv.FormatInt(amt+3, 10) + `,"currency":"CNY"}`), Reason: "更正"},
		CorrectDetails{Field: FundsAmountField(int(b) % 3), Value: json.RawMessage(`{"amount":5,"currency":"CNY"}`), Reason: "更正"},
		CorrectDetails{Field: FieldSignedAt, Value: json.RawMessage(`"` + when.Add(-time.Hour).Format(time.RFC3339) + `"`), Reason: "更正"},
	}
}

// program turns fuzz bytes into a sequence of valid events: each pair of bytes
// picks a command and a parameter; rejected commands are skipped, accepted ones
// applied, as the commands layer would.
func program(data []byte) []Event {
	d, err := DecideReport(reportCmd(pid1, "nanhu", Yuan(2_000_000_000), t0.Add(-day(1))), nil, DefaultPolicy(), now)
	if err != nil {
		panic(err)
	}
	p := NewProject()
	events := d.Events()
	p.Apply(events[0])
	for i := 0; i+1 < len(data) && i < 400; i += 2 {
		pool := commandPool(data[i+1], i)
		cmd := pool[int(data[i])%len(pool)]
		evs, err := p.Decide(cmd, DefaultPolicy(), now.Add(day(60)))
		if err != nil {
			continue
		}
		for _, e := range evs {
			p.Apply(e)
			events = append(events, e)
		}
	}
	return events
}

// FuzzProjectFold: folding any sequence of valid events never panics and is
// deterministic (fold twice, compare), and the read-side functions run on any
// folded state.
func FuzzProjectFold(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 3, 2, 6, 3, 7, 4, 8, 5, 4, 6, 9, 7, 10, 8})
	f.Add([]byte{5, 1, 3, 9, 11, 2, 12, 3, 13, 1, 14, 2, 10, 0, 11, 5})
	f.Add([]byte{3, 0, 8, 1, 8, 2, 13, 1, 4, 4, 14, 9, 12, 3})
	f.Fuzz(checkFold)
}

func checkFold(t *testing.T, data []byte) {
	y2024 := YearPeriod(2024, shanghai)
	{
		events := program(data)
		a, b := FoldProject(events), FoldProject(events)
		if !reflect.DeepEqual(a.Snapshot(), b.Snapshot()) {
			t.Fatal("fold is not deterministic")
		}
		// A summary fold is the full fold without the two lists it skips.
		sum := NewProjectSummary()
		for _, e := range events {
			sum.Apply(e)
		}
		want := a.Snapshot()
		if want.NegotiationCount != len(want.Negotiations) {
			t.Fatalf("negotiation count %d, %d negotiations", want.NegotiationCount, len(want.Negotiations))
		}
		want.Negotiations, want.DueProcess = nil, nil
		if got := sum.Snapshot(); !reflect.DeepEqual(got, want) {
			t.Fatalf("summary fold differs:\n%+v\n%+v", got, want)
		}
		// A zero Project made a summary in place (as the views' slabs do)
		// is the same summary.
		var inPlace Project
		inPlace.InitSummary()
		for _, e := range events {
			inPlace.Apply(e)
		}
		if !reflect.DeepEqual(inPlace.Snapshot(), sum.Snapshot()) {
			t.Fatal("a summary made in place folds differently from NewProjectSummary")
		}
		// The same events through JSON fold to the same state.
		var decoded []Event
		for _, e := range events {
			data, err := Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Decode(e.EventType(), data)
			if err != nil {
				t.Fatal(err)
			}
			decoded = append(decoded, d)
		}
		ja, _ := json.Marshal(a.Snapshot())
		jc, _ := json.Marshal(FoldProject(decoded).Snapshot())
		if string(ja) != string(jc) {
			t.Fatalf("decoded fold differs:\n%s\n%s", ja, jc)
		}
		// Read-side rules never panic.
		pol := DefaultPolicy()
		_, _ = a.Contributions(y2024, pol)
		_, _, _ = a.TierOf(pol)
		a.SigningNotFiled(shanghai, pol)
		a.RegistrationOverdue(now, shanghai, pol)
		a.StartOverdue(now, shanghai, pol)
		a.FundsBehind(now, shanghai, pol)
		a.ExclusivityExpiring(now, pol)
		a.ExclusivityLapsed(now)
		a.FulfilmentAt(now, shanghai, pol)
		_, _ = ComputeRates([]*Project{a}, y2024, now, shanghai, pol, nil)
		rec := make([]RecordedEvent, len(events))
		for i, e := range events {
			rec[i] = RecordedEvent{Position: strconv.Itoa(i), RecordedAt: now.Add(time.Duration(i) * time.Minute), Event: e}
		}
		EvaluateTolerance(rec)
		// Stage never goes backwards along the sequence.
		p := NewProject()
		last := 0
		for _, e := range events {
			p.Apply(e)
			if o := p.Stage().Order(); o < last {
				t.Fatalf("stage went backwards to %s", p.Stage())
			} else {
				last = o
			}
		}
	}
}

// FuzzApplyArbitrary: Apply is total — any event in any order, with any field
// values a decoder produced, never panics.
func FuzzApplyArbitrary(f *testing.F) {
	samples := sampleEvents()
	f.Add([]byte{0, 4, 12, 11, 4, 12}, `{"field":"funds[0].amount","value":{"amount":1,"currency":"CNY"}}`)
	f.Add([]byte{12, 12, 0}, `{"field":"signed_at","value":"2024-01-01T00:00:00Z"}`)
	f.Add([]byte{11, 5, 6}, `{"field":"contract_investment","value":null}`)
	f.Fuzz(func(t *testing.T, order []byte, correction string) {
		var evs []Event
		for _, b := range order {
			evs = append(evs, samples[int(b)%len(samples)])
		}
		if e, err := Decode(TypeDetailsCorrected, []byte(correction)); err == nil {
			evs = append(evs, e)
		}
		p := FoldProject(evs)
		_ = p.Snapshot()
		_, _ = p.Indicators(YearPeriod(2024, shanghai), DefaultPolicy())
		var (
			c  ExclusivityClaims
			o  SupervisionOrder
			tc ToleranceCase
			tg AnnualTargets
			u  Units
			ps Policies
			ay AssessmentYear
		)
		for _, e := range evs {
			c.Apply(e)
			o.Apply(e)
			tc.Apply(e)
			tg.Apply(e)
			u.Apply(e)
			ps.Apply(e)
			ay.Apply(e)
		}
	})
}

// FuzzDecode: decoding arbitrary bytes as any event type never panics.
func FuzzDecode(f *testing.F) {
	for _, e := range sampleEvents() {
		data, _ := Encode(e)
		f.Add(e.EventType(), data)
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		e, err := Decode(typ, data)
		if err == nil {
			// Re-encoding may fail (encoding/json reads a "+24:00" offset it
			// refuses to write; checkOccurred keeps such times out of commands),
			// but it must not panic.
			_, _ = Encode(e)
			FoldProject([]Event{e})
		}
	})
}
