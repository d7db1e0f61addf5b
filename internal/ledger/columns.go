package ledger

import (
	"strings"
	"unicode"

	"github.com/zhaoshang/zhaoshang/domain"
)

// kind is how a column's cells are read.
type kind uint8

const (
	kindText kind = iota
	kindDate
	kindAmount // a decimal number of 万 (ten thousand) of the row's currency
	kindChoice // one of the column's vocabulary
	kindList   // several of the column's vocabulary
	kindUSCC
	kindUnit
)

// Column describes one column of the ledger sheet: its Chinese header (the
// one the template carries), its English alias, and what it holds. Either
// name is accepted as a header, ignoring spaces, case and full-width forms
// (so "计划投资（万元）" and "planned_investment" both name the same column).
type Column struct {
	Key     string // stable internal name, also the English alias
	Zh      string // the header the template carries
	Aliases []string
	// Required: the header must be present (the cell may still be empty
	// when the stage does not need it; the rules say when it must be filled).
	Required bool
	kind     kind
	// Values are the accepted words of a choice or list column, Chinese
	// first; the template offers them as a drop-down list.
	Values []string
	// HelpZh and HelpEn say what the column holds and when it must be
	// filled (the template's 填写说明 sheet and docs/import.md).
	HelpZh, HelpEn string
	// Example is the template's example row.
	Example string
}

// Label is "签约日期 (signed_on)", how the report names a column.
func (c *Column) Label() string { return c.Zh + " (" + c.Key + ")" }

// The columns, in template order.
const (
	colExternalID       = "external_id"
	colName             = "name"
	colInvestor         = "investor"
	colUSCC             = "investor_uscc"
	colCategories       = "investor_categories"
	colOrigin           = "investor_origin"
	colChain            = "industry_chain"
	colPlanned          = "planned_investment"
	colCurrency         = "currency"
	colUnit             = "unit"
	colChannel          = "source_channel"
	colReferrer         = "referrer"
	colLead             = "lead_official"
	colStage            = "stage"
	colReportedOn       = "reported_on"
	colNegotiatedOn     = "first_negotiation_on"
	colLeaderLevel      = "leader_level"
	colSignedOn         = "signed_on"
	colContract         = "contract_investment"
	colAgreement        = "agreement"
	colRegisteredOn     = "registered_on"
	colCompanyUSCC      = "company_uscc"
	colStartedOn        = "started_on"
	colPermitNo         = "permit_no"
	colProducingOn      = "producing_on"
	colFunds            = "funds_arrived"
	colFundsOn          = "funds_as_of"
	colFundsSource      = "funds_source"
	colTerminatedOn     = "terminated_on"
	colTerminationKind  = "termination_kind"
	colTerminationCause = "termination_cause"
	colTerminationNote  = "termination_explanation"
	colNote             = "note"
)

var columns = []*Column{
	{Key: colExternalID, Zh: "项目编号", Aliases: []string{"编号", "项目代码", "id"}, kind: kindText,
		HelpZh:  "台账中的项目编号，在本单位内唯一；重复导入时据此识别同一项目（强烈建议填写）",
		HelpEn:  "the project's number in the unit's ledger, unique within the unit; re-imports recognise the project by it (strongly recommended)",
		Example: "NH-2025-017"},
	{Key: colName, Zh: "项目名称", Required: true, kind: kindText,
		HelpZh: "必填", HelpEn: "required", Example: "年产10GW高效光伏组件项目"},
	{Key: colInvestor, Zh: "投资方", Aliases: []string{"投资主体", "投资方名称", "investor_name"}, Required: true, kind: kindText,
		HelpZh: "必填，投资企业全称", HelpEn: "required, the investor's full name", Example: "浙江嘉禾光能科技有限公司"},
	{Key: colUSCC, Zh: "统一社会信用代码", Aliases: []string{"投资方统一社会信用代码", "uscc"}, kind: kindUSCC,
		HelpZh:  "投资方的18位统一社会信用代码，填写时校验校验位；首报首谈优先按代码识别同一投资方",
		HelpEn:  "the investor's 18-character unified social credit code, check character verified; 首报首谈 identifies investors by it first",
		Example: "91330400MA2B3C4D56"},
	{Key: colCategories, Zh: "投资方类别", Aliases: []string{"企业类别", "categories"}, kind: kindList,
		Values:  []string{"世界500强", "中国500强", "民营企业500强", "央企", "外资", "总部型", "专精特新", "独角兽"},
		HelpZh:  "可填多项，用顿号、逗号或分号分隔",
		HelpEn:  "one or more, separated by 、 , or ;",
		Example: "民营企业500强、专精特新"},
	{Key: colOrigin, Zh: "投资方来源地", Aliases: []string{"来源地", "origin"}, kind: kindText,
		HelpZh: "省市或国家（地区）", HelpEn: "province, city or country", Example: "江苏苏州"},
	{Key: colChain, Zh: "产业链", Aliases: []string{"所属产业链", "产业", "chain"}, Required: true, kind: kindText,
		HelpZh: "必填，如光伏新能源、新能源汽车、化工新材料", HelpEn: "required, e.g. 光伏新能源, 新能源汽车, 化工新材料", Example: "光伏新能源"},
	{Key: colPlanned, Zh: "计划投资(万元)", Aliases: []string{"计划投资", "计划总投资(万元)", "总投资(万元)", "planned_investment_10k"}, Required: true, kind: kindAmount,
		HelpZh: "必填，以万为单位的数字（币种为美元时为万美元），最多4位小数",
		HelpEn: "required, a number in 万 (10,000) of the currency (万美元 for USD), at most 4 decimals", Example: "250000"},
	{Key: colCurrency, Zh: "币种", Aliases: []string{"货币"}, kind: kindChoice, Values: []string{"人民币", "美元"},
		HelpZh: "人民币或美元，不填为人民币；计划投资、合同投资、到位资金均按此币种",
		HelpEn: "人民币 (CNY, the default) or 美元 (USD); planned, contract and funds amounts are in it", Example: "人民币"},
	{Key: colUnit, Zh: "所属单位", Aliases: []string{"单位", "责任单位", "unit_code"}, Required: true, kind: kindUnit,
		HelpZh: "必填，已登记单位的代码（如 nanhu）或名称（如 南湖区）", HelpEn: "required, a registered unit's code (nanhu) or name (南湖区)", Example: "南湖区"},
	{Key: colChannel, Zh: "来源渠道", Aliases: []string{"招商方式", "channel"}, kind: kindChoice,
		Values: []string{"以商招商", "基金招商", "中介招商", "展会招商", "驻外招商", "委托招商", "线上招商", "其他"},
		HelpZh: "选填", HelpEn: "optional", Example: "以商招商"},
	{Key: colReferrer, Zh: "引荐人", Aliases: []string{"引荐单位"}, kind: kindText, HelpZh: "选填", HelpEn: "optional", Example: "嘉兴市驻上海招商联络处"},
	{Key: colLead, Zh: "责任领导", Aliases: []string{"牵头领导", "lead"}, kind: kindText, HelpZh: "选填", HelpEn: "optional", Example: "王建国（副区长）"},
	{Key: colStage, Zh: "当前阶段", Aliases: []string{"项目阶段", "阶段", "进展阶段"}, Required: true, kind: kindChoice,
		Values:  []string{"入库", "在谈", "签约", "注册", "开工", "投产", "终止"},
		HelpZh:  "必填：入库、在谈、签约、注册（备案）、开工、投产、终止；决定导入哪些事实，后续阶段的日期必须填写",
		HelpEn:  "required: reported, negotiating, signed, registered, started, producing or terminated; it decides which facts are imported, and the dates of the stages reached must be filled",
		Example: "开工"},
	{Key: colReportedOn, Zh: "入库日期", Aliases: []string{"报备日期", "reported_at"}, Required: true, kind: kindDate,
		HelpZh: "必填，项目入库（首报）日期", HelpEn: "required, the date the project was entered (first reported)", Example: "2025-03-12"},
	{Key: colNegotiatedOn, Zh: "首次洽谈日期", Aliases: []string{"洽谈日期", "first_negotiation"}, kind: kindDate,
		HelpZh: "在谈及以后阶段可填；在谈阶段不填时取入库日期", HelpEn: "for negotiating and later; a negotiating row without it uses the report date", Example: "2025-03-20"},
	{Key: colLeaderLevel, Zh: "洽谈领导层级", Aliases: []string{"洽谈领导"}, kind: kindChoice, Values: []string{"主要领导", "分管领导", "部门"},
		HelpZh: "首次洽谈的最高领导层级，不填为部门", HelpEn: "the most senior leader at the first negotiation; default 部门 (department)", Example: "主要领导"},
	{Key: colSignedOn, Zh: "签约日期", Aliases: []string{"签约时间"}, kind: kindDate,
		HelpZh: "签约及以后阶段必填", HelpEn: "required from signed on", Example: "2025-06-18"},
	{Key: colContract, Zh: "合同投资(万元)", Aliases: []string{"合同投资", "签约投资(万元)", "协议投资(万元)", "contract_investment_10k"}, kind: kindAmount,
		HelpZh: "签约及以后阶段必填，单位同计划投资", HelpEn: "required from signed on, in the same 万 as the planned investment", Example: "260000"},
	{Key: colAgreement, Zh: "协议类型", Aliases: []string{"合同类型"}, kind: kindChoice, Values: []string{"正式合同", "框架协议"},
		HelpZh: "不填为正式合同", HelpEn: "default 正式合同 (formal)", Example: "正式合同"},
	{Key: colRegisteredOn, Zh: "注册日期", Aliases: []string{"注册(备案)日期", "备案日期"}, kind: kindDate,
		HelpZh: "注册阶段必填，开工、投产阶段可填", HelpEn: "required at registered, optional after", Example: "2025-07-25"},
	{Key: colCompanyUSCC, Zh: "项目公司统一社会信用代码", Aliases: []string{"项目公司信用代码", "公司统一社会信用代码"}, kind: kindUSCC,
		HelpZh: "填写注册日期时必填", HelpEn: "required with a registration date", Example: "91330402MA2J8K9L1M"},
	{Key: colStartedOn, Zh: "开工日期", Aliases: []string{"开工时间"}, kind: kindDate,
		HelpZh: "开工阶段必填，投产阶段可填", HelpEn: "required at started, optional at producing", Example: "2025-10-09"},
	{Key: colPermitNo, Zh: "施工许可证号", Aliases: []string{"施工许可证编号"}, kind: kindText, HelpZh: "选填", HelpEn: "optional", Example: "330402202510090101"},
	{Key: colProducingOn, Zh: "投产日期", Aliases: []string{"投产时间"}, kind: kindDate,
		HelpZh: "投产阶段必填", HelpEn: "required at producing", Example: ""},
	{Key: colFunds, Zh: "到位资金(万元)", Aliases: []string{"到位资金", "累计到位资金(万元)", "funds_arrived_10k"}, kind: kindAmount,
		HelpZh:  "截至资金到位日期的累计到位资金，签约后才可填；重复导入时只补记增加的部分",
		HelpEn:  "cumulative funds arrived as of the funds date, only once signed; a re-import records only the increase",
		Example: "80000"},
	{Key: colFundsOn, Zh: "资金到位日期", Aliases: []string{"到位资金截至日期", "funds_on"}, kind: kindDate,
		HelpZh: "不填取最近一个阶段的日期", HelpEn: "default: the date of the latest stage reached", Example: "2025-11-30"},
	{Key: colFundsSource, Zh: "资金来源", kind: kindChoice, Values: []string{"境内", "境外", "省外"},
		HelpZh: "不填时美元为境外、人民币为境内", HelpEn: "default 境外 (foreign) for USD, 境内 (domestic) for CNY", Example: "省外"},
	{Key: colTerminatedOn, Zh: "终止日期", kind: kindDate, HelpZh: "终止阶段必填", HelpEn: "required at terminated", Example: ""},
	{Key: colTerminationKind, Zh: "终止类型", kind: kindChoice, Values: []string{"洽谈终止", "建而未投", "投而未达预期", "撤回"},
		HelpZh: "终止阶段必填；洽谈终止只适用于未签约项目，建而未投、投而未达预期只适用于已签约项目",
		HelpEn: "required at terminated; 洽谈终止 only before signing, 建而未投 and 投而未达预期 only after", Example: ""},
	{Key: colTerminationCause, Zh: "终止原因", kind: kindChoice, Values: []string{"国家政策调整", "市场变化", "不可抗力", "投资方决策", "主观过错", "其他"},
		HelpZh: "终止阶段必填", HelpEn: "required at terminated", Example: ""},
	{Key: colTerminationNote, Zh: "终止说明", Aliases: []string{"终止情况说明"}, kind: kindText,
		HelpZh: "终止阶段必填", HelpEn: "required at terminated", Example: ""},
	{Key: colNote, Zh: "备注", Aliases: []string{"remarks"}, kind: kindText, HelpZh: "不导入；以“示例行”开头的行整行跳过",
		HelpEn: "not imported; a row whose note starts with 示例行 (example row) is skipped", Example: exampleNote},
}

// Columns lists the sheet's columns in template order.
func Columns() []Column {
	out := make([]Column, len(columns))
	for i, c := range columns {
		out[i] = *c
	}
	return out
}

var columnByKey = func() map[string]*Column {
	m := map[string]*Column{}
	for _, c := range columns {
		m[c.Key] = c
	}
	return m
}()

// headerIndex maps every accepted header spelling, normalised, to its column.
var headerIndex = func() map[string]*Column {
	m := map[string]*Column{}
	for _, c := range columns {
		for _, n := range append([]string{c.Zh, c.Key}, c.Aliases...) {
			m[normHeader(n)] = c
		}
	}
	return m
}()

// normHeader folds a header for matching: full-width forms to ASCII, no
// spaces, no brackets (so 计划投资（万元） = 计划投资(万元) = 计划投资万元),
// no '*' (templates mark required columns with it), lower case.
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\u3000':
			continue
		case r >= '\uFF01' && r <= '\uFF5E':
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) || strings.ContainsRune("()（）[]【】*＊", r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Vocabularies: every accepted word (Chinese, its variants, the API's
// English code) for each choice column, normalised with normHeader.
var (
	stageWords = map[string]domain.Stage{
		"入库": domain.StageReported, "已入库": domain.StageReported, "线索": domain.StageReported, "reported": domain.StageReported,
		"在谈": domain.StageNegotiating, "洽谈": domain.StageNegotiating, "洽谈中": domain.StageNegotiating, "negotiating": domain.StageNegotiating,
		"签约": domain.StageSigned, "已签约": domain.StageSigned, "signed": domain.StageSigned,
		"注册": domain.StageRegistered, "备案": domain.StageRegistered, "注册备案": domain.StageRegistered, "已注册": domain.StageRegistered, "registered": domain.StageRegistered,
		"开工": domain.StageStarted, "已开工": domain.StageStarted, "在建": domain.StageStarted, "started": domain.StageStarted,
		"投产": domain.StageProducing, "已投产": domain.StageProducing, "运营": domain.StageProducing, "投产运营": domain.StageProducing, "producing": domain.StageProducing,
		"终止": domain.StageTerminated, "已终止": domain.StageTerminated, "terminated": domain.StageTerminated,
	}
	currencyWords = map[string]domain.Currency{
		"人民币": domain.CNY, "元": domain.CNY, "cny": domain.CNY, "rmb": domain.CNY,
		"美元": domain.USD, "usd": domain.USD, "us$": domain.USD, "$": domain.USD,
	}
	categoryWords = map[string]domain.Category{
		"世界500强": domain.CategoryFortuneGlobal500, "fortune_global_500": domain.CategoryFortuneGlobal500,
		"中国500强": domain.CategoryChina500, "中国企业500强": domain.CategoryChina500, "china_500": domain.CategoryChina500,
		"民营企业500强": domain.CategoryPrivate500, "民营500强": domain.CategoryPrivate500, "民企500强": domain.CategoryPrivate500, "private_500": domain.CategoryPrivate500,
		"央企": domain.CategoryCentralSOE, "中央企业": domain.CategoryCentralSOE, "central_soe": domain.CategoryCentralSOE,
		"外资": domain.CategoryForeign, "外资企业": domain.CategoryForeign, "foreign": domain.CategoryForeign,
		"总部型": domain.CategoryHeadquarters, "总部": domain.CategoryHeadquarters, "headquarters": domain.CategoryHeadquarters,
		"专精特新": domain.CategorySpecializedSME, "specialized_sme": domain.CategorySpecializedSME,
		"独角兽": domain.CategoryUnicorn, "unicorn": domain.CategoryUnicorn,
	}
	channelWords = map[string]domain.SourceChannel{
		"以商招商": domain.ChannelBusinessLed, "business_led": domain.ChannelBusinessLed,
		"基金招商": domain.ChannelFund, "fund": domain.ChannelFund,
		"中介招商": domain.ChannelIntermediary, "intermediary": domain.ChannelIntermediary,
		"展会招商": domain.ChannelExhibition, "展会": domain.ChannelExhibition, "exhibition": domain.ChannelExhibition,
		"驻外招商": domain.ChannelResidentOffice, "驻外": domain.ChannelResidentOffice, "resident_office": domain.ChannelResidentOffice,
		"委托招商": domain.ChannelCommissioned, "commissioned": domain.ChannelCommissioned,
		"线上招商": domain.ChannelOnline, "屏对屏": domain.ChannelOnline, "online": domain.ChannelOnline,
		"其他": domain.ChannelOther, "other": domain.ChannelOther,
	}
	leaderWords = map[string]domain.LeaderLevel{
		"主要领导": domain.LeaderPrincipal, "一把手": domain.LeaderPrincipal, "principal": domain.LeaderPrincipal,
		"分管领导": domain.LeaderDeputy, "deputy": domain.LeaderDeputy,
		"部门": domain.LeaderDepartment, "部门负责人": domain.LeaderDepartment, "department": domain.LeaderDepartment,
	}
	agreementWords = map[string]domain.AgreementKind{
		"正式合同": domain.AgreementFormal, "正式协议": domain.AgreementFormal, "合同": domain.AgreementFormal, "formal": domain.AgreementFormal,
		"框架协议": domain.AgreementFramework, "意向协议": domain.AgreementFramework, "framework": domain.AgreementFramework,
	}
	sourceWords = map[string]domain.FundSource{
		"境内": domain.FundsDomestic, "国内": domain.FundsDomestic, "domestic": domain.FundsDomestic,
		"境外": domain.FundsForeign, "外资": domain.FundsForeign, "foreign": domain.FundsForeign,
		"省外": domain.FundsOutOfProvince, "out_of_province": domain.FundsOutOfProvince,
	}
	termKindWords = map[string]domain.TerminationKind{
		"洽谈终止": domain.TermNegotiationEnded, "negotiation_ended": domain.TermNegotiationEnded,
		"建而未投": domain.TermBuiltNotInvested, "built_not_invested": domain.TermBuiltNotInvested,
		"投而未达预期": domain.TermBelowExpectation, "below_expectation": domain.TermBelowExpectation,
		"撤回": domain.TermWithdrawn, "撤销": domain.TermWithdrawn, "withdrawn": domain.TermWithdrawn,
	}
	termCauseWords = map[string]domain.TerminationCause{
		"国家政策调整": domain.CausePolicyChange, "政策调整": domain.CausePolicyChange, "policy_change": domain.CausePolicyChange,
		"市场变化": domain.CauseMarketChange, "market_change": domain.CauseMarketChange,
		"不可抗力": domain.CauseForceMajeure, "force_majeure": domain.CauseForceMajeure,
		"投资方决策": domain.CauseInvestorDecision, "投资方原因": domain.CauseInvestorDecision, "investor_decision": domain.CauseInvestorDecision,
		"主观过错": domain.CauseSubjectiveFault, "subjective_fault": domain.CauseSubjectiveFault,
		"其他": domain.CauseOther, "other": domain.CauseOther,
	}
)

// stageZh names a stage in the sheet's words.
var stageZh = map[domain.Stage]string{
	domain.StageReported: "入库", domain.StageNegotiating: "在谈", domain.StageSigned: "签约",
	domain.StageRegistered: "注册", domain.StageStarted: "开工", domain.StageProducing: "投产", domain.StageTerminated: "终止",
}
