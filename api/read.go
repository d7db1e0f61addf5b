package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/projections"
)

// This file binds API.md's query routes to the views. Each handler checks its
// parameters' form (422 naming the parameter; Server.Query has already
// refused parameters the route does not define and waited for
// min_position), asks the views, and answers JSON or, for lists, rankings,
// assessments and the supervision reads, an export (tables.go).

// MaxExportRows bounds a download: an export without limit holds every
// matching row up to this many; beyond it the client must narrow the
// filter. It keeps a single request's memory and time bounded.
const MaxExportRows = 100_000

// param reads a query parameter given at most once ("" when absent).
func param(c echo.Context, v *Validator, name string) string {
	s, _ := single(c, name, v)
	return s
}

// unitParam reads ?unit=: a unit the views know, else 422 naming unit (a
// misspelt unit would otherwise answer an empty list as if it had nothing).
func (h *handlers) unitParam(c echo.Context, v *Validator) domain.UnitCode {
	s := param(c, v, "unit")
	if s == "" {
		return ""
	}
	code := domain.UnitCode(v.UnitSyntax("unit", s))
	if code == "" {
		return ""
	}
	if _, ok := h.d.Views.Unit(code); !ok {
		v.Addf("unit", "unknown_unit", "unit %s is not registered", code)
		return ""
	}
	return code
}

// basisOf is the views' name of an AsOf basis.
func basisOf(a AsOf) projections.Basis { return projections.Basis(a.Basis) }

// explicitPage reports whether the client asked for one page (limit or
// cursor given): an export then holds that page, otherwise every row.
func explicitPage(c echo.Context) bool {
	q := c.QueryParams()
	return q.Has("limit") || q.Has("cursor")
}

// collect fetches the rows of an export: one page when the client asked for
// one, else every page, up to MaxExportRows.
func collect[T any](c echo.Context, page Page, fetch func(limit int, cursor string) ([]T, string, error)) ([]T, error) {
	if explicitPage(c) {
		items, _, err := fetch(page.Limit, page.Cursor)
		return items, err
	}
	var out []T
	cursor := ""
	for {
		items, next, err := fetch(MaxLimit, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(out) > MaxExportRows {
			return nil, Invalid("format", "too_many_rows",
				fmt.Sprintf("the export would exceed %d rows; narrow the filter or page with limit and cursor", MaxExportRows))
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// ---- units, policy ----

func (h *handlers) listUnits(c echo.Context) error {
	u := h.d.Views.Units()
	return c.JSON(http.StatusOK, NewList(u.Items, ""))
}

func (h *handlers) getPolicy(c echo.Context) error {
	v := h.s.Validator()
	s := param(c, v, "version")
	if err := v.Err(); err != nil {
		return err
	}
	var item projections.PolicyItem
	if s == "" {
		item = h.d.Views.Policy().Current
	} else {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || strconv.Itoa(n) != s {
			return Invalid("version", "format", "must be a policy version: 0, 1, 2, …")
		}
		var ok bool
		if item, ok = h.d.Views.PolicyVersion(n); !ok {
			return NotFound("policy version", s)
		}
	}
	SetETag(c, uint64(item.Version))
	return c.JSON(http.StatusOK, item.Policy)
}

// ---- projects ----

func (h *handlers) listProjects(c echo.Context) error {
	v := h.s.Validator()
	format, err := ParseFormat(c)
	v.Merge(err)
	page, err := ParsePage(c)
	v.Merge(err)
	f := projections.ProjectFilter{
		Stage:    enum(v, "stage", param(c, v, "stage"), false, domain.Stages()),
		Unit:     h.unitParam(c, v),
		Chain:    v.Text("chain", param(c, v, "chain"), false, MaxNameLength),
		Category: enum(v, "category", param(c, v, "category"), false, domain.Categories()),
		Q:        v.Text("q", param(c, v, "q"), false, 100),
	}
	// tier=1b means "at least ¥10亿", as the signed_1b indicator counts.
	if t := enum(v, "tier", param(c, v, "tier"), false, domain.Tiers()); t != "" {
		f.Tier = string(t) + "+"
	}
	if err := v.Err(); err != nil {
		return err
	}
	fetch := func(limit int, cursor string) ([]ProjectSummary, string, error) {
		f.Limit, f.Cursor = limit, cursor
		p, err := h.d.Views.Projects(f)
		return h.summaries(p), p.NextCursor, err
	}
	if format != FormatJSON {
		rows, err := collect(c, page, fetch)
		if err != nil {
			return err
		}
		return RespondExport(c, format, ExportName{Name: "项目清单", Fallback: "projects"}, h.projectTable(rows))
	}
	items, next, err := fetch(page.Limit, page.Cursor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewList(items, next))
}

func (h *handlers) summaries(p projections.ProjectPage) []ProjectSummary {
	out := make([]ProjectSummary, len(p.Items))
	for i, it := range p.Items {
		out[i] = projectSummary(it, h.s.Location())
	}
	return out
}

// listNames are the four lists' Chinese names (Jiaxing 2024 二(一)1).
var listNames = map[projections.ListName]string{
	projections.ListNegotiating: "在谈项目",
	projections.ListSigned:      "签约项目",
	projections.ListRegistered:  "注册项目",
	projections.ListStarted:     "开工项目",
}

func (h *handlers) getList(c echo.Context) error {
	name := projections.ListName(c.Param("list"))
	if !slices.Contains(projections.Lists(), name) {
		return NotFound("list", string(name))
	}
	v := h.s.Validator()
	format, err := ParseFormat(c)
	v.Merge(err)
	page, err := ParsePage(c)
	v.Merge(err)
	unit := h.unitParam(c, v)
	if err := v.Err(); err != nil {
		return err
	}
	fetch := func(limit int, cursor string) ([]ProjectSummary, string, error) {
		p, err := h.d.Views.List(name, unit, limit, cursor)
		return h.summaries(p), p.NextCursor, err
	}
	if format != FormatJSON {
		rows, err := collect(c, page, fetch)
		if err != nil {
			return err
		}
		fallback := string(name) + "-projects"
		title := listNames[name]
		if unit != "" {
			fallback += "-" + string(unit)
			title += "-" + string(unit)
		}
		return RespondExport(c, format, ExportName{Name: title, Fallback: fallback}, h.projectTable(rows))
	}
	items, next, err := fetch(page.Limit, page.Cursor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewList(items, next))
}

func (h *handlers) getProject(c echo.Context) error {
	id, err := PathID(c, "id", "project")
	if err != nil {
		return err
	}
	asOf, err := ParseAsOf(c, h.s.Location())
	if err != nil {
		return err
	}
	var (
		st projections.ProjectState
		ok bool
	)
	if asOf.Set {
		st, ok, err = h.d.Past.ProjectAt(c.Request().Context(), id, asOf.At, basisOf(asOf))
		if err != nil {
			return err
		}
	} else {
		st, _, ok = h.d.Views.Project(id, h.s.Now())
	}
	if !ok {
		return NotFound("project", id)
	}
	out := projectOf(st, h.s.Location())
	if asOf.Set {
		out.AsOf = &AsOfInfo{At: asOf.At, Basis: asOf.Basis}
	}
	SetETag(c, st.Version)
	return c.JSON(http.StatusOK, out)
}

// projectHistory answers every event of the project's stream, oldest first,
// as the store holds them. The read is recorded in the read-access log
// before the answer is written; if it cannot be recorded the read fails.
func (h *handlers) projectHistory(c echo.Context) error {
	id, err := PathID(c, "id", "project")
	if err != nil {
		return err
	}
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	// The cursor names the project as well as the version to continue at,
	// so another project's cursor is refused instead of skipping events.
	from := uint64(1)
	if page.Cursor != "" {
		raw, err := DecodeCursor(page.Cursor)
		cid, ver, ok := strings.Cut(raw, "@")
		n, nerr := strconv.ParseUint(ver, 10, 64)
		if err != nil || !ok || cid != id || nerr != nil || n < 2 {
			return Invalid("cursor", "format", "is not a cursor this server gave out for this project's history")
		}
		from = n
	}
	ctx := c.Request().Context()
	evs, err := h.d.Log.ReadStream(ctx, domain.ProjectStream(id), from, eventstore.Forwards, page.Limit+1)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return NotFound("project", id)
	}
	if err != nil {
		return err
	}
	if from == 1 && len(evs) == 0 {
		return NotFound("project", id)
	}
	next := ""
	if len(evs) > page.Limit {
		evs = evs[:page.Limit]
		next = EncodeCursor(id + "@" + strconv.FormatUint(evs[len(evs)-1].Version+1, 10))
	}
	if err := h.recordRead(c, commands.ReadProjectHistory, id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewList(evs, next))
}

// ---- rankings, assessments ----

func (h *handlers) getRanking(c echo.Context) error {
	v := h.s.Validator()
	format, err := ParseFormat(c)
	v.Merge(err)
	asOf, err := ParseAsOf(c, h.s.Location())
	v.Merge(err)
	period := param(c, v, "period")
	if period == "" {
		v.Add("period", "required", "is required: a year (2024), quarter (2024-Q2), month (2024-05) or ISO week (2024-W18)")
	} else if _, err := domain.ParsePeriod(period, h.s.Location()); err != nil {
		v.Add("period", "format", "must be a year (2024), quarter (2024-Q2), month (2024-05) or ISO week (2024-W18)")
	}
	kind := enum(v, "kind", param(c, v, "kind"), false, domain.UnitKinds())
	if err := v.Err(); err != nil {
		return err
	}
	res, err := h.d.Views.Ranking(projections.RankingQuery{Period: period, Kind: kind, AsOf: asOf.At, Basis: basisOf(asOf)})
	if err != nil {
		return err
	}
	out := rankingOf(res)
	if format != FormatJSON {
		name := "晾晒排名-" + out.Period
		fallback := "ranking-" + out.Period
		if kind != "" {
			name += "-" + unitKindNames[kind]
			fallback += "-" + string(kind)
		}
		return RespondExport(c, format, ExportName{Name: name, Fallback: fallback}, rankingTable(out))
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) getAssessment(c echo.Context) error {
	year, err := PathYear(c, "year")
	if err != nil {
		return err
	}
	v := h.s.Validator()
	format, err := ParseFormat(c)
	v.Merge(err)
	asOf, err := ParseAsOf(c, h.s.Location())
	v.Merge(err)
	kind := enum(v, "kind", param(c, v, "kind"), false, domain.UnitKinds())
	if err := v.Err(); err != nil {
		return err
	}
	res, err := h.d.Views.Assessment(projections.AssessmentQuery{Year: year, Kind: kind, AsOf: asOf.At, Basis: basisOf(asOf)})
	if err != nil {
		return err
	}
	out := assessmentOf(res)
	if format != FormatJSON {
		name := "年度考核-" + strconv.Itoa(year)
		fallback := "assessment-" + strconv.Itoa(year)
		if kind != "" {
			name += "-" + unitKindNames[kind]
			fallback += "-" + string(kind)
		}
		return RespondExport(c, format, ExportName{Name: name, Fallback: fallback}, assessmentTable(out))
	}
	return c.JSON(http.StatusOK, out)
}

// ---- supervision ----

func (h *handlers) listAlerts(c echo.Context) error {
	v := h.s.Validator()
	format, err := ParseFormat(c)
	v.Merge(err)
	page, err := ParsePage(c)
	v.Merge(err)
	q := projections.AlertQuery{Now: h.s.Now(), Unit: h.unitParam(c, v),
		Kind: v.OneOf("kind", param(c, v, "kind"), false, domain.AlertKinds()...)}
	if err := v.Err(); err != nil {
		return err
	}
	fetch := func(limit int, cursor string) ([]Alert, string, error) {
		q.Limit, q.Cursor = limit, cursor
		p, err := h.d.Views.Alerts(q)
		out := make([]Alert, len(p.Items))
		for i, a := range p.Items {
			out[i] = alertOf(a)
		}
		return out, p.NextCursor, err
	}
	if format != FormatJSON {
		rows, err := collect(c, page, fetch)
		if err != nil {
			return err
		}
		return RespondExport(c, format, ExportName{Name: "督办预警", Fallback: "alerts"}, h.alertTable(rows))
	}
	items, next, err := fetch(page.Limit, page.Cursor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewList(items, next))
}

func (h *handlers) listOrders(c echo.Context) error {
	v := h.s.Validator()
	format, err := ParseFormat(c)
	v.Merge(err)
	page, err := ParsePage(c)
	v.Merge(err)
	q := projections.OrderQuery{Now: h.s.Now(), Unit: h.unitParam(c, v),
		Status: v.OneOf("status", param(c, v, "status"), false, projections.StatusOpen, projections.StatusOverdue, projections.StatusClosed)}
	if err := v.Err(); err != nil {
		return err
	}
	fetch := func(limit int, cursor string) ([]Order, string, error) {
		q.Limit, q.Cursor = limit, cursor
		p, err := h.d.Views.Orders(q)
		out := make([]Order, len(p.Items))
		for i, o := range p.Items {
			out[i] = orderOf(o)
		}
		return out, p.NextCursor, err
	}
	if format != FormatJSON {
		rows, err := collect(c, page, fetch)
		if err != nil {
			return err
		}
		return RespondExport(c, format, ExportName{Name: "督办事项", Fallback: "supervision-orders"}, h.orderTable(rows))
	}
	items, next, err := fetch(page.Limit, page.Cursor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewList(items, next))
}

func (h *handlers) getRates(c echo.Context) error {
	v := h.s.Validator()
	format, err := ParseFormat(c)
	v.Merge(err)
	year := 0
	if s := param(c, v, "year"); s != "" {
		year = v.Year("year", s)
	}
	unit := h.unitParam(c, v)
	if err := v.Err(); err != nil {
		return err
	}
	res, err := h.d.Views.Rates(year, unit, h.s.Now())
	if err != nil {
		return err
	}
	out := ratesOf(res)
	if format != FormatJSON {
		return RespondExport(c, format, ExportName{Name: "履约率开工率资金到位率-" + strconv.Itoa(out.Year),
			Fallback: "rates-" + strconv.Itoa(out.Year)}, ratesTable(out))
	}
	return c.JSON(http.StatusOK, out)
}

// ---- tolerance ----

// listCases answers the tolerance cases. Reading them is recorded in the
// read-access log (which list was read: its filter and page), before the
// answer is written.
func (h *handlers) listCases(c echo.Context) error {
	v := h.s.Validator()
	page, err := ParsePage(c)
	v.Merge(err)
	status := v.OneOf("status", param(c, v, "status"), false, domain.CaseOpen, domain.CaseDecided)
	if err := v.Err(); err != nil {
		return err
	}
	p, err := h.d.Views.Cases(projections.CaseQuery{Status: status, Limit: page.Limit, Cursor: page.Cursor})
	if err != nil {
		return err
	}
	items := make([]ToleranceCase, len(p.Items))
	for i, it := range p.Items {
		items[i] = caseOf(it)
	}
	if err := h.recordRead(c, ReadToleranceCaseList, listReadID(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewList(items, p.NextCursor))
}

// ReadToleranceCaseList is the read-access log's resource for a read of the
// list of tolerance cases; its id is the list's query (status, limit,
// cursor).
const ReadToleranceCaseList = "tolerance_case_list"

// listReadID names which page of a list was read, within the read-access
// log's 200 characters.
func listReadID(c echo.Context) string {
	q := c.QueryParams()
	var parts []string
	for _, k := range []string{"status", "limit", "cursor"} {
		if q.Has(k) {
			parts = append(parts, k+"="+q.Get(k))
		}
	}
	s := strings.Join(parts, "&")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func (h *handlers) getCase(c echo.Context) error {
	id, err := PathID(c, "id", "tolerance case")
	if err != nil {
		return err
	}
	it, _, ok := h.d.Views.Case(id)
	if !ok {
		return NotFound("tolerance case", id)
	}
	if err := h.recordRead(c, commands.ReadToleranceCase, id); err != nil {
		return err
	}
	SetETag(c, it.Version)
	return c.JSON(http.StatusOK, caseOf(it))
}

// recordRead records that the request's actor read a resource. The read
// fails (500) when its record cannot be made: an audited read that leaves
// no trace is worse than no read. The error is not wrapped, so that no rule
// of errorRules can turn the failure into a client error.
func (h *handlers) recordRead(c echo.Context, resource, id string) error {
	a, _ := ActorFrom(c)
	rid := RequestID(c)
	ctx := c.Request().Context()
	_, err := h.d.Commands.RecordRead.Handle(ctx, commands.RecordRead{Resource: resource, ID: id, Meta: commands.Meta{
		Actor:         eventstore.Actor{Subject: a.Subject, Role: a.Role, Unit: a.Unit},
		CorrelationID: rid,
		RequestID:     rid,
	}})
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return &readNotRecordedError{resource: resource, id: id, cause: err.Error()}
}

// readNotRecordedError is a read refused because the read-access log could
// not record it: always a server failure (500).
type readNotRecordedError struct {
	resource, id, cause string
}

func (e *readNotRecordedError) Error() string {
	return fmt.Sprintf("api: the read of %s %q could not be recorded: %s", e.resource, e.id, e.cause)
}
