package api

import (
	"math"
	"strings"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// The tables the exports (format=csv|xlsx) write: Chinese headers for the
// people who open them, amounts in 万元 (万美元 for dollar amounts, in their
// own column: a conversion would be a rule, and the ledger keeps both
// currencies exact), ratios as fractions a spreadsheet shows as percentages.

var stageNames = map[domain.Stage]string{
	domain.StageReported:    "入库",
	domain.StageNegotiating: "在谈",
	domain.StageSigned:      "签约",
	domain.StageRegistered:  "注册(备案)",
	domain.StageStarted:     "开工",
	domain.StageProducing:   "投产",
	domain.StageTerminated:  "终止",
}

var unitKindNames = map[domain.UnitKind]string{
	domain.UnitCounty:     "县市区",
	domain.UnitPark:       "开发区(园区)",
	domain.UnitDepartment: "市直部门",
	domain.UnitCentre:     "市投促中心",
}

var ratingNames = map[domain.Rating]string{
	domain.RatingExcellent: "优秀",
	domain.RatingGood:      "良好",
	domain.RatingPass:      "合格",
	domain.RatingFail:      "不合格",
}

var flagNames = map[string]string{
	domain.FlagAdmonish:        "提醒谈话",
	domain.FlagExcellentCapped: "完成率不足70%不得评优",
	domain.FlagNoTargets:       "未下达目标",
}

var alertNames = map[string]string{
	domain.AlertExclusivityExpiring: "首谈期即将届满",
	domain.AlertExclusivityLapsed:   "首谈期届满未洽谈",
	domain.AlertSigningNotFiled:     "重大签约未提前报备",
	domain.AlertRegistrationOverdue: "注册逾期",
	domain.AlertStartOverdue:        "开工逾期",
	domain.AlertFundsBehind:         "资金到位滞后",
	domain.AlertStale:               "超期未推进",
	domain.AlertLateRecord:          "补录",
	domain.AlertOrderOverdue:        "督办逾期",
	domain.AlertExclusivityConflict: "首报首谈冲突",
}

var orderStatusNames = map[string]string{
	"open":    "办理中",
	"overdue": "已逾期",
	"closed":  "已办结",
}

// indicatorColumn is an indicator's column: counts (个) or amounts (万元).
type indicatorColumn struct {
	ind    domain.Indicator
	header string
}

var indicatorColumns = []indicatorColumn{
	{domain.IndSigned100m, "签约亿元以上项目"},
	{domain.IndSigned1b, "签约10亿元以上项目"},
	{domain.IndSigned5b, "签约50亿元以上项目"},
	{domain.IndSigned10b, "签约100亿元以上项目"},
	{domain.IndSignedUSD100m, "签约超亿美元项目"},
	{domain.IndFortune500Projects, "世界500强项目"},
	{domain.IndContractInvestment, "合同投资额"},
	{domain.IndFundsArrived, "到位资金"},
	{domain.IndStartedProjects, "开工项目"},
	{domain.IndOutOfProvinceFunds, "省外资金"},
}

func (ic indicatorColumn) column() Column {
	if ic.ind.Monetary() {
		return Column{Header: ic.header, Kind: KindMoneyWan}
	}
	// Counts are numbers, not integers: a transferred project shared
	// between two units (transfer_credit shared) counts a fraction to each.
	return Column{Header: ic.header, Kind: KindNumber, Unit: "个"}
}

// cell is the value of an indicator: whole yuan for an amount (a shared
// credit can leave a fraction of a yuan, rounded here), the count otherwise.
func (ic indicatorColumn) cell(x float64) any {
	if ic.ind.Monetary() {
		return int64(math.Round(x))
	}
	return x
}

// moneyIn is m's amount when it is in currency cur, else an empty cell.
func moneyIn(m *domain.Money, cur domain.Currency) any {
	if m == nil || m.Currency != cur {
		return nil
	}
	return m.Amount
}

func dateCell(d *domain.Date) any {
	if d == nil {
		return nil
	}
	return d.String()
}

func (h *handlers) timeText(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.In(h.s.Location()).Format("2006-01-02 15:04")
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

func (h *handlers) unitNames() map[domain.UnitCode]string {
	out := map[domain.UnitCode]string{}
	for _, u := range h.d.Views.Units().Items {
		out[u.Code] = u.Name
	}
	return out
}

func (h *handlers) projectTable(rows []ProjectSummary) Table {
	names := h.unitNames()
	t := Table{Sheet: "项目", Columns: []Column{
		{Header: "项目ID"}, {Header: "项目名称"}, {Header: "阶段"}, {Header: "当前单位"}, {Header: "首谈单位"},
		{Header: "投资方"}, {Header: "统一社会信用代码"}, {Header: "产业链"},
		{Header: "计划投资", Kind: KindMoneyWan}, {Header: "计划投资", Kind: KindMoneyWan, Unit: "万美元"},
		{Header: "签约投资", Kind: KindMoneyWan}, {Header: "签约投资", Kind: KindMoneyWan, Unit: "万美元"},
		{Header: "投资等级"}, {Header: "超亿美元"}, {Header: "到位资金", Kind: KindMoneyWan},
		{Header: "入库日期", Kind: KindDate}, {Header: "签约日期", Kind: KindDate}, {Header: "注册日期", Kind: KindDate},
		{Header: "开工日期", Kind: KindDate}, {Header: "投产日期", Kind: KindDate}, {Header: "终止日期", Kind: KindDate},
		{Header: "版本", Kind: KindInt},
	}}
	for _, p := range rows {
		var tier any
		if p.Tier != nil {
			tier = tierNames[*p.Tier]
		}
		unit := func(u domain.UnitCode) string {
			if n := names[u]; n != "" {
				return n + "(" + string(u) + ")"
			}
			return string(u)
		}
		t.Rows = append(t.Rows, []any{
			p.ID, p.Name, stageNames[p.Stage], unit(p.Unit), unit(p.FirstUnit),
			p.Investor.Name, p.Investor.USCC, p.IndustryChain,
			moneyIn(&p.PlannedInvestment, domain.CNY), moneyIn(&p.PlannedInvestment, domain.USD),
			moneyIn(p.ContractInvestment, domain.CNY), moneyIn(p.ContractInvestment, domain.USD),
			tier, yesNo(p.USD100m), moneyIn(&p.FundsArrived, domain.CNY),
			dateCell(p.ReportedAt), dateCell(p.SignedAt), dateCell(p.RegisteredAt),
			dateCell(p.StartedAt), dateCell(p.ProducingAt), dateCell(p.TerminatedAt),
			p.Version,
		})
	}
	return t
}

var tierNames = map[domain.Tier]string{
	domain.Tier100m: "亿元以上",
	domain.Tier1b:   "10亿元以上",
	domain.Tier5b:   "50亿元以上",
	domain.Tier10b:  "100亿元以上",
}

func rankingTable(r Ranking) Table {
	t := Table{Sheet: "晾晒排名 " + r.Period, Columns: []Column{
		{Header: "排名", Kind: KindInt}, {Header: "单位代码"}, {Header: "单位名称"}, {Header: "单位类别"},
		{Header: "得分", Kind: KindNumber},
	}}
	for _, ic := range indicatorColumns {
		t.Columns = append(t.Columns, ic.column())
	}
	t.Columns = append(t.Columns, Column{Header: "名次变化", Kind: KindInt})
	for _, it := range r.Items {
		row := []any{it.Rank, string(it.Unit), it.UnitName, unitKindNames[it.Kind], it.Score}
		for _, ic := range indicatorColumns {
			row = append(row, ic.cell(it.Indicators[ic.ind]))
		}
		var change any
		if it.Change != nil {
			change = *it.Change
		}
		t.Rows = append(t.Rows, append(row, change))
	}
	return t
}

func assessmentTable(a Assessment) Table {
	// Completion columns for the indicators any unit has a target on, in
	// the indicators' order.
	var inds []indicatorColumn
	for _, ic := range indicatorColumns {
		for _, it := range a.Items {
			if _, ok := it.Completion[string(ic.ind)]; ok {
				inds = append(inds, ic)
				break
			}
		}
	}
	t := Table{Sheet: "年度考核 " + itoa(a.Year), Columns: []Column{
		{Header: "排名", Kind: KindInt}, {Header: "单位代码"}, {Header: "单位名称"}, {Header: "单位类别"},
		{Header: "得分", Kind: KindNumber}, {Header: "等次"}, {Header: "总体完成率", Kind: KindRatio},
	}}
	for _, ic := range inds {
		t.Columns = append(t.Columns, Column{Header: ic.header + "完成率", Kind: KindRatio})
	}
	t.Columns = append(t.Columns, Column{Header: "加分", Kind: KindNumber}, Column{Header: "扣分", Kind: KindNumber},
		Column{Header: "标记"}, Column{Header: "已发布"})
	for _, it := range a.Items {
		var overall any
		if x, ok := it.Completion["overall"]; ok {
			overall = x
		}
		row := []any{it.Rank, string(it.Unit), it.UnitName, unitKindNames[it.Kind], it.Score, ratingNames[it.Rating], overall}
		for _, ic := range inds {
			var x any
			if v, ok := it.Completion[string(ic.ind)]; ok {
				x = v
			}
			row = append(row, x)
		}
		flags := make([]string, len(it.Flags))
		for i, f := range it.Flags {
			if n := flagNames[f]; n != "" {
				flags[i] = n
			} else {
				flags[i] = f
			}
		}
		t.Rows = append(t.Rows, append(row, it.Bonus, it.Deductions, strings.Join(flags, "、"), yesNo(a.Published)))
	}
	return t
}

func (h *handlers) alertTable(rows []Alert) Table {
	names := h.unitNames()
	t := Table{Sheet: "督办预警", Columns: []Column{
		{Header: "预警类型"}, {Header: "单位代码"}, {Header: "单位名称"}, {Header: "项目ID"}, {Header: "督办编号"},
		{Header: "起始时间"}, {Header: "说明"},
	}}
	for _, a := range rows {
		kind := alertNames[a.Kind]
		if kind == "" {
			kind = a.Kind
		}
		since := a.Since
		t.Rows = append(t.Rows, []any{kind, string(a.Unit), names[a.Unit], a.ProjectID, a.OrderID, h.timeText(&since), a.Detail})
	}
	return t
}

func (h *handlers) orderTable(rows []Order) Table {
	names := h.unitNames()
	t := Table{Sheet: "督办事项", Columns: []Column{
		{Header: "编号"}, {Header: "项目ID"}, {Header: "事项"}, {Header: "目标任务"}, {Header: "牵头领导"},
		{Header: "责任单位"}, {Header: "工作要求"}, {Header: "办结时限", Kind: KindDate}, {Header: "状态"},
		{Header: "下达时间"}, {Header: "进展报告", Kind: KindInt, Unit: "次"}, {Header: "办结时间"}, {Header: "办结结果"},
	}}
	for _, o := range rows {
		unit := string(o.ResponsibleUnit)
		if n := names[o.ResponsibleUnit]; n != "" {
			unit = n + "(" + unit + ")"
		}
		var result any
		if o.Result != nil {
			result = *o.Result
		}
		issued := o.IssuedAt
		t.Rows = append(t.Rows, []any{o.ID, o.ProjectID, o.Matter, o.Target, o.LeadLeader, unit, o.Requirements,
			o.Deadline.String(), orderStatusNames[o.Status], h.timeText(&issued), len(o.Progress), h.timeText(o.ClosedAt), result})
	}
	return t
}

func ratesTable(r Rates) Table {
	t := Table{Sheet: "三率 " + itoa(r.Year), Columns: []Column{
		{Header: "单位代码"}, {Header: "单位名称"},
		{Header: "应履约项目", Kind: KindInt, Unit: "个"}, {Header: "按期履约项目", Kind: KindInt, Unit: "个"}, {Header: "履约率", Kind: KindRatio},
		{Header: "签约项目", Kind: KindInt, Unit: "个"}, {Header: "已开工项目", Kind: KindInt, Unit: "个"}, {Header: "开工率", Kind: KindRatio},
		{Header: "合同投资额", Kind: KindMoneyWan}, {Header: "到位资金", Kind: KindMoneyWan}, {Header: "资金到位率", Kind: KindRatio},
	}}
	ratio := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	for _, it := range r.Items {
		t.Rows = append(t.Rows, []any{string(it.Unit), it.UnitName,
			it.Fulfilment.Denominator, it.Fulfilment.Numerator, ratio(it.Fulfilment.Rate),
			it.Start.Denominator, it.Start.Numerator, ratio(it.Start.Rate),
			moneyIn(&it.Funds.Denominator, domain.CNY), moneyIn(&it.Funds.Numerator, domain.CNY), ratio(it.Funds.Rate)})
	}
	return t
}
