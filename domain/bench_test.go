package domain

import (
	"encoding/json"
	"testing"
)

// BenchmarkFoldProject measures replaying a typical project stream (report,
// negotiations, due process, filing, signing, registration, start, funds,
// production), the floor of every rebuild and every command that loads a project.
func BenchmarkFoldProject(b *testing.B) {
	p := reported(b, bigCNY)
	events := []Event{}
	record := func(c ProjectCommand) {
		evs, err := p.Decide(c, DefaultPolicy(), now)
		if err != nil {
			b.Fatal(err)
		}
		p.Apply(evs[0])
		events = append(events, evs[0])
	}
	d, _ := DecideReport(reportCmd(pid1, "nanhu", bigCNY, now.Add(-day(10))), nil, DefaultPolicy(), now)
	events = append(events, d.Reported)
	for i := 0; i < 3; i++ {
		record(RecordNegotiation{OccurredAt: t0, LeaderLevel: LeaderPrincipal, Participants: []string{"张三", "李四"}, Summary: "洽谈"})
		record(RecordDueProcess{Kind: DueProcessKinds()[i], OccurredAt: t0, Summary: "程序"})
	}
	record(FileSigning{PlannedDate: DateOf(t0, nil).AddDays(9), ContractInvestment: bigCNY})
	record(signIt)
	record(regIt)
	record(startIt)
	for i := 0; i < 5; i++ {
		record(fundsIt)
	}
	record(prodIt)
	for b.Loop() {
		FoldProject(events)
	}
	b.ReportMetric(float64(len(events)), "events/op")
}

// BenchmarkDecodeReport measures decoding one ProjectReported with encoding/json.
func BenchmarkDecodeReport(b *testing.B) {
	d, err := DecideReport(reportCmd(pid1, "nanhu", bigCNY, t0), nil, DefaultPolicy(), now)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(d.Reported)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Decode(TypeProjectReported, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideSigning measures one decide on a folded project.
func BenchmarkDecideSigning(b *testing.B) {
	p := reported(b, bigCNY)
	pol := DefaultPolicy()
	for b.Loop() {
		if _, err := p.Decide(signIt, pol, now); err != nil {
			b.Fatal(err)
		}
	}
}
