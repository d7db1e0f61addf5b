package domain

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	t0       = now.Add(-day(9)) // after the report (now − 10 days)
	bigCNY   = Yuan(2_000_000_000)
	negotiat = RecordNegotiation{OccurredAt: t0, LeaderLevel: LeaderPrincipal, Summary: "首轮洽谈"}
	signIt   = sign(t0.Add(day(1)), bigCNY)
	regIt    = RegisterCompany{OccurredAt: t0.Add(day(2)), CompanyUSCC: usccA}
	startIt  = StartConstruction{OccurredAt: t0.Add(day(3)), PermitNo: "330402202400001"}
	prodIt   = StartProduction{OccurredAt: t0.Add(day(4))}
	fundsIt  = RecordFunds{OccurredAt: t0.Add(day(3)), Amount: Yuan(100_000_000), Source: FundsDomestic}
	endTalks = TerminateProject{OccurredAt: t0.Add(day(1)), Kind: TermNegotiationEnded, Cause: CauseMarketChange,
		Explanation: "市场变化，投资方暂停扩产"}
	withdraw = TerminateProject{OccurredAt: t0.Add(day(5)), Kind: TermWithdrawn, Cause: CauseInvestorDecision,
		Explanation: "投资方撤回"}
)

func TestProjectStageOrder(t *testing.T) {
	tests := []struct {
		name      string
		setup     []ProjectCommand
		cmd       ProjectCommand
		err       error
		field     string
		wantStage Stage
	}{
		{"DOMAIN lifecycle: first negotiation moves reported→negotiating", nil, negotiat, nil, "", StageNegotiating},
		{"DOMAIN lifecycle: later negotiation keeps the stage", []ProjectCommand{negotiat, signIt}, negotiat, nil, "", StageSigned},
		{"DOMAIN lifecycle: skip forward, signed at the first meeting", nil, signIt, nil, "", StageSigned},
		{"docs/import.md: the report dates the entry in the ledger (入库); talks before it are recorded", nil,
			RecordNegotiation{OccurredAt: now.Add(-day(11)), LeaderLevel: LeaderDeputy, Summary: "入库前的首轮洽谈"}, nil, "", StageNegotiating},
		{"docs/import.md: a project entered after it signed keeps its signing date", nil,
			sign(now.Add(-day(11)), bigCNY), nil, "", StageSigned},
		{"Suzhou 五(五): funds arrive under the contract, not before the signing", []ProjectCommand{signIt},
			RecordFunds{OccurredAt: t0.Add(day(1)).Add(-time.Hour), Amount: Yuan(1), Source: FundsDomestic}, ErrValidation, "occurred_at", StageSigned},
		{"Suzhou 五(五): funds on the signing's moment are accepted", []ProjectCommand{signIt},
			RecordFunds{OccurredAt: t0.Add(day(1)), Amount: Yuan(1), Source: FundsDomestic}, nil, "", StageSigned},
		{"Jiaxing 二(一)1: signed→registered", []ProjectCommand{signIt}, regIt, nil, "", StageRegistered},
		{"Jiaxing 二(一)1: registered→started", []ProjectCommand{signIt, regIt}, startIt, nil, "", StageStarted},
		{"DOMAIN lifecycle: skip registration, signed→started", []ProjectCommand{signIt}, startIt, nil, "", StageStarted},
		{"DOMAIN lifecycle: started→producing", []ProjectCommand{signIt, startIt}, prodIt, nil, "", StageProducing},
		{"DOMAIN lifecycle: skip to producing after signing", []ProjectCommand{signIt}, prodIt, nil, "", StageProducing},
		{"DOMAIN lifecycle: registration before signing rejected", nil, regIt, ErrInvalidTransition, "", StageReported},
		{"DOMAIN lifecycle: start before signing rejected", []ProjectCommand{negotiat}, startIt, ErrInvalidTransition, "", StageNegotiating},
		{"DOMAIN lifecycle: production before signing rejected", nil, prodIt, ErrInvalidTransition, "", StageReported},
		{"DOMAIN lifecycle: registration after start is backwards", []ProjectCommand{signIt, startIt}, regIt, ErrInvalidTransition, "", StageStarted},
		{"DOMAIN lifecycle: second registration rejected", []ProjectCommand{signIt, regIt}, regIt, ErrInvalidTransition, "", StageRegistered},
		{"DOMAIN lifecycle: second production rejected", []ProjectCommand{signIt, prodIt}, prodIt, ErrInvalidTransition, "", StageProducing},
		{"DOMAIN ContractSigned: counts once, re-signing rejected", []ProjectCommand{signIt}, signIt, ErrInvalidTransition, "", StageSigned},
		{"Suzhou 五(五): funds before signing rejected", nil, fundsIt, ErrInvalidTransition, "", StageReported},
		{"Suzhou 五(五): funds after signing accepted", []ProjectCommand{signIt}, fundsIt, nil, "", StageSigned},
		{"DOMAIN ContractAmended: amendment before signing rejected", nil,
			AmendContract{OccurredAt: t0, ContractInvestment: bigCNY, Reason: "增资"}, ErrInvalidTransition, "", StageReported},
		{"DOMAIN lifecycle: terminated is terminal (negotiation)", []ProjectCommand{endTalks}, negotiat, ErrInvalidTransition, "", StageTerminated},
		{"DOMAIN lifecycle: terminated is terminal (signing)", []ProjectCommand{endTalks}, signIt, ErrInvalidTransition, "", StageTerminated},
		{"DOMAIN lifecycle: terminated is terminal (second termination)", []ProjectCommand{endTalks}, endTalks, ErrInvalidTransition, "", StageTerminated},
		{"DOMAIN lifecycle: terminated is terminal (due process)", []ProjectCommand{endTalks},
			RecordDueProcess{Kind: DueRiskAssessment, OccurredAt: t0, Summary: "补录"}, ErrInvalidTransition, "", StageTerminated},
		{"DOMAIN lifecycle: terminated is terminal (funds)", []ProjectCommand{signIt, withdraw}, fundsIt, ErrInvalidTransition, "", StageTerminated},
		{"DOMAIN tolerance check 4: a correction after termination is recorded", []ProjectCommand{endTalks},
			CorrectDetails{Field: FieldName, Value: json.RawMessage(`"新名称"`), Reason: "笔误"}, nil, "", StageTerminated},
		{"DOMAIN lifecycle: a later stage dated before the previous one is rejected", []ProjectCommand{signIt},
			RegisterCompany{OccurredAt: t0, CompanyUSCC: usccA}, ErrValidation, "occurred_at", StageSigned},
		{"DOMAIN Time: occurred_at in the future rejected", nil,
			RecordNegotiation{OccurredAt: now.Add(time.Hour), LeaderLevel: LeaderDeputy, Summary: "x"}, ErrValidation, "occurred_at", StageReported},
		{"DOMAIN Time: occurred_at within the clock skew accepted", nil,
			RecordNegotiation{OccurredAt: now.Add(4 * time.Minute), LeaderLevel: LeaderDeputy, Summary: "x"}, nil, "", StageNegotiating},
		{"DOMAIN Time: occurred_at required", nil,
			RecordNegotiation{LeaderLevel: LeaderDeputy, Summary: "x"}, ErrValidation, "occurred_at", StageReported},
		{"DOMAIN NegotiationRecorded: leader level validated", nil,
			RecordNegotiation{OccurredAt: t0, LeaderLevel: "mayor", Summary: "x"}, ErrValidation, "leader_level", StageReported},
		{"Jiaxing 三(四): due-process kind validated", nil,
			RecordDueProcess{Kind: "gut_feeling", OccurredAt: t0, Summary: "x"}, ErrValidation, "kind", StageReported},
		{"Jiaxing 三(四): document hash must be SHA-256", nil,
			RecordDueProcess{Kind: DueFeasibilityStudy, OccurredAt: t0, Summary: "x", DocumentSHA256: "abc"}, ErrValidation, "document_sha256", StageReported},
		{"DOMAIN CompanyRegistered: uscc check character validated", []ProjectCommand{signIt},
			RegisterCompany{OccurredAt: t0.Add(day(2)), CompanyUSCC: "91330400MA2BWKQ300"}, ErrValidation, "company_uscc", StageSigned},
		{"DOMAIN ContractSigned: agreement kind required", nil,
			SignContract{OccurredAt: t0, ContractInvestment: bigCNY}, ErrValidation, "agreement", StageReported},
		{"DOMAIN ContractSigned: commitments not before signing", nil,
			SignContract{OccurredAt: t0, ContractInvestment: bigCNY, Agreement: AgreementFramework,
				Commitments: &Commitments{RegisterBy: ptr(DateOf(t0, nil).AddDays(-1))}}, ErrValidation, "commitments.register_by", StageReported},
		{"API.md dates: commitments judged against the signing's date in the server's zone, not the caller's offset", nil,
			SignContract{OccurredAt: time.Date(2024, 6, 5, 17, 0, 0, 0, time.UTC), ContractInvestment: bigCNY, Agreement: AgreementFramework, // 06-06 01:00 CST
				Commitments: &Commitments{RegisterBy: ptr(NewDate(2024, 6, 5))}}, ErrValidation, "commitments.register_by", StageReported},
		{"API.md dates: a commitment on the signing's own date in the server's zone is accepted", nil,
			SignContract{OccurredAt: time.Date(2024, 6, 5, 17, 0, 0, 0, time.UTC), ContractInvestment: bigCNY, Agreement: AgreementFramework,
				Commitments: &Commitments{RegisterBy: ptr(NewDate(2024, 6, 6))}}, nil, "", StageSigned},
		{"DOMAIN ContractSigned: foreign part not above the contract", nil,
			SignContract{OccurredAt: t0, ContractInvestment: Yuan(100), ForeignInvestment: ptr(Dollars(100)), Agreement: AgreementFormal},
			ErrValidation, "foreign_investment", StageReported},
		{"DOMAIN money: contract investment must be positive", nil, sign(t0, Yuan(0)), ErrValidation, "contract_investment.amount", StageReported},
		{"DOMAIN money: currency must be CNY or USD", nil, sign(t0, Money{Amount: 5, Currency: "EUR"}), ErrValidation, "contract_investment.currency", StageReported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := reported(t, bigCNY)
			for _, c := range tt.setup {
				must(t, p, c)
			}
			before := p.Snapshot()
			evs, err := p.Decide(tt.cmd, DefaultPolicy(), now)
			wantErr(t, err, tt.err, tt.field)
			if err != nil {
				if len(evs) != 0 {
					t.Fatalf("rejected command returned events %v", evs)
				}
				if p.Snapshot().Events != before.Events {
					t.Fatal("Decide changed the state")
				}
			}
			for _, e := range evs {
				p.Apply(e)
			}
			if p.Stage() != tt.wantStage {
				t.Fatalf("stage = %s, want %s", p.Stage(), tt.wantStage)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestProjectNotFound(t *testing.T) {
	_, err := NewProject().Decide(negotiat, DefaultPolicy(), now)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

// TestNotFoundNamesID: an aggregate built for a stream names its id when the
// stream turns out to be empty.
func TestNotFoundNamesID(t *testing.T) {
	pol := DefaultPolicy()
	tests := []struct {
		name, what, id string
		decide         func() error
	}{
		{"project", "project", pid1, func() error {
			_, err := NewProjectFor(pid1).Decide(negotiat, pol, now)
			return err
		}},
		{"supervision order", "supervision order", pid2, func() error {
			_, err := NewSupervisionOrder(pid2).Decide(ReportProgress{OccurredAt: now, Summary: "x"}, pol, now)
			return err
		}},
		{"tolerance case", "tolerance case", pid3, func() error {
			_, err := NewToleranceCase(pid3).DecideDecision(DecideTolerance{Decision: DecisionExempt, Rationale: "x"}, now)
			return err
		}},
		{"zero supervision order has no id", "supervision order", "", func() error {
			var o SupervisionOrder
			_, err := o.Decide(CloseOrder{OccurredAt: now, Result: "x"}, pol, now)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decide()
			var nf *NotFoundError
			if !errors.Is(err, ErrNotFound) || !errors.As(err, &nf) || nf.What != tt.what || nf.ID != tt.id {
				t.Fatalf("err = %#v, want %s %q not found", err, tt.what, tt.id)
			}
			if want := tt.what + " " + tt.id + " not found"; tt.id != "" && err.Error() != want {
				t.Fatalf("message = %q, want %q", err.Error(), want)
			}
			if want := tt.what + " not found"; tt.id == "" && err.Error() != want {
				t.Fatalf("message = %q, want %q", err.Error(), want)
			}
		})
	}
	// Once reported, the project's own id is used, whatever it was built for.
	p := NewProjectFor(pid1)
	if p.Exists() || p.ID() != "" {
		t.Fatal("an empty project has no id of its own")
	}
}

func TestAlreadyExistsError(t *testing.T) {
	err := error(&AlreadyExistsError{What: "project", ID: pid1})
	var ae *AlreadyExistsError
	if !errors.Is(err, ErrAlreadyExists) || !errors.As(err, &ae) || ae.ID != pid1 || errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("err = %v", err)
	}
	if got, want := err.Error(), "project "+pid1+" already exists"; got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
}

// TestCorrectionFlaggedYears: the flag of a correction is decided by the log
// order (DOMAIN.md DetailsCorrected: "a correction of a period whose
// assessment is published is flagged"; "later corrections show as a
// difference"): a year counts when the recording command saw it published,
// or when its publication froze a position before the correction's —
// whatever the recorded flag says.
func TestCorrectionFlaggedYears(t *testing.T) {
	unseen := DetailsCorrected{AffectedYears: []int{2023, 2024}}
	seen := DetailsCorrected{AffectedYears: []int{2023, 2024}, PublishedYears: []int{2023}, Flagged: true}
	none := func(int) bool { return false }
	frozen2024 := func(y int) bool { return y == 2024 }
	tests := []struct {
		name         string
		c            DetailsCorrected
		frozenBefore func(int) bool
		want         []int
	}{
		{"DOMAIN DetailsCorrected: no publication before it, not flagged", unseen, none, nil},
		{"DOMAIN DetailsCorrected: the command saw 2023 published", seen, none, []int{2023}},
		{"DOMAIN DetailsCorrected: a racing publication froze 2024 before it", unseen, frozen2024, []int{2024}},
		{"DOMAIN DetailsCorrected: both", seen, frozen2024, []int{2023, 2024}},
		{"DOMAIN DetailsCorrected: an unaffected year's publication does not flag",
			DetailsCorrected{AffectedYears: []int{2023}}, frozen2024, nil},
		{"DOMAIN DetailsCorrected: no reader of positions, the recorded years", seen, nil, []int{2023}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.FlaggedYears(tt.frozenBefore); !slices.Equal(got, tt.want) {
				t.Fatalf("FlaggedYears = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTransitionErrorNamesState(t *testing.T) {
	p := reported(t, bigCNY)
	_, err := p.Decide(regIt, DefaultPolicy(), now)
	var te *TransitionError
	if !errors.As(err, &te) || te.From != string(StageReported) || te.Aggregate != "project" {
		t.Fatalf("err = %#v", err)
	}
}

func TestSigningCountsOnceAndAmendmentsIncrement(t *testing.T) {
	// DOMAIN ContractSigned / ContractAmended: the signing counts once, each
	// amendment only its increment, in the period it occurred.
	p := reportedOn(t, bigCNY, at("2024-01-02T10:00:00+08:00"))
	must(t, p, sign(at("2024-03-01T10:00:00+08:00"), Yuan(1_500_000_000)))
	tests := []struct {
		name string
		cmd  AmendContract
		err  error
		inc  int64
	}{
		{"DOMAIN ContractAmended: increase counts its increment", AmendContract{OccurredAt: at("2024-05-01T10:00:00+08:00"),
			ContractInvestment: Yuan(2_000_000_000), Reason: "二期增资"}, nil, 500_000_000},
		{"DOMAIN ContractAmended: decrease is a negative increment", AmendContract{OccurredAt: at("2024-06-01T10:00:00+08:00"),
			ContractInvestment: Yuan(1_800_000_000), Reason: "调减用地"}, nil, -200_000_000},
		{"DOMAIN ContractAmended: unchanged figure rejected", AmendContract{OccurredAt: at("2024-06-02T10:00:00+08:00"),
			ContractInvestment: Yuan(1_800_000_000), Reason: "无变化"}, ErrValidation, 0},
		{"DOMAIN ContractAmended: currency must stay the contract's", AmendContract{OccurredAt: at("2024-06-02T10:00:00+08:00"),
			ContractInvestment: Dollars(300_000_000), Reason: "改币种"}, ErrValidation, 0},
		{"DOMAIN ContractAmended: not before the signing", AmendContract{OccurredAt: at("2024-02-01T10:00:00+08:00"),
			ContractInvestment: Yuan(3_000_000_000), Reason: "倒签"}, ErrValidation, 0},
		{"DOMAIN ContractAmended: reason required", AmendContract{OccurredAt: at("2024-06-02T10:00:00+08:00"),
			ContractInvestment: Yuan(3_000_000_000)}, ErrValidation, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := p.Decide(tt.cmd, DefaultPolicy(), now)
			wantErr(t, err, tt.err, "")
			if err != nil {
				return
			}
			a := evs[0].(ContractAmended)
			if a.Increment.Amount != tt.inc {
				t.Fatalf("increment = %d, want %d", a.Increment.Amount, tt.inc)
			}
			p.Apply(a)
		})
	}
	pol := DefaultPolicy()
	q1, _ := ParsePeriod("2024-Q1", shanghai)
	q2, _ := ParsePeriod("2024-Q2", shanghai)
	v1, _ := p.Indicators(q1, pol)
	v2, _ := p.Indicators(q2, pol)
	if v1[IndSigned1b] != 1 || v1[IndContractInvestment] != 1_500_000_000 {
		t.Fatalf("Q1 = %v", v1)
	}
	if v2[IndSigned1b] != 0 || v2[IndContractInvestment] != 300_000_000 {
		t.Fatalf("Q2 = %v (the signing must not count again; increments 5亿 − 2亿)", v2)
	}
	if got := *p.Snapshot().ContractInvestment; got != Yuan(1_800_000_000) {
		t.Fatalf("current contract = %v", got)
	}
}

func TestTransfer(t *testing.T) {
	tr := func(to UnitCode) TransferProject {
		return TransferProject{ToUnit: to, Reason: "市投促中心协调流转", OccurredAt: t0}
	}
	tests := []struct {
		name  string
		setup []ProjectCommand
		cmd   TransferProject
		err   error
		field string
	}{
		{"Jiaxing 二(一)3 项目流转: reported project moves", nil, tr("haiyan"), nil, ""},
		{"Jiaxing 二(一)3 项目流转: negotiating project moves", []ProjectCommand{negotiat}, tr("haiyan"), nil, ""},
		{"Xiamen 三(二)4: transfer to the same unit rejected", nil, tr("nanhu"), ErrValidation, "to_unit"},
		{"Xiamen 三(二)4: bad unit code rejected", nil, tr("南湖"), ErrValidation, "to_unit"},
		{"Jiaxing 二(一)3: a landed (signed) project is not transferred", []ProjectCommand{signIt}, tr("haiyan"), ErrInvalidTransition, ""},
		{"DOMAIN lifecycle: a terminated project is not transferred", []ProjectCommand{endTalks}, tr("haiyan"), ErrInvalidTransition, ""},
		{"Xiamen 三(二)4: reason required", nil, TransferProject{ToUnit: "haiyan", OccurredAt: t0}, ErrValidation, "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := reported(t, bigCNY)
			for _, c := range tt.setup {
				must(t, p, c)
			}
			evs, err := p.Decide(tt.cmd, DefaultPolicy(), now)
			wantErr(t, err, tt.err, tt.field)
			if err != nil {
				return
			}
			p.Apply(evs[0])
			if p.Unit() != tt.cmd.ToUnit || p.FirstUnit() != "nanhu" {
				t.Fatalf("owner %s first %s: owner must move, first unit stay", p.Unit(), p.FirstUnit())
			}
			if e := evs[0].(ProjectTransferred); e.FromUnit != "nanhu" {
				t.Fatalf("from = %s", e.FromUnit)
			}
		})
	}
}

func TestTermination(t *testing.T) {
	term := func(k TerminationKind, c TerminationCause, when time.Time) TerminateProject {
		return TerminateProject{OccurredAt: when, Kind: k, Cause: c, Explanation: "说明"}
	}
	later := t0.Add(day(5))
	tests := []struct {
		name  string
		setup []ProjectCommand
		cmd   TerminateProject
		err   error
		field string
	}{
		{"Jiaxing 三(四) 洽谈终止 before signing", []ProjectCommand{negotiat}, term(TermNegotiationEnded, CausePolicyChange, later), nil, ""},
		{"Jiaxing 三(四) 洽谈终止 not after signing", []ProjectCommand{signIt}, term(TermNegotiationEnded, CausePolicyChange, later), ErrValidation, "kind"},
		{"Jiaxing 三(四) 建而未投 after signing", []ProjectCommand{signIt, startIt}, term(TermBuiltNotInvested, CauseMarketChange, later), nil, ""},
		{"Jiaxing 三(四) 建而未投 not before signing", nil, term(TermBuiltNotInvested, CauseMarketChange, later), ErrValidation, "kind"},
		{"Jiaxing 三(四) 投而未达预期 in production", []ProjectCommand{signIt, prodIt}, term(TermBelowExpectation, CauseForceMajeure, later), nil, ""},
		{"Jiaxing 三(四) 建而未投 not once producing", []ProjectCommand{signIt, prodIt}, term(TermBuiltNotInvested, CauseForceMajeure, later), ErrValidation, "kind"},
		{"DOMAIN ProjectTerminated: withdrawn at any stage", []ProjectCommand{signIt, regIt}, term(TermWithdrawn, CauseInvestorDecision, later), nil, ""},
		{"DOMAIN ProjectTerminated: unknown kind", nil, term("bankrupt", CauseOther, later), ErrValidation, "kind"},
		{"DOMAIN ProjectTerminated: unknown cause", nil, term(TermWithdrawn, "bad_luck", later), ErrValidation, "cause"},
		{"DOMAIN ProjectTerminated: explanation required", nil, TerminateProject{OccurredAt: later, Kind: TermWithdrawn, Cause: CauseOther}, ErrValidation, "explanation"},
		{"DOMAIN lifecycle: termination not dated before the last stage", []ProjectCommand{signIt}, term(TermWithdrawn, CauseOther, t0), ErrValidation, "occurred_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := reported(t, bigCNY)
			for _, c := range tt.setup {
				must(t, p, c)
			}
			stage := p.Stage()
			evs, err := p.Decide(tt.cmd, DefaultPolicy(), now)
			wantErr(t, err, tt.err, tt.field)
			if err != nil {
				return
			}
			e := evs[0].(ProjectTerminated)
			if e.StageBefore != stage {
				t.Fatalf("stage_before = %s, want %s", e.StageBefore, stage)
			}
			p.Apply(e)
			if p.Stage() != StageTerminated {
				t.Fatal("not terminated")
			}
		})
	}
}

func TestCorrections(t *testing.T) {
	val := func(v any) json.RawMessage {
		b, _ := json.Marshal(v)
		return b
	}
	signed := []ProjectCommand{sign(at("2023-11-20T10:00:00+08:00"), Yuan(1_200_000_000)),
		StartConstruction{OccurredAt: at("2024-02-01T10:00:00+08:00")},
		RecordFunds{OccurredAt: at("2024-03-01T10:00:00+08:00"), Amount: Yuan(50_000_000), Source: FundsOutOfProvince}}
	tests := []struct {
		name      string
		setup     []ProjectCommand
		cmd       CorrectDetails
		err       error
		field     string
		affected  []int
		flagged   bool
		checkSnap func(t *testing.T, s ProjectSnapshot)
	}{
		{"DOMAIN DetailsCorrected: name corrected, original kept", nil,
			CorrectDetails{Field: FieldName, Value: val("嘉兴电池项目"), Reason: "名称笔误"}, nil, "", nil, false,
			func(t *testing.T, s ProjectSnapshot) {
				if s.Name != "嘉兴电池项目" || len(s.Corrections) != 1 || string(s.Corrections[0].Previous) != `"新能源电池基地项目"` {
					t.Fatalf("%+v", s.Corrections)
				}
			}},
		{"DOMAIN DetailsCorrected: unknown field rejected", nil,
			CorrectDetails{Field: "stage", Value: val("signed"), Reason: "x"}, ErrValidation, "field", nil, false, nil},
		{"DOMAIN DetailsCorrected: reason required", nil,
			CorrectDetails{Field: FieldName, Value: val("x")}, ErrValidation, "reason", nil, false, nil},
		{"DOMAIN DetailsCorrected: unchanged value rejected", nil,
			CorrectDetails{Field: FieldIndustryChain, Value: val("新能源"), Reason: "x"}, ErrValidation, "value", nil, false, nil},
		{"DOMAIN DetailsCorrected: value of the wrong type rejected", nil,
			CorrectDetails{Field: FieldPlannedInvestment, Value: val("十亿"), Reason: "x"}, ErrValidation, "value", nil, false, nil},
		{"DOMAIN DetailsCorrected: contract figure not recorded before signing", nil,
			CorrectDetails{Field: FieldContractInvestment, Value: val(Yuan(5)), Reason: "x"}, ErrValidation, "field", nil, false, nil},
		{"Jiaxing 三(一): contract figure of a published year is flagged", signed,
			CorrectDetails{Field: FieldContractInvestment, Value: val(Yuan(1_100_000_000)), Reason: "合同录入错误", PublishedYears: []int{2023}},
			nil, "", []int{2023}, true, func(t *testing.T, s ProjectSnapshot) {
				if s.Signing.ContractInvestment != Yuan(1_100_000_000) {
					t.Fatalf("signing figure %v", s.Signing.ContractInvestment)
				}
			}},
		{"Jiaxing 三(一): unpublished year not flagged", signed,
			CorrectDetails{Field: FieldContractInvestment, Value: val(Yuan(1_100_000_000)), Reason: "合同录入错误"},
			nil, "", []int{2023}, false, nil},
		{"Jiaxing 三(一): moving the signing across years affects both", signed,
			CorrectDetails{Field: FieldSignedAt, Value: val(at("2024-01-10T10:00:00+08:00")), Reason: "签约日期录错", PublishedYears: []int{2023}},
			nil, "", []int{2023, 2024}, true, nil},
		{"Jiaxing 三(一): moving a start across years affects both", signed,
			CorrectDetails{Field: FieldStartedAt, Value: val(at("2023-12-20T10:00:00+08:00")), Reason: "开工日期录错", PublishedYears: []int{2023}},
			nil, "", []int{2023, 2024}, true, nil},
		{"Jiaxing 三(一): production moved across years counts as the start when construction start was skipped",
			[]ProjectCommand{sign(at("2023-03-01T10:00:00+08:00"), Yuan(1_200_000_000)), StartProduction{OccurredAt: at("2023-12-20T10:00:00+08:00")}},
			CorrectDetails{Field: FieldProducingAt, Value: val(at("2024-01-10T10:00:00+08:00")), Reason: "投产日期录错", PublishedYears: []int{2023}},
			nil, "", []int{2023, 2024}, true, nil},
		{"Jiaxing 三(一): production moved when construction start is recorded affects no year",
			append(signed[:2:2], StartProduction{OccurredAt: at("2024-03-01T10:00:00+08:00")}),
			CorrectDetails{Field: FieldProducingAt, Value: val(at("2024-03-10T10:00:00+08:00")), Reason: "x", PublishedYears: []int{2024}},
			nil, "", nil, false, nil},
		{"Jiaxing 三(一): investor categories affect the signing year", signed,
			CorrectDetails{Field: FieldInvestorCategories, Value: val([]string{"fortune_global_500"}), Reason: "世界500强漏填", PublishedYears: []int{2023}},
			nil, "", []int{2023}, true, nil},
		{"DOMAIN lifecycle: a correction may not put stages out of order", signed,
			CorrectDetails{Field: FieldSignedAt, Value: val(at("2024-03-10T10:00:00+08:00")), Reason: "x"}, ErrValidation, "value", nil, false, nil},
		{"ADR-15: a corrected signing may not move past funds that arrived under it",
			[]ProjectCommand{sign(at("2023-11-20T10:00:00+08:00"), Yuan(1_200_000_000)),
				RecordFunds{OccurredAt: at("2024-03-01T10:00:00+08:00"), Amount: Yuan(50_000_000), Source: FundsDomestic}},
			CorrectDetails{Field: FieldSignedAt, Value: val(at("2024-03-10T10:00:00+08:00")), Reason: "x"}, ErrValidation, "value", nil, false, nil},
		{"ADR-15: a corrected signing before the funds stays allowed",
			[]ProjectCommand{sign(at("2023-11-20T10:00:00+08:00"), Yuan(1_200_000_000)),
				RecordFunds{OccurredAt: at("2024-03-01T10:00:00+08:00"), Amount: Yuan(50_000_000), Source: FundsDomestic}},
			CorrectDetails{Field: FieldSignedAt, Value: val(at("2024-02-10T10:00:00+08:00")), Reason: "签约日期录错"}, nil, "", []int{2023, 2024}, false, nil},
		{"DOMAIN Time: corrected date not in the future", signed,
			CorrectDetails{Field: FieldStartedAt, Value: val(now.Add(day(3))), Reason: "x"}, ErrValidation, "value", nil, false, nil},
		{"Suzhou 五(五): funds amount corrected by index", signed,
			CorrectDetails{Field: FundsAmountField(0), Value: val(Yuan(60_000_000)), Reason: "到账金额录错"}, nil, "", []int{2024}, false,
			func(t *testing.T, s ProjectSnapshot) {
				if s.Funds[0].Amount != Yuan(60_000_000) {
					t.Fatalf("funds %v", s.Funds[0].Amount)
				}
			}},
		{"Suzhou 五(五): funds index out of range", signed,
			CorrectDetails{Field: FundsAmountField(3), Value: val(Yuan(1)), Reason: "x"}, ErrValidation, "field", nil, false, nil},
		{"DOMAIN DetailsCorrected: categories validated", nil,
			CorrectDetails{Field: FieldInvestorCategories, Value: val([]string{"fortune_global_500", "famous"}), Reason: "x"}, ErrValidation, "value[1]", nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := reportedOn(t, bigCNY, at("2023-01-02T10:00:00+08:00"))
			for _, c := range tt.setup {
				must(t, p, c)
			}
			evs, err := p.Decide(tt.cmd, DefaultPolicy(), now)
			wantErr(t, err, tt.err, tt.field)
			if err != nil {
				return
			}
			e := evs[0].(DetailsCorrected)
			if !equalInts(e.AffectedYears, tt.affected) || e.Flagged != tt.flagged {
				t.Fatalf("affected %v flagged %v, want %v %v", e.AffectedYears, e.Flagged, tt.affected, tt.flagged)
			}
			if len(e.Previous) == 0 || len(e.Value) == 0 {
				t.Fatal("both values must be kept")
			}
			p.Apply(e)
			if tt.checkSnap != nil {
				tt.checkSnap(t, p.Snapshot())
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSnapshotIsACopy(t *testing.T) {
	p := reported(t, bigCNY)
	must(t, p, negotiat)
	s := p.Snapshot()
	s.Investor.Categories[0] = "mutated"
	s.Negotiations[0].Summary = "mutated"
	s2 := p.Snapshot()
	if s2.Investor.Categories[0] == "mutated" || s2.Negotiations[0].Summary == "mutated" {
		t.Fatal("snapshot shares memory with the state")
	}
}

func TestApplyAcceptsPointers(t *testing.T) {
	d, err := DecideReport(reportCmd(pid1, "nanhu", bigCNY, t0), nil, DefaultPolicy(), now)
	if err != nil {
		t.Fatal(err)
	}
	p := NewProject()
	ev := d.Reported
	p.Apply(&ev)
	if !p.Exists() || p.ID() != pid1 {
		t.Fatal("pointer event not applied")
	}
}

func TestOccurredAtMustBeRecordable(t *testing.T) {
	// DOMAIN Time: a client's odd zone offset is a validation error, never a
	// failed append.
	var c RecordNegotiation
	if err := json.Unmarshal([]byte(`{"occurred_at":"2024-06-01T10:00:00+24:00","leader_level":"deputy","summary":"x"}`), &c); err != nil {
		t.Skip("encoding/json no longer reads +24:00 offsets")
	}
	p := reported(t, bigCNY)
	_, err := p.Decide(c, DefaultPolicy(), now)
	wantErr(t, err, ErrValidation, "occurred_at")
}

// TestCorrectionValueMessages: a value of the wrong shape is named in the
// API's words, never in the JSON decoder's (Go types, layouts).
func TestCorrectionValueMessages(t *testing.T) {
	p := reportedOn(t, bigCNY, at("2023-01-02T10:00:00+08:00"))
	must(t, p, sign(at("2023-11-20T10:00:00+08:00"), Yuan(1_200_000_000)))
	for _, tc := range []struct {
		field CorrectionField
		value string
		want  string
	}{
		{FieldSignedAt, `"2023-11-21"`, "RFC 3339"},
		{FieldName, `12`, "a string"},
		{FieldContractInvestment, `"十二亿"`, `"currency"`},
		{FieldInvestorCategories, `"fortune_global_500"`, "a list"},
	} {
		_, err := p.Decide(CorrectDetails{Field: tc.field, Value: json.RawMessage(tc.value), Reason: "x"}, DefaultPolicy(), now)
		var ve ValidationErrors
		if !errors.As(err, &ve) || len(ve) != 1 || ve[0].Field != "value" || !strings.Contains(ve[0].Message, tc.want) ||
			strings.Contains(ve[0].Message, "Go ") || strings.Contains(ve[0].Message, "2006") {
			t.Errorf("%s = %s: %v; want a message naming %q", tc.field, tc.value, err, tc.want)
		}
	}
}
