package domain

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// UnitCode identifies a unit (county, park, department or the centre). It
// appears in URL paths (/targets/{year}/{unit}), so it is restricted to 1–32
// ASCII letters, digits, '-' and '_', starting with a letter or digit. Codes are
// case-sensitive.
type UnitCode string

// Validate checks the code's syntax; field names the JSON field for the error.
func (c UnitCode) Validate(field string) error {
	s := string(c)
	if s == "" {
		return &ValidationError{Field: field, Rule: "required", Message: "is required"}
	}
	if len(s) > 32 {
		return &ValidationError{Field: field, Rule: "too_long", Message: "unit code has more than 32 characters"}
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		alnum := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
		if i == 0 && !alnum || !alnum && b != '-' && b != '_' {
			return &ValidationError{Field: field, Rule: "format",
				Message: "unit code must be ASCII letters, digits, '-' or '_', starting with a letter or digit"}
		}
	}
	return nil
}

// UnitKind groups units for ranking: rankings compare units of the same kind
// (Suzhou 一 sets different targets for 县区 and 市管园区).
type UnitKind string

const (
	UnitCounty     UnitKind = "county"     // 县市区
	UnitPark       UnitKind = "park"       // 开发区 / 园区
	UnitDepartment UnitKind = "department" // 市直部门
	UnitCentre     UnitKind = "centre"     // 市投促中心 / 商务局
)

// UnitKinds lists the kinds in display order.
func UnitKinds() []UnitKind { return []UnitKind{UnitCounty, UnitPark, UnitDepartment, UnitCentre} }

// Valid reports whether k is a known kind.
func (k UnitKind) Valid() bool { return slices.Contains(UnitKinds(), k) }

// Unit is a registered unit.
type Unit struct {
	Code UnitCode `json:"code"`
	Name string   `json:"name"`
	Kind UnitKind `json:"kind"`
	// EstablishedOn is when the unit was set up, when it was set up after
	// the ledger began (a new park): rankings and assessments leave it out
	// of periods that ended before it. Zero: it took part from the start
	// (registering a unit dates its entry in the ledger, not its founding).
	EstablishedOn Date `json:"established_on,omitzero"`
}

// Role is what an actor may do (DOMAIN.md "Units, roles, actors"); the table of
// permissions is enforced by the commands layer.
type Role string

const (
	RoleUnitStaff  Role = "unit_staff"
	RoleCentre     Role = "centre"
	RoleLeader     Role = "leader"
	RoleAuditor    Role = "auditor"
	RoleDiscipline Role = "discipline"
	RoleAdmin      Role = "admin"
)

// Roles lists every role.
func Roles() []Role {
	return []Role{RoleUnitStaff, RoleCentre, RoleLeader, RoleAuditor, RoleDiscipline, RoleAdmin}
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// ScopedToUnit reports whether the role acts for one unit only (unit_staff).
func (r Role) ScopedToUnit() bool { return r == RoleUnitStaff }

// Stage is a project's lifecycle stage. Stages move only forward, skipping is
// allowed, terminated is final (DOMAIN.md "The project lifecycle"; the four
// lists of Jiaxing 2024 二(一)1 are negotiating, signed, registered, started).
type Stage string

const (
	StageNone        Stage = "" // no ProjectReported yet
	StageReported    Stage = "reported"
	StageNegotiating Stage = "negotiating"
	StageSigned      Stage = "signed"
	StageRegistered  Stage = "registered"
	StageStarted     Stage = "started"
	StageProducing   Stage = "producing"
	StageTerminated  Stage = "terminated"
)

// Stages lists the stages in lifecycle order, terminated last.
func Stages() []Stage {
	return []Stage{StageReported, StageNegotiating, StageSigned, StageRegistered, StageStarted, StageProducing, StageTerminated}
}

// Order is the stage's position in the lifecycle (reported 1 … producing 6,
// terminated 7, none 0); comparisons of Order implement "never backwards".
func (s Stage) Order() int {
	if i := slices.Index(Stages(), s); i >= 0 {
		return i + 1
	}
	return 0
}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { return s.Order() > 0 }

// Active reports whether the project exists and has not terminated.
func (s Stage) Active() bool { return s.Valid() && s != StageTerminated }

// UnderWay reports whether the project is still on its way to production:
// reported through started. Changsha 十三 supervises "在谈、签约、开工、建成
// 全过程" — the road to completion; a producing project has arrived, and has
// no further progress for the stale rule to wait for.
func (s Stage) UnderWay() bool { return s.Active() && s != StageProducing }

// Signed reports whether the project has been signed (signed or any later
// non-terminal stage).
func (s Stage) Signed() bool { return s.Order() >= StageSigned.Order() && s != StageTerminated }

// InFourLists reports whether the stage is one of Jiaxing 2024 二(一)1's four
// lists 在谈、签约、注册(备案)、开工.
func (s Stage) InFourLists() bool {
	return s == StageNegotiating || s == StageSigned || s == StageRegistered || s == StageStarted
}

// Category classifies an investor (used for fortune500_projects and filters).
type Category string

const (
	CategoryFortuneGlobal500 Category = "fortune_global_500" // 世界500强
	CategoryChina500         Category = "china_500"          // 中国500强
	CategoryPrivate500       Category = "private_500"        // 民营企业500强
	CategoryCentralSOE       Category = "central_soe"        // 央企
	CategoryForeign          Category = "foreign"            // 外资
	CategoryHeadquarters     Category = "headquarters"       // 总部型
	CategorySpecializedSME   Category = "specialized_sme"    // 专精特新
	CategoryUnicorn          Category = "unicorn"            // 独角兽
)

// Categories lists the investor categories.
func Categories() []Category {
	return []Category{CategoryFortuneGlobal500, CategoryChina500, CategoryPrivate500, CategoryCentralSOE,
		CategoryForeign, CategoryHeadquarters, CategorySpecializedSME, CategoryUnicorn}
}

// Valid reports whether c is a known category.
func (c Category) Valid() bool { return slices.Contains(Categories(), c) }

// SourceChannel is how the lead came in (Jiaxing 2024 二(二)4–9; Suzhou 三(四);
// Xiamen 二(七)).
type SourceChannel string

const (
	ChannelBusinessLed    SourceChannel = "business_led"    // 以商招商
	ChannelFund           SourceChannel = "fund"            // 基金招商
	ChannelIntermediary   SourceChannel = "intermediary"    // 中介招商
	ChannelExhibition     SourceChannel = "exhibition"      // 展会
	ChannelResidentOffice SourceChannel = "resident_office" // 驻外招商
	ChannelCommissioned   SourceChannel = "commissioned"    // 委托招商
	ChannelOnline         SourceChannel = "online"          // 屏对屏、线连线 (Suzhou 三(一))
	ChannelOther          SourceChannel = "other"
)

// SourceChannels lists the channels.
func SourceChannels() []SourceChannel {
	return []SourceChannel{ChannelBusinessLed, ChannelFund, ChannelIntermediary, ChannelExhibition,
		ChannelResidentOffice, ChannelCommissioned, ChannelOnline, ChannelOther}
}

// Valid reports whether c is a known channel.
func (c SourceChannel) Valid() bool { return slices.Contains(SourceChannels(), c) }

// LeaderLevel is the most senior leader at a negotiation round (Jiaxing 2024
// 二(一)1 突出“一把手”招商).
type LeaderLevel string

const (
	LeaderPrincipal  LeaderLevel = "principal"  // 主要领导
	LeaderDeputy     LeaderLevel = "deputy"     // 分管领导
	LeaderDepartment LeaderLevel = "department" // 部门
)

// LeaderLevels lists the levels, most senior first.
func LeaderLevels() []LeaderLevel {
	return []LeaderLevel{LeaderPrincipal, LeaderDeputy, LeaderDepartment}
}

// Valid reports whether l is a known level.
func (l LeaderLevel) Valid() bool { return slices.Contains(LeaderLevels(), l) }

// DueProcessKind is one of the three steps Jiaxing 2024 三(四) requires before
// tolerance applies: 科学论证、风险评估、集体决策.
type DueProcessKind string

const (
	DueFeasibilityStudy   DueProcessKind = "feasibility_study"
	DueRiskAssessment     DueProcessKind = "risk_assessment"
	DueCollectiveDecision DueProcessKind = "collective_decision"
)

// DueProcessKinds lists the three kinds.
func DueProcessKinds() []DueProcessKind {
	return []DueProcessKind{DueFeasibilityStudy, DueRiskAssessment, DueCollectiveDecision}
}

// Valid reports whether k is a known kind.
func (k DueProcessKind) Valid() bool { return slices.Contains(DueProcessKinds(), k) }

// TerminationKind is how a project ended. The first three are the situations
// Jiaxing 2024 三(四) names for fault tolerance.
type TerminationKind string

const (
	TermNegotiationEnded TerminationKind = "negotiation_ended"  // 洽谈终止
	TermBuiltNotInvested TerminationKind = "built_not_invested" // 建而未投
	TermBelowExpectation TerminationKind = "below_expectation"  // 投而未达预期
	TermWithdrawn        TerminationKind = "withdrawn"
)

// TerminationKinds lists the kinds.
func TerminationKinds() []TerminationKind {
	return []TerminationKind{TermNegotiationEnded, TermBuiltNotInvested, TermBelowExpectation, TermWithdrawn}
}

// Valid reports whether k is a known kind.
func (k TerminationKind) Valid() bool { return slices.Contains(TerminationKinds(), k) }

// ToleranceRelevant reports whether the kind is one Jiaxing 2024 三(四) names
// (洽谈终止、建而未投、投而未达预期).
func (k TerminationKind) ToleranceRelevant() bool {
	return k == TermNegotiationEnded || k == TermBuiltNotInvested || k == TermBelowExpectation
}

// AllowedFrom reports whether a project in stage s can end this way. A
// negotiation can only end before signing; "built but not invested" needs a
// signed project that has not reached production; "invested below expectation"
// needs a signed project; withdrawal is possible at any active stage.
func (k TerminationKind) AllowedFrom(s Stage) bool {
	switch k {
	case TermNegotiationEnded:
		return s == StageReported || s == StageNegotiating
	case TermBuiltNotInvested:
		return s == StageSigned || s == StageRegistered || s == StageStarted
	case TermBelowExpectation:
		return s.Signed()
	case TermWithdrawn:
		return s.Active()
	}
	return false
}

// TerminationCause is why it ended. The first three are the objective causes of
// Jiaxing 2024 三(四) (国家政策调整、市场变化、不可抗力).
type TerminationCause string

const (
	CausePolicyChange     TerminationCause = "policy_change"
	CauseMarketChange     TerminationCause = "market_change"
	CauseForceMajeure     TerminationCause = "force_majeure"
	CauseInvestorDecision TerminationCause = "investor_decision"
	CauseSubjectiveFault  TerminationCause = "subjective_fault"
	CauseOther            TerminationCause = "other"
)

// TerminationCauses lists the causes.
func TerminationCauses() []TerminationCause {
	return []TerminationCause{CausePolicyChange, CauseMarketChange, CauseForceMajeure,
		CauseInvestorDecision, CauseSubjectiveFault, CauseOther}
}

// Valid reports whether c is a known cause.
func (c TerminationCause) Valid() bool { return slices.Contains(TerminationCauses(), c) }

// Objective reports whether the cause is one of Jiaxing 2024 三(四)'s objective
// factors.
func (c TerminationCause) Objective() bool {
	return c == CausePolicyChange || c == CauseMarketChange || c == CauseForceMajeure
}

// FundSource is where arrived funds came from (Suzhou 一: 省外资金; Jiaxing 实际利用外资).
type FundSource string

const (
	FundsDomestic      FundSource = "domestic"
	FundsForeign       FundSource = "foreign"
	FundsOutOfProvince FundSource = "out_of_province"
)

// FundSources lists the sources.
func FundSources() []FundSource { return []FundSource{FundsDomestic, FundsForeign, FundsOutOfProvince} }

// Valid reports whether f is a known source.
func (f FundSource) Valid() bool { return slices.Contains(FundSources(), f) }

// AgreementKind is the kind of signed agreement.
type AgreementKind string

const (
	AgreementFramework AgreementKind = "framework" // 框架协议
	AgreementFormal    AgreementKind = "formal"    // 正式合同
)

// AgreementKinds lists the kinds.
func AgreementKinds() []AgreementKind { return []AgreementKind{AgreementFramework, AgreementFormal} }

// Valid reports whether a is a known kind.
func (a AgreementKind) Valid() bool { return slices.Contains(AgreementKinds(), a) }

// ToleranceDecision is the discipline commission's ruling (免责 / 减责 / 不予).
type ToleranceDecision string

const (
	DecisionExempt   ToleranceDecision = "exempt"
	DecisionReduced  ToleranceDecision = "reduced"
	DecisionRejected ToleranceDecision = "rejected"
)

// ToleranceDecisions lists the decisions.
func ToleranceDecisions() []ToleranceDecision {
	return []ToleranceDecision{DecisionExempt, DecisionReduced, DecisionRejected}
}

// Valid reports whether d is a known decision.
func (d ToleranceDecision) Valid() bool { return slices.Contains(ToleranceDecisions(), d) }

// Indicator is a countable result a target, an assessment weight or a ranking
// weight refers to. Money indicators are whole yuan (CNY), others counts.
type Indicator string

const (
	IndSigned100m         Indicator = "signed_100m"           // signed projects ≥ ¥1亿
	IndSigned1b           Indicator = "signed_1b"             // ≥ ¥10亿
	IndSigned5b           Indicator = "signed_5b"             // ≥ ¥50亿
	IndSigned10b          Indicator = "signed_10b"            // ≥ ¥100亿
	IndSignedUSD100m      Indicator = "signed_usd100m"        // 总投资超亿美元
	IndFortune500Projects Indicator = "fortune500_projects"   // 世界500强投资项目
	IndContractInvestment Indicator = "contract_investment"   // 合同投资额 (yuan)
	IndFundsArrived       Indicator = "funds_arrived"         // 资金到位 (yuan)
	IndStartedProjects    Indicator = "started_projects"      // 开工项目
	IndOutOfProvinceFunds Indicator = "out_of_province_funds" // 省外资金 (yuan, Suzhou 一)
)

// Indicators lists the known indicators.
func Indicators() []Indicator {
	return []Indicator{IndSigned100m, IndSigned1b, IndSigned5b, IndSigned10b, IndSignedUSD100m,
		IndFortune500Projects, IndContractInvestment, IndFundsArrived, IndStartedProjects, IndOutOfProvinceFunds}
}

// Valid reports whether i is a known indicator.
func (i Indicator) Valid() bool { return slices.Contains(Indicators(), i) }

// Monetary reports whether the indicator is an amount in yuan rather than a count.
func (i Indicator) Monetary() bool {
	return i == IndContractInvestment || i == IndFundsArrived || i == IndOutOfProvinceFunds
}

// Rating is an assessment grade (Jiaxing 2024 三(一) 优秀等次).
type Rating string

const (
	RatingExcellent Rating = "excellent"
	RatingGood      Rating = "good"
	RatingPass      Rating = "pass"
	RatingFail      Rating = "fail"
)

// Assessment flags.
const (
	FlagAdmonish        = "admonish"         // 提醒谈话、责令整改 (Jiaxing 2024 三(一))
	FlagExcellentCapped = "excellent_capped" // score in the excellent band, completion < 70%
	FlagNoTargets       = "no_targets"       // no target with a weight: completion undefined
)

// checkText validates a free-text field: valid UTF-8, no control characters
// other than newline and tab, at most max runes. Chinese text is welcome.
func checkText(v *validator, field, s string, required bool, max int) {
	if strings.TrimSpace(s) == "" {
		if required {
			v.add(field, "required", "is required")
		}
		return
	}
	if !utf8.ValidString(s) {
		v.add(field, "encoding", "is not valid UTF-8")
		return
	}
	if utf8.RuneCountInString(s) > max {
		v.add(field, "too_long", "has more than %d characters", max)
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			v.add(field, "control_character", "contains a control character")
			return
		}
	}
}

// Text length limits, generous for Chinese prose.
const (
	maxName    = 200
	maxShort   = 500
	maxSummary = 10000
)
