package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Every row is planned — turned into the commands it implies and each one
// decided by the domain against the ledger as it stands, with the earlier
// rows of the file applied — before anything is appended. A row that would
// be refused is an error in the report, and a file with any error appends
// nothing.

// step is one command of a row.
type step struct {
	name string // report, negotiation, signing, registration, start, production, funds, termination
	key  string // the idempotency key
	// run sends the command; project is the row's project id (empty
	// before its report).
	run func(ctx context.Context, app *commands.App, meta commands.Meta, project string) (commands.Result, error)
}

// rowPlan is what a row will do.
type rowPlan struct {
	e       *entry
	project string // the project's id when it was imported before
	steps   []step
	// keys are the row's 首报首谈 keys (domain.ExclusivityKeysOf): rows
	// sharing one, directly or through other rows, are recorded in file
	// order, as they were planned, since each was judged against the ones
	// before it.
	keys []string
}

// planner plans the rows against the store's state.
type planner struct {
	store commands.Store
	actor eventstore.Actor
	loc   *time.Location
	now   time.Time
	pol   domain.Policy
	// claims holds, per 首报首谈 key, the events of its claim stream and
	// the claims the file's earlier rows will add to it.
	claims map[string][]domain.Event
	seen   map[string]int // identity → row, to catch duplicates
	// standIns maps the stand-in project id of a row's report to its row,
	// to name a conflict between two rows of the file.
	standIns map[string]int
	units    *domain.Units
	p        *problems
	notes    []Notice
	existing func(unit domain.UnitCode, name, investor string) (string, bool)
}

func newPlanner(ctx context.Context, store commands.Store, actor eventstore.Actor, loc *time.Location, now time.Time, p *problems) (*planner, *domain.Units, error) {
	pl := &planner{store: store, actor: actor, loc: loc, now: now, claims: map[string][]domain.Event{},
		seen: map[string]int{}, standIns: map[string]int{}, units: &domain.Units{}, p: p}
	if err := pl.fold(ctx, domain.StreamUnits, pl.units); err != nil {
		return nil, nil, err
	}
	var pols domain.Policies
	if err := pl.fold(ctx, domain.StreamPolicy, &pols); err != nil {
		return nil, nil, err
	}
	pl.pol = pols.Current()
	return pl, pl.units, nil
}

// unitName is "海宁市 (haining)".
func (pl *planner) unitName(code domain.UnitCode) string {
	if u, ok := pl.units.Get(code); ok {
		return u.Name + " (" + string(code) + ")"
	}
	return string(code)
}

type applier interface{ Apply(domain.Event) }

// fold reads a stream into an aggregate; a missing stream leaves it empty.
func (pl *planner) fold(ctx context.Context, stream string, a applier) error {
	evs, err := pl.events(ctx, stream)
	for _, e := range evs {
		a.Apply(e)
	}
	return err
}

// events reads a stream's domain events; a missing stream has none.
func (pl *planner) events(ctx context.Context, stream string) ([]domain.Event, error) {
	evs, err := pl.store.ReadStream(ctx, stream, 1, eventstore.Forwards, 0)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: read %s: %w", stream, err)
	}
	out := make([]domain.Event, 0, len(evs))
	for i := range evs {
		d, err := domain.Decode(evs[i].Type, evs[i].Data)
		if errors.Is(err, domain.ErrUnknownEventType) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ledger: %s version %d: %w", stream, evs[i].Version, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// at is a sheet date as a business time: 00:00 of that day in the server's
// zone, which keeps every imported fact on its civil date and never in the
// future.
func (pl *planner) at(d domain.Date) time.Time { return d.Start(pl.loc) }

func (pl *planner) key(e *entry, step string) string { return "ledger/" + e.ident + "/" + step }

// importedProject finds the project an earlier import of the row created,
// by the idempotency record of its report.
func (pl *planner) importedProject(ctx context.Context, e *entry) (string, error) {
	stream := commands.IdempotencyStream(pl.actor.Subject, pl.key(e, "report"))
	evs, err := pl.store.ReadStream(ctx, stream, 1, eventstore.Forwards, 1)
	if errors.Is(err, eventstore.ErrStreamNotFound) || err == nil && len(evs) == 0 {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("ledger: read %s: %w", stream, err)
	}
	var rec commands.IdempotencyRecord
	if err := json.Unmarshal(evs[0].Data, &rec); err != nil {
		return "", fmt.Errorf("ledger: decode %s: %w", stream, err)
	}
	return rec.Result.ID, nil
}

func (pl *planner) notice(e *entry, c string, zh, en string) {
	col := ""
	if c != "" {
		col = columnByKey[c].Label()
	}
	pl.notes = append(pl.notes, Notice{Row: e.row, Column: col, Zh: zh, En: en})
}

func (pl *planner) fail(e *entry, c string, value, zh, en string) {
	pl.p.add(e.row, columnByKey[c], value, zh, en)
}

// plan plans one row; problems go to the report, err is a failure to read
// the store.
func (pl *planner) plan(ctx context.Context, e *entry) (*rowPlan, error) {
	if first, dup := pl.seen[e.ident]; dup {
		c := colExternalID
		if e.extID == "" {
			c = colName
		}
		pl.fail(e, c, e.extID, fmt.Sprintf("与第%d行是同一项目（同一单位的项目编号，或无编号时的项目名称和投资方相同）", first),
			fmt.Sprintf("the same project as row %d (same unit and external id, or without one the same name and investor)", first))
		return nil, nil
	}
	pl.seen[e.ident] = e.row
	if pl.actorScoped() && e.unit.Code != domain.UnitCode(pl.actor.Unit) {
		pl.fail(e, colUnit, string(e.unit.Code), "导入人只能导入本单位（"+pl.actor.Unit+"）的项目",
			"the importing actor may import projects of its own unit ("+pl.actor.Unit+") only")
		return nil, nil
	}
	rp := &rowPlan{e: e, keys: domain.ExclusivityKeysOf(e.inv, e.chain)}
	id, err := pl.importedProject(ctx, e)
	if err != nil {
		return nil, err
	}
	var p *domain.Project
	if id != "" {
		rp.project = id
		p = domain.NewProject()
		if err := pl.fold(ctx, domain.ProjectStream(id), p); err != nil {
			return nil, err
		}
		if !p.Exists() {
			return nil, fmt.Errorf("ledger: row %d: project %s of an earlier import is missing", e.row, id)
		}
		pl.compareReport(e, p)
		if pl.actorScoped() && p.Unit() != domain.UnitCode(pl.actor.Unit) {
			pl.fail(e, colUnit, string(e.unit.Code), "项目已流转至"+string(p.Unit())+"，导入人无权更新",
				"the project now belongs to "+string(p.Unit())+"; the importing actor may not update it")
			return nil, nil
		}
	} else {
		if pl.existing != nil {
			if other, found := pl.existing(e.unit.Code, e.name, e.inv.Name); found {
				pl.fail(e, colName, e.name, "本单位已有同名同投资方的项目（"+other+"），且不是本导入人（"+pl.actor.Subject+"）以此项目编号导入的：请以原导入人身份导入，或核对项目名称和编号，避免重复入库",
					"the ledger already holds a project of this unit with this name and investor ("+other+"), not imported by this subject ("+pl.actor.Subject+") under this row's id: import as the subject that imported it, or check the name and id, so the project is not entered twice")
				return nil, nil
			}
		}
		if p, err = pl.planReport(ctx, e, rp); p == nil {
			return nil, err
		}
	}
	ok := pl.planFacts(e, rp, p, id != "")
	if !ok {
		return nil, nil
	}
	return rp, nil
}

func (pl *planner) actorScoped() bool {
	return domain.Role(pl.actor.Role).ScopedToUnit()
}

// planReport decides the row's report under 首报首谈 against the claims in
// the store and those of the rows before it, and returns the new project
// (nil when the row is refused; err is a failure to read the store).
func (pl *planner) planReport(ctx context.Context, e *entry, rp *rowPlan) (*domain.Project, error) {
	cmd := domain.ReportProject{
		// A stand-in id: the commands assign the real one.
		ProjectID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(e.ident)).String(),
		Name:      e.name, Unit: e.unit.Code, Investor: e.inv, IndustryChain: e.chain,
		PlannedInvestment: e.planned, SourceChannel: e.channel, Referrer: e.referrer, LeadOfficial: e.lead,
		OccurredAt: pl.at(e.reportedOn),
	}
	// Judged as the commands will judge it: against the claim streams of
	// every key of the report, folded together.
	claims := &domain.ExclusivityClaims{}
	for _, k := range cmd.ExclusivityKeys() {
		evs, ok := pl.claims[k]
		if !ok {
			var err error
			if evs, err = pl.events(ctx, domain.ExclusivityStream(k)); err != nil {
				return nil, err
			}
			pl.claims[k] = evs
		}
		for _, ev := range evs {
			claims.Apply(ev)
		}
	}
	d, err := domain.DecideReport(cmd, claims, pl.pol, pl.now)
	var conflict *domain.ExclusivityConflictError
	if errors.As(err, &conflict) {
		until := conflict.Until.In(pl.loc).Format("2006-01-02 15:04")
		holder, holderEn := "项目 "+conflict.HolderProject, "project "+conflict.HolderProject
		if row, ok := pl.standIns[conflict.HolderProject]; ok {
			holder, holderEn = fmt.Sprintf("本文件第%d行", row), fmt.Sprintf("row %d of this file", row)
		}
		unit := pl.unitName(conflict.HolderUnit)
		pl.fail(e, colInvestor, e.inv.Name,
			fmt.Sprintf("首报首谈冲突：%s 已首报该投资方在“%s”产业链的项目（%s），享有排他性首谈资格至 %s；请联系市投促中心协调",
				unit, e.chain, holder, until),
			fmt.Sprintf("exclusivity conflict: %s reported this investor in %s first (%s) and holds first-negotiation rights until %s; ask the centre",
				unit, e.chain, holderEn, until))
		return nil, nil
	}
	if err != nil {
		pl.domainError(e, "report", err, domain.StageNone)
		return nil, nil
	}
	for _, cl := range d.Claims {
		pl.claims[cl.Key] = append(pl.claims[cl.Key], cl)
		pl.standIns[cmd.ProjectID] = e.row
	}
	rp.steps = append(rp.steps, step{name: "report", key: pl.key(e, "report"),
		run: func(ctx context.Context, app *commands.App, m commands.Meta, _ string) (commands.Result, error) {
			return app.ReportProject.Handle(ctx, commands.ReportProject{Name: cmd.Name, Unit: cmd.Unit, Investor: cmd.Investor,
				IndustryChain: cmd.IndustryChain, PlannedInvestment: cmd.PlannedInvestment, SourceChannel: cmd.SourceChannel,
				Referrer: cmd.Referrer, LeadOfficial: cmd.LeadOfficial, OccurredAt: cmd.OccurredAt, Meta: m})
		}})
	return domain.FoldProject(d.Events()), nil
}

// compareReport notes where the sheet and a project imported before
// disagree: the ledger keeps what it recorded (a change is a correction).
func (pl *planner) compareReport(e *entry, p *domain.Project) {
	s := p.Snapshot()
	if s.Name != e.name {
		pl.notice(e, colName, "与系统记录“"+s.Name+"”不同，系统记录不变（如需修改请提交更正）",
			"differs from the ledger's "+strconv.Quote(s.Name)+"; the ledger is kept (submit a correction to change it)")
	}
	if s.PlannedInvestment != e.planned {
		pl.notice(e, colPlanned, "与系统记录 "+s.PlannedInvestment.String()+" 不同，系统记录不变（如需修改请提交更正）",
			"differs from the ledger's "+s.PlannedInvestment.String()+"; the ledger is kept (submit a correction to change it)")
	}
}

// planFacts plans the row's lifecycle facts in order, each decided against
// the project as the previous ones leave it. A fact the project already
// has (imported before, or recorded since) is not recorded again; on a
// project imported before, a fact the ledger's later history rules out is
// noted and skipped, since the ledger has moved on from the sheet.
func (pl *planner) planFacts(e *entry, rp *rowPlan, p *domain.Project, existing bool) bool {
	ok := true
	s := p.Snapshot()
	decide := func(name, col string, cmd domain.ProjectCommand, run func(ctx context.Context, app *commands.App, m commands.Meta, id string) (commands.Result, error)) {
		if !ok {
			return
		}
		evs, err := p.Decide(cmd, pl.pol, pl.now)
		if err != nil {
			if existing && errors.Is(err, domain.ErrInvalidTransition) {
				pl.notice(e, col, "系统中的项目已进展至“"+stageZh[p.Stage()]+"”，本项未导入", "the ledger's project is "+string(p.Stage())+"; not imported")
				return
			}
			pl.domainError(e, name, err, p.Stage())
			ok = false
			return
		}
		for _, ev := range evs {
			p.Apply(ev)
		}
		key := pl.key(e, name)
		if _, isFunds := cmd.(domain.RecordFunds); isFunds {
			// Funds are brought up to the sheet's cumulative figure; the key
			// names that figure, so a later sheet with a higher one is a new
			// arrival, and a retry of this one is not.
			key += "/to-" + string(e.funds.Currency) + strconv.FormatInt(e.funds.Amount, 10)
		}
		rp.steps = append(rp.steps, step{name: name, key: key, run: run})
	}
	differs := func(col string, recorded time.Time, d domain.Date) {
		if got := domain.DateOf(recorded, pl.loc); got != d {
			pl.notice(e, col, "与系统记录 "+got.String()+" 不同，系统记录不变", "differs from the ledger's "+got.String()+"; the ledger is kept")
		}
	}

	if d := e.negotiatedOn; !d.IsZero() && len(s.Negotiations) == 0 {
		at, level := pl.at(d), e.leader
		const summary = "首次洽谈（据台账导入）"
		decide("negotiation", colNegotiatedOn, domain.RecordNegotiation{OccurredAt: at, LeaderLevel: level, Summary: summary},
			func(ctx context.Context, app *commands.App, m commands.Meta, id string) (commands.Result, error) {
				return app.RecordNegotiation.Handle(ctx, commands.RecordNegotiation{ProjectID: id, OccurredAt: at, LeaderLevel: level, Summary: summary, Meta: m})
			})
	}
	if d := e.signedOn; !d.IsZero() {
		if s.Signing != nil {
			differs(colSignedOn, s.SignedAt, d)
		} else {
			at, contract, agreement := pl.at(d), e.contract, e.agreement
			decide("signing", colSignedOn, domain.SignContract{OccurredAt: at, ContractInvestment: contract, Agreement: agreement},
				func(ctx context.Context, app *commands.App, m commands.Meta, id string) (commands.Result, error) {
					return app.SignContract.Handle(ctx, commands.SignContract{ProjectID: id, OccurredAt: at,
						ContractInvestment: contract, Agreement: agreement, Meta: m})
				})
		}
	}
	if d := e.registeredOn; !d.IsZero() {
		if !s.RegisteredAt.IsZero() {
			differs(colRegisteredOn, s.RegisteredAt, d)
		} else {
			at, uscc := pl.at(d), e.companyUSCC
			decide("registration", colRegisteredOn, domain.RegisterCompany{OccurredAt: at, CompanyUSCC: uscc},
				func(ctx context.Context, app *commands.App, m commands.Meta, id string) (commands.Result, error) {
					return app.RegisterCompany.Handle(ctx, commands.RegisterCompany{ProjectID: id, OccurredAt: at, CompanyUSCC: uscc, Meta: m})
				})
		}
	}
	if d := e.startedOn; !d.IsZero() {
		if !s.StartedAt.IsZero() {
			differs(colStartedOn, s.StartedAt, d)
		} else {
			at, permit := pl.at(d), e.permitNo
			decide("start", colStartedOn, domain.StartConstruction{OccurredAt: at, PermitNo: permit},
				func(ctx context.Context, app *commands.App, m commands.Meta, id string) (commands.Result, error) {
					return app.StartConstruction.Handle(ctx, commands.StartConstruction{ProjectID: id, OccurredAt: at, PermitNo: permit, Meta: m})
				})
		}
	}
	if d := e.producingOn; !d.IsZero() {
		if !s.ProducingAt.IsZero() {
			differs(colProducingOn, s.ProducingAt, d)
		} else {
			at := pl.at(d)
			decide("production", colProducingOn, domain.StartProduction{OccurredAt: at},
				func(ctx context.Context, app *commands.App, m commands.Meta, id string) (commands.Result, error) {
					return app.StartProduction.Handle(ctx, commands.StartProduction{ProjectID: id, OccurredAt: at, Meta: m})
				})
		}
	}
	if e.funds.Amount > 0 {
		// The sheet states cumulative funds: record what the ledger lacks.
		var have int64
		for _, f := range s.Funds {
			if f.Amount.Currency == e.funds.Currency {
				have += f.Amount.Amount
			}
		}
		switch {
		case e.funds.Amount > have:
			at, source := pl.at(e.fundsOn), e.fundsSource
			amount := domain.Money{Amount: e.funds.Amount - have, Currency: e.funds.Currency}
			decide("funds", colFunds, domain.RecordFunds{OccurredAt: at, Amount: amount, Source: source},
				func(ctx context.Context, app *commands.App, m commands.Meta, id string) (commands.Result, error) {
					return app.RecordFunds.Handle(ctx, commands.RecordFunds{ProjectID: id, OccurredAt: at, Amount: amount, Source: source, Meta: m})
				})
		case e.funds.Amount < have:
			pl.notice(e, colFunds, fmt.Sprintf("少于系统已记录的到位资金 %s，未导入", domain.Money{Amount: have, Currency: e.funds.Currency}),
				fmt.Sprintf("less than the %s the ledger has recorded; nothing imported", domain.Money{Amount: have, Currency: e.funds.Currency}))
		}
	}
	if e.stage == domain.StageTerminated {
		if s.Termination != nil {
			differs(colTerminatedOn, s.TerminatedAt, e.terminatedOn)
		} else {
			at, kind, cause, note := pl.at(e.terminatedOn), e.termKind, e.termCause, e.termNote
			decide("termination", colTerminationKind, domain.TerminateProject{OccurredAt: at, Kind: kind, Cause: cause, Explanation: note},
				func(ctx context.Context, app *commands.App, m commands.Meta, id string) (commands.Result, error) {
					return app.TerminateProject.Handle(ctx, commands.TerminateProject{ProjectID: id, OccurredAt: at, Kind: kind,
						Cause: cause, Explanation: note, Meta: m})
				})
		}
	}
	return ok
}

// fieldColumns names the column a domain field error is about, per step.
var fieldColumns = map[string]map[string]string{
	"report": {"name": colName, "investor.name": colInvestor, "investor.uscc": colUSCC, "investor.origin": colOrigin,
		"industry_chain": colChain, "planned_investment": colPlanned, "planned_investment.amount": colPlanned,
		"planned_investment.currency": colCurrency, "unit": colUnit, "occurred_at": colReportedOn,
		"referrer": colReferrer, "lead_official": colLead, "source_channel": colChannel},
	"negotiation":  {"": colNegotiatedOn, "leader_level": colLeaderLevel},
	"signing":      {"": colSignedOn, "contract_investment": colContract, "contract_investment.amount": colContract, "agreement": colAgreement},
	"registration": {"": colRegisteredOn, "company_uscc": colCompanyUSCC},
	"start":        {"": colStartedOn, "permit_no": colPermitNo},
	"production":   {"": colProducingOn},
	"funds":        {"": colFundsOn, "amount": colFunds, "source": colFundsSource},
	"termination":  {"": colTerminatedOn, "kind": colTerminationKind, "cause": colTerminationCause, "explanation": colTerminationNote},
}

// ruleZh says a domain rule in Chinese; the English is the domain's own
// message.
var ruleZh = map[string]string{
	"required":              "必填",
	"not_future":            "日期晚于当前时间",
	"before_previous_stage": "早于前一阶段的日期",
	"before_signing":        "早于签约日期",
	"format":                "格式不正确",
	"too_long":              "过长",
	"positive":              "必须大于0",
	"not_applicable":        "不适用于项目当前阶段",
	"exceeds_contract":      "超过合同投资",
	"overflow":              "金额超出范围",
	"unknown":               "不是已知的取值",
	"unknown_unit":          "不是已登记的单位",
	"no_letters":            "必须包含文字",
	"control_character":     "包含控制字符",
}

// domainError turns a refusal of the domain into the report's words: a
// field error names its column, a refused transition the stage column.
func (pl *planner) domainError(e *entry, step string, err error, stage domain.Stage) {
	cols := fieldColumns[step]
	var ve *domain.ValidationError
	var te *domain.TransitionError
	switch {
	case errors.As(err, &ve):
		var verrs domain.ValidationErrors
		list := []*domain.ValidationError{ve}
		if errors.As(err, &verrs) {
			list = verrs
		}
		for _, v := range list {
			c, ok := cols[v.Field]
			if !ok {
				c = cols[""]
			}
			if c == "" {
				c = colStage
			}
			zh := ruleZh[v.Rule]
			switch {
			case v.Rule == "not_applicable" && stage.Valid():
				zh = "不适用于项目当时所处的“" + stageZh[stage] + "”阶段"
			case zh == "":
				zh = "不符合规则（" + v.Message + "）"
			}
			pl.fail(e, c, "", zh, v.Error())
		}
	case errors.As(err, &te):
		pl.fail(e, colStage, stageZh[e.stage], "不能按此阶段导入："+te.Reason, err.Error())
	default:
		pl.fail(e, colStage, "", "无法导入："+err.Error(), "cannot be imported: "+err.Error())
	}
}
