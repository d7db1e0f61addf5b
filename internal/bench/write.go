package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/api"
	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections/synth"
)

// Names of the write-path figures.
const (
	FigureAppend       = "store append, 1 event"
	FigureFundsInProc  = "RecordFunds, in-process"
	FigureReportInProc = "ReportProject, in-process"
	FigureFundsHTTP    = "RecordFunds over HTTP"
	FigureReportHTTP   = "ReportProject over HTTP"
)

// What the write path writes.
const (
	bareEventType        = "BenchmarkAppended" // not a domain type: the views skip it
	projectsPerWorker    = 4
	benchIndustryChain   = "新能源"
	fundsAmountYuan      = 1_000_000     // ¥100万 an arrival
	poolInvestmentYuan   = 500_000_000   // ¥5亿: below the major threshold, no claim
	reportInvestmentYuan = 1_500_000_000 // ¥15亿: major, claims 首报首谈
)

// writeSide drives the write path: bare appends, the commands in-process
// and the same commands over HTTP.
type writeSide struct {
	store   eventstore.Store
	app     *commands.App
	client  *client
	workers int

	unit  domain.UnitCode
	actor eventstore.Actor
	token string // the same actor's bearer token

	// pool holds signed projects of unit, projectsPerWorker for each
	// worker: worker w records funds on pool[w*projectsPerWorker:…] in
	// turn, so no two callers ever contend for one project and each
	// project's stream grows at the same pace.
	pool    []string
	turn    []int // per worker, the next project of its share
	payload []byte
}

func newWriteSide(s eventstore.Store, app *commands.App, c *client, workers int, unit domain.UnitCode, secret []byte) (*writeSide, error) {
	actor := eventstore.Actor{Subject: "bench-staff-" + string(unit), Role: string(domain.RoleUnitStaff), Unit: string(unit)}
	tok, err := api.MintToken(secret, actor.Subject, actor.Role, actor.Unit, 24*time.Hour, time.Now())
	if err != nil {
		return nil, err
	}
	// The bare appends carry the bytes a RecordFunds appends, under a type
	// the domain does not register, so the views skip them as they would
	// any foreign event instead of taking them for funds of a project.
	payload, err := domain.Encode(domain.FundsArrived{ProjectID: uuid.NewString(), OccurredAt: time.Now().In(synth.Zone),
		Amount: domain.Yuan(fundsAmountYuan), Source: domain.FundsDomestic})
	if err != nil {
		return nil, err
	}
	return &writeSide{store: s, app: app, client: c, workers: workers, unit: unit, actor: actor, token: tok,
		turn: make([]int, workers), payload: payload}, nil
}

// setup reports and signs the projects that receive funds, through the
// commands, untimed.
func (ws *writeSide) setup(ctx context.Context) error {
	n := ws.workers * projectsPerWorker
	ws.pool = make([]string, n)
	errs := make([]error, ws.workers)
	var wg sync.WaitGroup
	for w := range ws.workers {
		wg.Go(func() {
			for k := range projectsPerWorker {
				i := w*projectsPerWorker + k
				id, err := ws.signedProject(ctx, i)
				if err != nil {
					errs[w] = fmt.Errorf("setting up project %d: %w", i, err)
					return
				}
				ws.pool[i] = id
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (ws *writeSide) signedProject(ctx context.Context, i int) (string, error) {
	now := time.Now().In(synth.Zone)
	r, err := ws.app.ReportProject.Handle(ctx, commands.ReportProject{
		Name: "资金到位基准项目" + strconv.Itoa(i), Unit: ws.unit,
		Investor:      domain.Investor{Name: "基准资金测试投资有限公司" + strconv.Itoa(i)},
		IndustryChain: benchIndustryChain, PlannedInvestment: domain.Yuan(poolInvestmentYuan),
		SourceChannel: domain.ChannelBusinessLed, OccurredAt: now.Add(-2 * time.Hour),
		Meta: commands.Meta{Actor: ws.actor},
	})
	if err != nil {
		return "", err
	}
	_, err = ws.app.SignContract.Handle(ctx, commands.SignContract{ProjectID: r.ID, OccurredAt: now.Add(-time.Hour),
		ContractInvestment: domain.Yuan(poolInvestmentYuan), Agreement: domain.AgreementFormal,
		Meta: commands.Meta{Actor: ws.actor}})
	return r.ID, err
}

// project is worker w's next project.
func (ws *writeSide) project(w int) string {
	k := ws.turn[w]
	ws.turn[w] = (k + 1) % projectsPerWorker
	return ws.pool[w*projectsPerWorker+k]
}

func (ws *writeSide) contenders() []*contender {
	return []*contender{
		{name: FigureAppend, op: ws.bareAppend},
		{name: FigureFundsInProc, op: ws.fundsInProcess},
		{name: FigureReportInProc, op: ws.reportInProcess},
		{name: FigureFundsHTTP, op: ws.fundsHTTP},
		{name: FigureReportHTTP, op: ws.reportHTTP},
	}
}

// bareAppend appends one event, enveloped as the commands envelope theirs,
// to the worker's own stream with no expected version: the store's floor.
func (ws *writeSide) bareAppend(ctx context.Context, w int, _ int64) error {
	cmd := uuid.NewString()
	ev := eventstore.NewEvent{ID: uuid.New(), Type: bareEventType, Data: ws.payload, OccurredAt: time.Now(),
		Actor: ws.actor, CommandID: cmd, CorrelationID: cmd, CausationID: cmd}
	_, err := ws.store.Append(ctx, "benchappend-"+strconv.Itoa(w), eventstore.Any(), []eventstore.NewEvent{ev})
	return err
}

func (ws *writeSide) fundsInProcess(ctx context.Context, w int, _ int64) error {
	_, err := ws.app.RecordFunds.Handle(ctx, commands.RecordFunds{ProjectID: ws.project(w), OccurredAt: time.Now().In(synth.Zone),
		Amount: domain.Yuan(fundsAmountYuan), Source: domain.FundsDomestic, Meta: commands.Meta{Actor: ws.actor}})
	return err
}

// report is the i-th report of a contender: a major project of a new
// investor, so it claims first-negotiation rights (首报首谈) under the
// investor's name — a read of the claim stream and two appends.
func (ws *writeSide) report(prefix string, i int64) commands.ReportProject {
	return commands.ReportProject{
		Name: "新能源电池基地项目", Unit: ws.unit,
		Investor:      domain.Investor{Name: prefix + strconv.FormatInt(i, 10)},
		IndustryChain: benchIndustryChain, PlannedInvestment: domain.Yuan(reportInvestmentYuan),
		SourceChannel: domain.ChannelBusinessLed, Referrer: "嘉兴商会", LeadOfficial: "王局长",
		OccurredAt: time.Now().In(synth.Zone).Add(-time.Hour),
	}
}

func (ws *writeSide) reportInProcess(ctx context.Context, _ int, i int64) error {
	c := ws.report("基准测试甲投资有限公司", i)
	c.Meta = commands.Meta{Actor: ws.actor}
	r, err := ws.app.ReportProject.Handle(ctx, c)
	if err == nil && r.ExclusiveUntil == nil {
		err = fmt.Errorf("report %d was granted no first-negotiation window", i)
	}
	return err
}

// The bodies of the HTTP commands, as docs/api.md spells them.
type (
	moneyBody struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	}
	fundsBody struct {
		OccurredAt string    `json:"occurred_at"`
		Amount     moneyBody `json:"amount"`
		Source     string    `json:"source"`
	}
	investorBody struct {
		Name       string   `json:"name"`
		Categories []string `json:"categories"`
	}
	reportBody struct {
		Name              string       `json:"name"`
		Unit              string       `json:"unit"`
		Investor          investorBody `json:"investor"`
		IndustryChain     string       `json:"industry_chain"`
		PlannedInvestment moneyBody    `json:"planned_investment"`
		SourceChannel     string       `json:"source_channel"`
		Referrer          string       `json:"referrer"`
		LeadOfficial      string       `json:"lead_official"`
		OccurredAt        string       `json:"occurred_at"`
	}
)

func (ws *writeSide) fundsHTTP(ctx context.Context, w int, _ int64) error {
	body, err := json.Marshal(fundsBody{OccurredAt: time.Now().In(synth.Zone).Format(time.RFC3339Nano),
		Amount: moneyBody{Amount: fundsAmountYuan, Currency: string(domain.CNY)}, Source: string(domain.FundsDomestic)})
	if err != nil {
		return err
	}
	return ws.client.do(ctx, http.MethodPost, api.BasePath+"/projects/"+ws.project(w)+"/funds", ws.token, body, http.StatusOK)
}

func (ws *writeSide) reportHTTP(ctx context.Context, _ int, i int64) error {
	c := ws.report("基准测试乙投资有限公司", i)
	body, err := json.Marshal(reportBody{Name: c.Name, Unit: string(c.Unit),
		Investor:      investorBody{Name: c.Investor.Name, Categories: []string{}},
		IndustryChain: c.IndustryChain, PlannedInvestment: moneyBody{Amount: c.PlannedInvestment.Amount, Currency: string(c.PlannedInvestment.Currency)},
		SourceChannel: string(c.SourceChannel), Referrer: c.Referrer, LeadOfficial: c.LeadOfficial,
		OccurredAt: c.OccurredAt.Format(time.RFC3339Nano)})
	if err != nil {
		return err
	}
	return ws.client.do(ctx, http.MethodPost, api.BasePath+"/projects", ws.token, body, http.StatusCreated)
}
