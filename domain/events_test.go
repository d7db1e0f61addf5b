package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// sampleEvents has one populated value of every event type.
func sampleEvents() []Event {
	until := t0.Add(day(30))
	reg := MustDate("2024-09-01")
	return []Event{
		ProjectReported{ProjectID: pid1, Name: "电池基地", Unit: "nanhu", Investor: Investor{Name: "宁德时代", USCC: usccA,
			Origin: "福建", Categories: []Category{CategoryChina500}}, IndustryChain: "新能源", PlannedInvestment: bigCNY,
			SourceChannel: ChannelFund, Referrer: "某基金", LeadOfficial: "张三", OccurredAt: t0, Major: true,
			ExclusivityKey: "name:x|chain:y", ExclusiveUntil: &until, PolicyVersion: 2},
		NegotiationRecorded{ProjectID: pid1, OccurredAt: t0, LeaderLevel: LeaderPrincipal, Participants: []string{"李四"}, Summary: "洽谈"},
		DueProcessRecorded{ProjectID: pid1, Kind: DueRiskAssessment, OccurredAt: t0, Body: "区政府常务会议", Summary: "风险评估",
			DocumentRef: "嘉南政〔2024〕1号", DocumentSHA256: strings.Repeat("ab", 32)},
		SigningFiled{ProjectID: pid1, PlannedDate: MustDate("2024-07-01"), ContractInvestment: bigCNY, Venue: "全球招商大会", OccurredAt: t0},
		ContractSigned{ProjectID: pid1, OccurredAt: t0, ContractInvestment: bigCNY, ForeignInvestment: ptr(Dollars(10)),
			Agreement: AgreementFormal, Commitments: Commitments{RegisterBy: &reg, StartBy: &reg,
				Funds: []FundsMilestone{{By: reg, Amount: Yuan(1)}}}, Unit: "nanhu"},
		ContractAmended{ProjectID: pid1, OccurredAt: t0, PreviousInvestment: Yuan(1), ContractInvestment: Yuan(3), Increment: Yuan(2), Reason: "增资"},
		ProjectTransferred{ProjectID: pid1, FromUnit: "nanhu", ToUnit: "haiyan", Reason: "流转", OccurredAt: t0},
		CompanyRegistered{ProjectID: pid1, OccurredAt: t0, CompanyUSCC: usccA, RegisteredCapital: ptr(Yuan(5))},
		ConstructionStarted{ProjectID: pid1, OccurredAt: t0, PermitNo: "P1"},
		FundsArrived{ProjectID: pid1, OccurredAt: t0, Amount: Dollars(7), Source: FundsForeign},
		ProductionStarted{ProjectID: pid1, OccurredAt: t0},
		ProjectTerminated{ProjectID: pid1, OccurredAt: t0, Kind: TermWithdrawn, Cause: CauseOther, Explanation: "撤回", StageBefore: StageSigned},
		DetailsCorrected{ProjectID: pid1, Field: FieldName, Value: json.RawMessage(`"新"`), Previous: json.RawMessage(`"旧"`),
			Reason: "笔误", OccurredAt: t0, AffectedYears: []int{2024}, PublishedYears: []int{2024}, Flagged: true},
		ExclusivityClaimed{Key: "k", InvestorName: "宁德时代", USCC: usccA, IndustryChain: "新能源", Unit: "nanhu", ProjectID: pid1,
			OccurredAt: t0, Until: until, PolicyVersion: 1},
		ReportRejected{Key: "k", ProjectID: pid2, Unit: "xiuzhou", Name: "电池", Investor: Investor{Name: "宁德时代"},
			IndustryChain: "新能源", PlannedInvestment: bigCNY, OccurredAt: t0, HolderUnit: "nanhu", HolderProject: pid1, Until: until},
		SupervisionOrderIssued{OrderID: pid3, ProjectID: pid1, Matter: "用地", Target: "6月底前供地", LeadLeader: "王副市长",
			ResponsibleUnit: "nanhu", Requirements: "每周报进展", Deadline: MustDate("2024-06-30"), OccurredAt: t0},
		SupervisionProgressReported{OrderID: pid3, OccurredAt: t0, Summary: "已完成土地预审"},
		SupervisionOrderClosed{OrderID: pid3, OccurredAt: t0, Result: "已供地"},
		ToleranceRequested{CaseID: pid3, ProjectID: pid1, Unit: "nanhu", Grounds: "市场变化", OccurredAt: t0},
		ToleranceDecided{CaseID: pid3, ProjectID: pid1, Decision: DecisionExempt, Rationale: "符合三(四)", OccurredAt: t0},
		AnnualTargetsSet{Year: 2024, Unit: "nanhu", Indicators: map[Indicator]float64{IndSigned1b: 80}, OccurredAt: t0},
		UnitRegistered{Code: "nanhu", Name: "南湖区", Kind: UnitCounty, OccurredAt: t0},
		UnitUpdated{Code: "nanhu", Name: "南湖区人民政府", Kind: UnitCounty, OccurredAt: t0},
		PolicyAdopted{Policy: func() Policy { p := DefaultPolicy(); p.Version = 1; return p }(), OccurredAt: t0},
		BonusAwarded{Year: 2024, Unit: "nanhu", Points: 2.5, Reason: "突出贡献", OccurredAt: t0},
		DeductionRecorded{Year: 2024, Unit: "nanhu", Points: 3, Reason: "弄虚作假", OccurredAt: t0},
		AssessmentPublished{Year: 2024, PolicyVersion: 1, Position: "12345", Results: []AssessmentResult{{Unit: "nanhu",
			Score: 88, Rating: RatingGood, Completion: map[Indicator]float64{IndSigned1b: 0.9}, Flags: []string{}}}, OccurredAt: t0},
	}
}

func TestEventRegistry(t *testing.T) {
	types := EventTypes()
	seen := map[string]bool{}
	for _, et := range types {
		if seen[et.Name] {
			t.Fatalf("%s registered twice", et.Name)
		}
		seen[et.Name] = true
		ptr, ok := et.New().(Event)
		if !ok {
			t.Fatalf("%s: New does not return an Event", et.Name)
		}
		if got := Unwrap(ptr).EventType(); got != et.Name {
			t.Fatalf("New() of %s has type %s", et.Name, got)
		}
		if reflect.TypeOf(et.New()).Kind() != reflect.Pointer {
			t.Fatalf("%s: New must return a pointer", et.Name)
		}
	}
	samples := sampleEvents()
	if len(samples) != len(types) {
		t.Fatalf("%d samples for %d types", len(samples), len(types))
	}
	for _, e := range samples {
		if !seen[e.EventType()] {
			t.Fatalf("%s not registered", e.EventType())
		}
		if e.Occurred().IsZero() {
			t.Fatalf("%s has no business time", e.EventType())
		}
	}
}

func TestEventRoundTrip(t *testing.T) {
	for _, e := range sampleEvents() {
		t.Run(e.EventType(), func(t *testing.T) {
			data, err := Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(e.EventType(), data)
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(got) != reflect.TypeOf(e) {
				t.Fatalf("decoded %T, want %T (a value)", got, e)
			}
			again, _ := Encode(got)
			if !bytes.Equal(data, again) {
				t.Fatalf("round trip changed the data:\n%s\n%s", data, again)
			}
			// snake_case field names only
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			for k := range m {
				if strings.ToLower(k) != k || strings.Contains(k, "-") {
					t.Fatalf("field %q is not snake_case", k)
				}
			}
			// a decoder that fills the pointer from New works too
			et, _ := NewRegistry().Lookup(e.EventType())
			p := et.New()
			if err := json.Unmarshal(data, p); err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(Unwrap(p.(Event))) != reflect.TypeOf(e) {
				t.Fatal("Unwrap of New() pointer is not the value type")
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	if _, err := Decode("ProjectDreamt", []byte(`{}`)); !errors.Is(err, ErrUnknownEventType) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Decode(TypeProjectReported, []byte(`{"project_id": 5}`)); err == nil {
		t.Fatal("bad data decoded")
	}
	if _, err := DecodeWith(json.Unmarshal, TypeUnitRegistered, []byte(`{"code":"nanhu","name":"南湖区","kind":"county"}`)); err != nil {
		t.Fatal(err)
	}
}

func TestEventCategories(t *testing.T) {
	streams := map[string]string{
		CategoryProject:     ProjectStream(pid1),
		CategoryExclusivity: ExclusivityStream("name:x|chain:y"),
		CategorySupervision: SupervisionStream(pid1),
		CategoryTolerance:   ToleranceStream(pid1),
		CategoryTargets:     TargetsStream(2024),
		CategoryUnits:       StreamUnits,
		CategoryPolicy:      StreamPolicy,
		CategoryAssessment:  AssessmentStream(2024),
	}
	for _, et := range EventTypes() {
		s, ok := streams[et.Category]
		if !ok {
			t.Fatalf("%s: unknown category %q", et.Name, et.Category)
		}
		if cat, _ := SplitStream(s); cat != et.Category {
			t.Fatalf("%s: stream %s splits to %s", et.Name, s, cat)
		}
		if CategoryOf(et.Name) != et.Category {
			t.Fatalf("CategoryOf(%s)", et.Name)
		}
	}
	if y, err := StreamYear(TargetsStream(2024)); err != nil || y != 2024 {
		t.Fatalf("StreamYear = %d, %v", y, err)
	}
	if s := ExclusivityStream("k"); len(s) != len("exclusivity-")+64 {
		t.Fatalf("exclusivity stream %q", s)
	}
}
