package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
)

// ReadModel is what the read handlers ask of the in-memory views
// (*projections.Views, i.e. Runner.Views(), implements it).
type ReadModel interface {
	Units() projections.UnitsResult
	Unit(code domain.UnitCode) (projections.UnitItem, bool)
	Policy() projections.PolicyResult
	PolicyVersion(version int) (projections.PolicyItem, bool)
	Project(id string, now time.Time) (projections.ProjectState, eventstore.Position, bool)
	Projects(f projections.ProjectFilter) (projections.ProjectPage, error)
	List(name projections.ListName, unit domain.UnitCode, limit int, cursor string) (projections.ProjectPage, error)
	Ranking(q projections.RankingQuery) (projections.RankingResult, error)
	Alerts(q projections.AlertQuery) (projections.AlertPage, error)
	Orders(q projections.OrderQuery) (projections.OrderPage, error)
	Rates(year int, unit domain.UnitCode, now time.Time) (projections.RatesResult, error)
	Assessment(q projections.AssessmentQuery) (projections.AssessmentResult, error)
	Cases(q projections.CaseQuery) (projections.CasePage, error)
	Case(id string) (projections.CaseItem, eventstore.Position, bool)
}

// PastReader answers a project's state at a past moment (GET
// /projects/{id}?as_of=); *projections.Runner implements it.
type PastReader interface {
	ProjectAt(ctx context.Context, id string, t time.Time, basis projections.Basis) (projections.ProjectState, bool, error)
}

// EventLog is what the audit and history reads need of the event store;
// every eventstore backend implements it.
type EventLog interface {
	ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, max int) ([]eventstore.Event, error)
	ReadAll(ctx context.Context, after eventstore.Position, max int) ([]eventstore.Event, error)
	Head(ctx context.Context) (eventstore.Position, error)
}

// Deps are what Mount binds the routes to. Commands, Views, Past and Log are
// required; Verify defaults to eventstore.Verify over Log when Log is a whole
// eventstore.Store.
type Deps struct {
	// Commands is the write side (commands.New).
	Commands *commands.App
	// Views answers every read but history and audit (Runner.Views()).
	Views ReadModel
	// Past answers time travel on one project (the Runner).
	Past PastReader
	// Log is the event store: project history, the audit log, the
	// read-access log.
	Log EventLog
	// Verify checks the hash chains and seals (GET /audit/verify).
	Verify func(ctx context.Context) (eventstore.Report, error)
}

// Validate reports missing dependencies.
func (d Deps) Validate() error {
	var errs []error
	if d.Commands == nil {
		errs = append(errs, errors.New("Commands is required"))
	}
	if d.Views == nil {
		errs = append(errs, errors.New("Views is required"))
	}
	if d.Past == nil {
		errs = append(errs, errors.New("Past is required"))
	}
	if d.Log == nil {
		errs = append(errs, errors.New("Log is required"))
	}
	if d.Verify == nil {
		if _, ok := d.Log.(eventstore.Store); !ok {
			errs = append(errs, errors.New("Verify is required when Log is not an eventstore.Store"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("api: deps: %w", err)
	}
	return nil
}

// route is one row of the route table: API.md's commands and queries, and
// the read-access log.
type route struct {
	method string
	path   string // Echo form, relative to BasePath
	// op is the command a command route runs; its roles are the commands
	// layer's (commands.RolesFor), the one table of who may do what.
	op commands.Operation
	// readers are the roles of a read (nil: every role).
	readers []string
	handler func(h *handlers, c echo.Context) error
}

func (r route) isCommand() bool { return r.op != "" }

// auditors may read the raw log, its verification and the read-access log
// (DOMAIN.md: the auditor reads "everything, including raw events and chain
// verification").
var auditors = []string{RoleAuditor}

// routes is API.md route for route, plus GET /audit/reads.
var routes = []route{
	{method: http.MethodPut, path: "/units/:code", op: commands.OpRegisterUnit, handler: (*handlers).putUnit},
	{method: http.MethodPut, path: "/policy", op: commands.OpAdoptPolicy, handler: (*handlers).putPolicy},
	{method: http.MethodPut, path: "/targets/:year/:unit", op: commands.OpSetTargets, handler: (*handlers).putTargets},
	{method: http.MethodPost, path: "/projects", op: commands.OpReportProject, handler: (*handlers).reportProject},
	{method: http.MethodPost, path: "/projects/:id/negotiations", op: commands.OpRecordNegotiation, handler: (*handlers).recordNegotiation},
	{method: http.MethodPost, path: "/projects/:id/due-process", op: commands.OpRecordDueProcess, handler: (*handlers).recordDueProcess},
	{method: http.MethodPost, path: "/projects/:id/signing-filings", op: commands.OpFileSigning, handler: (*handlers).fileSigning},
	{method: http.MethodPost, path: "/projects/:id/signing", op: commands.OpSignContract, handler: (*handlers).signContract},
	{method: http.MethodPost, path: "/projects/:id/amendments", op: commands.OpAmendContract, handler: (*handlers).amendContract},
	{method: http.MethodPost, path: "/projects/:id/transfers", op: commands.OpTransferProject, handler: (*handlers).transferProject},
	{method: http.MethodPost, path: "/projects/:id/registration", op: commands.OpRegisterCompany, handler: (*handlers).registerCompany},
	{method: http.MethodPost, path: "/projects/:id/construction-start", op: commands.OpStartConstruction, handler: (*handlers).startConstruction},
	{method: http.MethodPost, path: "/projects/:id/funds", op: commands.OpRecordFunds, handler: (*handlers).recordFunds},
	{method: http.MethodPost, path: "/projects/:id/production", op: commands.OpStartProduction, handler: (*handlers).startProduction},
	{method: http.MethodPost, path: "/projects/:id/termination", op: commands.OpTerminateProject, handler: (*handlers).terminateProject},
	{method: http.MethodPost, path: "/projects/:id/corrections", op: commands.OpCorrectDetails, handler: (*handlers).correctDetails},
	{method: http.MethodPost, path: "/supervision/orders", op: commands.OpIssueSupervisionOrder, handler: (*handlers).issueOrder},
	{method: http.MethodPost, path: "/supervision/orders/:id/progress", op: commands.OpReportSupervisionProgress, handler: (*handlers).reportProgress},
	{method: http.MethodPost, path: "/supervision/orders/:id/closure", op: commands.OpCloseSupervisionOrder, handler: (*handlers).closeOrder},
	{method: http.MethodPost, path: "/assessments/:year/bonuses", op: commands.OpAwardBonus, handler: (*handlers).awardBonus},
	{method: http.MethodPost, path: "/assessments/:year/publication", op: commands.OpPublishAssessment, handler: (*handlers).publishAssessment},
	{method: http.MethodPost, path: "/tolerance/cases", op: commands.OpRequestTolerance, handler: (*handlers).requestTolerance},
	{method: http.MethodPost, path: "/tolerance/cases/:id/decision", op: commands.OpDecideTolerance, handler: (*handlers).decideTolerance},

	{method: http.MethodGet, path: "/units", handler: (*handlers).listUnits},
	{method: http.MethodGet, path: "/policy", handler: (*handlers).getPolicy},
	{method: http.MethodGet, path: "/projects", handler: (*handlers).listProjects},
	{method: http.MethodGet, path: "/projects/:id", handler: (*handlers).getProject},
	{method: http.MethodGet, path: "/projects/:id/history", handler: (*handlers).projectHistory},
	{method: http.MethodGet, path: "/lists/:list", handler: (*handlers).getList},
	{method: http.MethodGet, path: "/rankings", handler: (*handlers).getRanking},
	{method: http.MethodGet, path: "/supervision/alerts", handler: (*handlers).listAlerts},
	{method: http.MethodGet, path: "/supervision/orders", handler: (*handlers).listOrders},
	{method: http.MethodGet, path: "/supervision/rates", handler: (*handlers).getRates},
	{method: http.MethodGet, path: "/assessments/:year", handler: (*handlers).getAssessment},
	{method: http.MethodGet, path: "/tolerance/cases", handler: (*handlers).listCases},
	{method: http.MethodGet, path: "/tolerance/cases/:id", handler: (*handlers).getCase},
	{method: http.MethodGet, path: "/audit/events", readers: auditors, handler: (*handlers).auditEvents},
	{method: http.MethodGet, path: "/audit/verify", readers: auditors, handler: (*handlers).auditVerify},
	{method: http.MethodGet, path: "/audit/reads", readers: auditors, handler: (*handlers).auditReads},
}

// roles is who may call the route: for a command the commands layer's table
// (unit_staff possibly for its own unit only, which the command checks),
// for a read its readers.
func (r route) roles() []string {
	if !r.isCommand() {
		if r.readers == nil {
			return Roles()
		}
		return slices.Clone(r.readers)
	}
	var out []string
	for _, role := range commands.RolesFor(r.op) {
		out = append(out, string(role))
	}
	return out
}

// handlers binds the routes to their dependencies.
type handlers struct {
	s *Server
	d Deps
}

// Mount registers every route of API.md (and GET /audit/reads) on s, bound
// to d. Before registering anything it checks that the roles each route
// admits are the ones docs/openapi.yaml states in x-roles, so the spec, the
// router and the commands' authorisation table cannot drift apart. Call it
// once per Server.
func Mount(s *Server, d Deps) error {
	if s == nil {
		return errors.New("api: Mount: nil server")
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if d.Verify == nil {
		store := d.Log.(eventstore.Store)
		d.Verify = func(ctx context.Context) (eventstore.Report, error) { return eventstore.Verify(ctx, store) }
	}
	if err := checkRolesAgainstSpec(s.Spec()); err != nil {
		return err
	}
	h := &handlers{s: s, d: d}
	for _, r := range routes {
		fn := r.handler
		handle := func(c echo.Context) error { return fn(h, c) }
		if r.isCommand() {
			s.Command(r.method, r.path, handle, r.roles()...)
			continue
		}
		s.Query(r.path, handle, RequireRole(r.roles()...))
	}
	return nil
}

// SpecRoles is the x-roles list of an operation of doc (path in Echo or
// OpenAPI form).
func SpecRoles(doc *openapi3.T, method, path string) ([]string, bool) {
	item := doc.Paths.Value(specPath(path))
	if item == nil {
		return nil, false
	}
	op := item.GetOperation(strings.ToUpper(method))
	if op == nil {
		return nil, false
	}
	raw, ok := op.Extensions["x-roles"].([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		s, ok := r.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func checkRolesAgainstSpec(doc *openapi3.T) error {
	var errs []error
	for _, r := range routes {
		got, ok := SpecRoles(doc, r.method, BasePath+r.path)
		want := r.roles()
		slices.Sort(got)
		slices.Sort(want)
		if !ok || !slices.Equal(got, want) {
			errs = append(errs, fmt.Errorf("%s %s: the spec's x-roles %v, the server admits %v", r.method, specPath(BasePath+r.path), got, want))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("api: roles and spec differ: %w", err)
	}
	return nil
}
