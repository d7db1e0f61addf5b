package pgread

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ddlVersion numbers what the tables mean beyond their definitions: bump it
// when the rows written change without the DDL below changing (a column
// filled differently). A changed definition needs no bump: ddlFingerprint
// covers the DDL and the reader views' queries. Either change makes Open
// rebuild into a new generation and swap, so readers move from the old
// tables to the new ones atomically.
//
// 2: projects gained investor_origin, source_channel, alerts and
// project_corrections; orders order_progress; rates position; assessments
// published_at, admonish_reasons and the current/differences/corrections
// tables; projects are rewritten when units or the policy change.
const ddlVersion = 2

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`)

// tables are the generation schema's tables, created in order. %s is the
// generation schema, already quoted. Columns follow the Go answer they
// mirror (docs/views.md "PostgreSQL read-model tables"); a list inside an
// answer is a child table keyed by its parent and, where the answer's order
// is the log order, an ordinal n (1, 2, …).
var tables = []struct {
	name string
	ddl  string
}{
	{"checkpoint", `CREATE TABLE %s.checkpoint (
	one          boolean PRIMARY KEY DEFAULT true CHECK (one),
	position     text NOT NULL,
	commit_pos   numeric(20,0) NOT NULL,
	prepare_pos  numeric(20,0) NOT NULL,
	events       bigint NOT NULL,
	updated_at   timestamptz NOT NULL)`},
	{"projects", `CREATE TABLE %s.projects (
	id                  uuid PRIMARY KEY,
	seq                 bigint NOT NULL,
	name                text NOT NULL,
	stage               text NOT NULL,
	unit                text NOT NULL,
	first_unit          text NOT NULL,
	investor_name       text NOT NULL,
	investor_uscc       text NOT NULL,
	investor_origin     text NOT NULL,
	investor_categories text[] NOT NULL,
	industry_chain      text NOT NULL,
	source_channel      text NOT NULL,
	planned_amount      bigint NOT NULL,
	planned_currency    text NOT NULL,
	contract_amount     bigint,
	contract_currency   text,
	tier                text,
	usd100m             boolean NOT NULL,
	major               boolean NOT NULL,
	exclusive_until     timestamptz,
	reported_at         date,
	signed_at           date,
	registered_at       date,
	started_at          date,
	producing_at        date,
	terminated_at       date,
	funds_arrived       bigint NOT NULL,
	feasibility_study   boolean NOT NULL,
	risk_assessment     boolean NOT NULL,
	collective_decision boolean NOT NULL,
	termination_kind    text,
	termination_cause   text,
	alerts              text[] NOT NULL DEFAULT '{}',
	version             bigint NOT NULL,
	position            text NOT NULL)`},
	{"projects_unit_stage", `CREATE INDEX ON %s.projects (unit, stage)`},
	{"project_corrections", `CREATE TABLE %s.project_corrections (
	project_id     uuid NOT NULL,
	n              integer NOT NULL,
	field          text NOT NULL,
	reason         text NOT NULL,
	occurred_at    timestamptz NOT NULL,
	position       text NOT NULL,
	affected_years integer[] NOT NULL,
	flagged_years  integer[] NOT NULL,
	flagged        boolean NOT NULL,
	PRIMARY KEY (project_id, n))`},
	{"rankings", `CREATE TABLE %s.rankings (
	period         text NOT NULL,
	period_kind    text NOT NULL,
	period_from    timestamptz NOT NULL,
	period_to      timestamptz NOT NULL,
	unit           text NOT NULL,
	unit_name      text NOT NULL,
	unit_kind      text NOT NULL,
	rank           integer NOT NULL,
	score          double precision NOT NULL,
	indicators     jsonb NOT NULL,
	change         integer,
	policy_version integer NOT NULL,
	position       text NOT NULL,
	PRIMARY KEY (period, unit))`},
	{"alerts", `CREATE TABLE %s.alerts (
	kind         text NOT NULL,
	project_id   uuid,
	order_id     uuid,
	unit         text NOT NULL,
	since        timestamptz NOT NULL,
	detail       text NOT NULL,
	evidence     text,
	evaluated_at timestamptz NOT NULL)`},
	{"alerts_project", `CREATE INDEX ON %s.alerts (project_id)`},
	{"alerts_order", `CREATE INDEX ON %s.alerts (order_id)`},
	{"alerts_unit_kind", `CREATE INDEX ON %s.alerts (unit, kind)`},
	{"orders", `CREATE TABLE %s.orders (
	id               uuid PRIMARY KEY,
	project_id       uuid,
	matter           text NOT NULL,
	target           text NOT NULL,
	lead_leader      text NOT NULL,
	responsible_unit text NOT NULL,
	requirements     text NOT NULL,
	deadline         date NOT NULL,
	issued_at        timestamptz NOT NULL,
	status           text NOT NULL,
	progress_reports integer NOT NULL,
	closed_at        timestamptz,
	result           text NOT NULL,
	version          bigint NOT NULL,
	position         text NOT NULL,
	evaluated_at     timestamptz NOT NULL)`},
	{"order_progress", `CREATE TABLE %s.order_progress (
	order_id    uuid NOT NULL,
	n           integer NOT NULL,
	occurred_at timestamptz NOT NULL,
	summary     text NOT NULL,
	PRIMARY KEY (order_id, n))`},
	{"rates", `CREATE TABLE %s.rates (
	year            integer NOT NULL,
	unit            text NOT NULL,
	unit_name       text NOT NULL,
	fulfilment_met  integer NOT NULL,
	fulfilment_due  integer NOT NULL,
	fulfilment_rate double precision,
	started         integer NOT NULL,
	signed          integer NOT NULL,
	start_rate      double precision,
	funds_arrived   bigint NOT NULL,
	contracted      bigint NOT NULL,
	funds_rate      double precision,
	policy_version  integer NOT NULL,
	position        text NOT NULL,
	evaluated_at    timestamptz NOT NULL,
	PRIMARY KEY (year, unit))`},
	{"assessments", `CREATE TABLE %s.assessments (
	year             integer NOT NULL,
	unit             text NOT NULL,
	unit_name        text NOT NULL,
	unit_kind        text NOT NULL,
	score            double precision NOT NULL,
	rating           text NOT NULL,
	completion       jsonb NOT NULL,
	overall          double precision NOT NULL,
	bonus            double precision NOT NULL,
	deductions       double precision NOT NULL,
	rank             integer NOT NULL,
	flags            text[] NOT NULL,
	admonish_reasons text[] NOT NULL,
	published        boolean NOT NULL,
	published_at     timestamptz,
	policy_version   integer NOT NULL,
	position         text NOT NULL,
	current_score    double precision,
	current_rating   text,
	differs          boolean NOT NULL,
	PRIMARY KEY (year, unit))`},
	{"assessment_current", `CREATE TABLE %s.assessment_current (
	year             integer NOT NULL,
	unit             text NOT NULL,
	unit_name        text NOT NULL,
	unit_kind        text NOT NULL,
	score            double precision NOT NULL,
	rating           text NOT NULL,
	completion       jsonb NOT NULL,
	overall          double precision NOT NULL,
	bonus            double precision NOT NULL,
	deductions       double precision NOT NULL,
	rank             integer NOT NULL,
	flags            text[] NOT NULL,
	admonish_reasons text[] NOT NULL,
	policy_version   integer NOT NULL,
	position         text NOT NULL,
	PRIMARY KEY (year, unit))`},
	{"assessment_differences", `CREATE TABLE %s.assessment_differences (
	year   integer NOT NULL,
	unit   text NOT NULL,
	fields text[] NOT NULL,
	PRIMARY KEY (year, unit))`},
	{"assessment_corrections", `CREATE TABLE %s.assessment_corrections (
	year        integer NOT NULL,
	n           integer NOT NULL,
	project_id  uuid NOT NULL,
	field       text NOT NULL,
	reason      text NOT NULL,
	occurred_at timestamptz NOT NULL,
	position    text NOT NULL,
	PRIMARY KEY (year, n))`},
	{"tolerance_cases", `CREATE TABLE %s.tolerance_cases (
	id           uuid PRIMARY KEY,
	project_id   uuid NOT NULL,
	unit         text NOT NULL,
	grounds      text NOT NULL,
	requested_at timestamptz NOT NULL,
	status       text NOT NULL,
	eligible     boolean NOT NULL,
	checks       jsonb NOT NULL,
	evaluated_at text NOT NULL,
	decision     text,
	rationale    text,
	decided_by   text,
	decided_at   timestamptz,
	version      bigint NOT NULL,
	position     text NOT NULL)`},
}

// syncAlertsSQL sets projects.alerts to the kinds of the project's rows in
// alerts (its orders' included, as ProjectState.Alerts), in the order of
// domain.AlertKinds, touching only rows whose kinds changed. The column is
// derived from the alerts table in the transaction that writes the alerts,
// so the two never disagree, and a reader pays nothing for it. %[1]s is the
// generation schema, %[2]s the kinds in order (a text[] literal), %[3]s and
// %[4]s empty (every project) or conditions on the ids in $1.
const syncAlertsSQL = `UPDATE %[1]s.projects p SET alerts = k.kinds
FROM (SELECT q.id, coalesce(x.kinds, '{}') AS kinds FROM %[1]s.projects q
	LEFT JOIN (SELECT project_id, array_agg(kind ORDER BY array_position(%[2]s, kind)) AS kinds
		FROM (SELECT DISTINCT project_id, kind FROM %[1]s.alerts WHERE project_id IS NOT NULL %[3]s) d
		GROUP BY project_id) x ON x.project_id = q.id
	WHERE true %[4]s) k
WHERE p.id = k.id AND p.alerts IS DISTINCT FROM k.kinds`

// readerViews are the stable names readers use, one per table; %[1]s is
// the generation schema.
// four_lists is the projects in the four lists (Jiaxing 2024 二(一)1).
var readerViews = []struct {
	name  string
	query string
}{
	{"checkpoint", `SELECT position, commit_pos, prepare_pos, events, updated_at FROM %[1]s.checkpoint`},
	{"projects", `SELECT * FROM %[1]s.projects`},
	{"four_lists", `SELECT stage AS list, * FROM %[1]s.projects WHERE stage IN ('negotiating', 'signed', 'registered', 'started')`},
	{"project_corrections", `SELECT * FROM %[1]s.project_corrections`},
	{"rankings", `SELECT * FROM %[1]s.rankings`},
	{"alerts", `SELECT * FROM %[1]s.alerts`},
	{"orders", `SELECT * FROM %[1]s.orders`},
	{"order_progress", `SELECT * FROM %[1]s.order_progress`},
	{"rates", `SELECT * FROM %[1]s.rates`},
	{"assessments", `SELECT * FROM %[1]s.assessments`},
	{"assessment_current", `SELECT * FROM %[1]s.assessment_current`},
	{"assessment_differences", `SELECT * FROM %[1]s.assessment_differences`},
	{"assessment_corrections", `SELECT * FROM %[1]s.assessment_corrections`},
	{"tolerance_cases", `SELECT * FROM %[1]s.tolerance_cases`},
}

// ddlFingerprint identifies the table definitions and reader views above
// (and ddlVersion): <schema>.meta records the one the current generation
// was built with, and Open rebuilds when it differs, so an edited
// definition can never be used against tables built from another.
var ddlFingerprint = func() string {
	h := sha256.New()
	fmt.Fprintf(h, "ddl %d\n%s\n", ddlVersion, syncAlertsSQL)
	for _, t := range tables {
		fmt.Fprintf(h, "table %q %q\n", t.name, t.ddl)
	}
	for _, rv := range readerViews {
		fmt.Fprintf(h, "view %q %q\n", rv.name, rv.query)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}()

// textArray is a SQL text[] literal of simple words.
func textArray(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return `'{` + strings.ReplaceAll(strings.Join(q, ","), `'`, `''`) + `}'::text[]`
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func genSchema(base string, gen int64) string { return fmt.Sprintf("%s_g%d", base, gen) }
