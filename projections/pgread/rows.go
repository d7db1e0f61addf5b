package pgread

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
)

// Row builders: each turns a view's answer into the columns of its table,
// in the order of the DDL.

var (
	projectCols = []string{"id", "seq", "name", "stage", "unit", "first_unit", "investor_name", "investor_uscc", "investor_origin",
		"investor_categories", "industry_chain", "source_channel", "planned_amount", "planned_currency", "contract_amount",
		"contract_currency", "tier", "usd100m", "major", "exclusive_until", "reported_at", "signed_at", "registered_at", "started_at",
		"producing_at", "terminated_at", "funds_arrived", "feasibility_study", "risk_assessment", "collective_decision",
		"termination_kind", "termination_cause", "version", "position"}
	correctionCols = []string{"project_id", "n", "field", "reason", "occurred_at", "position", "affected_years", "flagged_years", "flagged"}
	rankingCols    = []string{"period", "period_kind", "period_from", "period_to", "unit", "unit_name", "unit_kind", "rank", "score",
		"indicators", "change", "policy_version", "position"}
	alertCols      = []string{"kind", "project_id", "order_id", "unit", "since", "detail", "evidence", "evaluated_at"}
	orderCols      = []string{"id", "project_id", "matter", "target", "lead_leader", "responsible_unit", "requirements", "deadline", "issued_at", "status", "progress_reports", "closed_at", "result", "version", "position", "evaluated_at"}
	progressCols   = []string{"order_id", "n", "occurred_at", "summary"}
	rateCols       = []string{"year", "unit", "unit_name", "fulfilment_met", "fulfilment_due", "fulfilment_rate", "started", "signed", "start_rate", "funds_arrived", "contracted", "funds_rate", "policy_version", "position", "evaluated_at"}
	assessmentCols = []string{"year", "unit", "unit_name", "unit_kind", "score", "rating", "completion", "overall", "bonus", "deductions", "rank",
		"flags", "admonish_reasons", "published", "published_at", "policy_version", "position", "current_score", "current_rating", "differs"}
	currentCols    = []string{"year", "unit", "unit_name", "unit_kind", "score", "rating", "completion", "overall", "bonus", "deductions", "rank", "flags", "admonish_reasons", "policy_version", "position"}
	differenceCols = []string{"year", "unit", "fields"}
	yearCorrCols   = []string{"year", "n", "project_id", "field", "reason", "occurred_at", "position"}
	caseCols       = []string{"id", "project_id", "unit", "grounds", "requested_at", "status", "eligible", "checks", "evaluated_at", "decision", "rationale", "decided_by", "decided_at", "version", "position"}
)

func uid(s string) any {
	if s == "" {
		return nil
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return nil
	}
	return u
}

func date(d *domain.Date) any {
	if d == nil {
		return nil
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

func ptrTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func orNil[T comparable](x T) any {
	var zero T
	if x == zero {
		return nil
	}
	return x
}

func mustJSON(x any) []byte {
	b, err := json.Marshal(x)
	if err != nil {
		return []byte("null")
	}
	return b
}

func projectRow(p projections.ProjectState) []any {
	cats := make([]string, len(p.Investor.Categories))
	for i, c := range p.Investor.Categories {
		cats[i] = string(c)
	}
	var contract, contractCur, tier, termKind, termCause any
	if p.ContractInvestment != nil {
		contract, contractCur = p.ContractInvestment.Amount, string(p.ContractInvestment.Currency)
	}
	if p.Tier != nil {
		tier = string(*p.Tier)
	}
	if p.Termination != nil {
		termKind, termCause = string(p.Termination.Kind), string(p.Termination.Cause)
	}
	return []any{uid(p.ID), int64(p.Seq), p.Name, string(p.Stage), string(p.Unit), string(p.FirstUnit), p.Investor.Name, p.Investor.USCC,
		p.Investor.Origin, cats, p.IndustryChain, p.SourceChannel, p.PlannedInvestment.Amount, string(p.PlannedInvestment.Currency),
		contract, contractCur, tier, p.USD100m, p.Major, ptrTime(p.ExclusiveUntil), date(p.ReportedAt), date(p.SignedAt),
		date(p.RegisteredAt), date(p.StartedAt), date(p.ProducingAt), date(p.TerminatedAt), p.FundsArrived.Amount,
		p.DueProcess.FeasibilityStudy, p.DueProcess.RiskAssessment, p.DueProcess.CollectiveDecision, termKind, termCause,
		int64(p.Version), p.Position.String()}
}

// correctionRows are the project's corrections in log order, n from 1.
func correctionRows(p projections.ProjectState) [][]any {
	rows := make([][]any, len(p.Corrections))
	for i, c := range p.Corrections {
		rows[i] = []any{uid(p.ID), int32(i + 1), string(c.Field), c.Reason, c.OccurredAt, c.Position.String(), ints(c.AffectedYears),
			ints(c.FlaggedYears), c.Flagged}
	}
	return rows
}

// ints is an integer[] value, never NULL.
func ints(xs []int) []int32 {
	out := make([]int32, len(xs))
	for i, x := range xs {
		out[i] = int32(x)
	}
	return out
}

// texts is a text[] value, never NULL.
func texts(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return slices.Clone(xs)
}

func rankingRows(per domain.Period, r projections.RankingResult) [][]any {
	rows := make([][]any, 0, len(r.Items))
	for _, it := range r.Items {
		var change any
		if it.Change != nil {
			change = int32(*it.Change)
		}
		rows = append(rows, []any{r.Period, string(per.Kind), per.From, per.To, string(it.Unit), it.UnitName, string(it.Kind),
			int32(it.Rank), it.Score, mustJSON(it.Indicators), change, int32(r.PolicyVersion), r.Position.String()})
	}
	return rows
}

func alertRow(a projections.Alert, at time.Time) []any {
	var ev any
	if a.Evidence != nil {
		ev = a.Evidence.String()
	}
	return []any{a.Kind, uid(a.ProjectID), uid(a.OrderID), string(a.Unit), a.Since, a.Detail, ev, at}
}

func alertKey(a projections.Alert) string {
	k := a.Kind + "|" + a.ProjectID + "|" + a.OrderID
	if a.Evidence != nil {
		k += "|" + a.Evidence.String()
	}
	return k
}

func orderRow(o projections.OrderItem, at time.Time) []any {
	return []any{uid(o.ID), uid(o.ProjectID), o.Matter, o.Target, o.LeadLeader, string(o.ResponsibleUnit), o.Requirements,
		date(&o.Deadline), o.IssuedAt, o.Status, int32(len(o.Progress)), ptrTime(o.ClosedAt), o.Result, int64(o.Version), o.Position.String(), at}
}

// progressRows are the order's progress reports in log order, n from 1.
func progressRows(o projections.OrderItem) [][]any {
	rows := make([][]any, len(o.Progress))
	for i, p := range o.Progress {
		rows[i] = []any{uid(o.ID), int32(i + 1), p.OccurredAt, p.Summary}
	}
	return rows
}

func rateRows(r projections.RatesResult) [][]any {
	rows := make([][]any, 0, len(r.Items))
	f := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	for _, it := range r.Items {
		rows = append(rows, []any{int32(r.Year), string(it.Unit), it.UnitName, int32(it.Fulfilment.Numerator), int32(it.Fulfilment.Denominator),
			f(it.Fulfilment.Rate), int32(it.Start.Numerator), int32(it.Start.Denominator), f(it.Start.Rate), it.Funds.Numerator.Amount,
			it.Funds.Denominator.Amount, f(it.Funds.Rate), int32(r.PolicyVersion), r.Position.String(), r.Now})
	}
	return rows
}

// assessmentRows are a year's rows in every assessment table: the items
// (published when published), and for a published year the recomputation,
// the differences and the flagged corrections.
func assessmentRows(r projections.AssessmentResult) (items, current, diffs, corrections [][]any) {
	cur := map[domain.UnitCode]projections.AssessmentItem{}
	if r.Current != nil {
		for _, it := range r.Current.Items {
			cur[it.Unit] = it
		}
	}
	differs := map[domain.UnitCode]bool{}
	for _, d := range r.Differences {
		differs[d.Unit] = true
	}
	var publishedAt any
	if r.PublishedAt != nil {
		publishedAt = *r.PublishedAt
	}
	for _, it := range r.Items {
		var cs, cr any
		if c, ok := cur[it.Unit]; ok && r.Published {
			cs, cr = c.Score, string(c.Rating)
		}
		items = append(items, []any{int32(r.Year), string(it.Unit), it.UnitName, string(it.Kind), it.Score, string(it.Rating),
			mustJSON(it.Completion), it.Completion["overall"], it.Bonus, it.Deductions, int32(it.Rank), texts(it.Flags),
			texts(it.AdmonishReasons), r.Published, publishedAt, int32(r.PolicyVersion), r.Position.String(), cs, cr, differs[it.Unit]})
	}
	if r.Current != nil {
		for _, it := range r.Current.Items {
			current = append(current, []any{int32(r.Year), string(it.Unit), it.UnitName, string(it.Kind), it.Score, string(it.Rating),
				mustJSON(it.Completion), it.Completion["overall"], it.Bonus, it.Deductions, int32(it.Rank), texts(it.Flags),
				texts(it.AdmonishReasons), int32(r.Current.PolicyVersion), r.Current.Position.String()})
		}
	}
	for _, d := range r.Differences {
		diffs = append(diffs, []any{int32(r.Year), string(d.Unit), texts(d.Fields)})
	}
	for i, c := range r.Corrections {
		corrections = append(corrections, []any{int32(r.Year), int32(i + 1), uid(c.ProjectID), string(c.Field), c.Reason, c.OccurredAt,
			c.Position.String()})
	}
	return items, current, diffs, corrections
}

func caseRow(c projections.CaseItem) []any {
	var dec, rat, by, at any
	if c.Decision != nil {
		dec, rat, by, at = string(c.Decision.Decision), c.Decision.Rationale, c.Decision.By, c.Decision.At
	}
	return []any{uid(c.ID), uid(c.ProjectID), string(c.Unit), c.Grounds, c.RequestedAt, c.Status, c.Evaluation.Eligible,
		mustJSON(c.Evaluation.Checks), c.EvaluatedAt.String(), dec, rat, by, at, int64(c.Version), c.Position.String()}
}

func posNumbers(p eventstore.Position) (string, string) {
	return strconv.FormatUint(p.Commit, 10), strconv.FormatUint(p.Prepare, 10)
}
