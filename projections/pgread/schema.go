package pgread

import (
	"fmt"
	"regexp"
	"strings"
)

// ddlVersion numbers the table definitions below. A change is a new
// version: Open then rebuilds into a new generation and swaps, so readers
// move from the old tables to the new ones atomically.
const ddlVersion = 1

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`)

// tables are the generation schema's tables, created in order. %s is the
// generation schema, already quoted.
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
	investor_categories text[] NOT NULL,
	industry_chain      text NOT NULL,
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
	version             bigint NOT NULL,
	position            text NOT NULL)`},
	{"projects_unit_stage", `CREATE INDEX ON %s.projects (unit, stage)`},
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
	evaluated_at    timestamptz NOT NULL,
	PRIMARY KEY (year, unit))`},
	{"assessments", `CREATE TABLE %s.assessments (
	year           integer NOT NULL,
	unit           text NOT NULL,
	unit_name      text NOT NULL,
	unit_kind      text NOT NULL,
	score          double precision NOT NULL,
	rating         text NOT NULL,
	completion     jsonb NOT NULL,
	overall        double precision NOT NULL,
	bonus          double precision NOT NULL,
	deductions     double precision NOT NULL,
	rank           integer NOT NULL,
	flags          text[] NOT NULL,
	published      boolean NOT NULL,
	policy_version integer NOT NULL,
	position       text NOT NULL,
	current_score  double precision,
	current_rating text,
	differs        boolean NOT NULL,
	PRIMARY KEY (year, unit))`},
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

// readerViews are the stable names readers use; %[1]s is the generation
// schema. four_lists is the projects in the four lists (Jiaxing 2024
// 二(一)1), open_alerts the alerts the last evaluation found open.
var readerViews = []struct {
	name  string
	query string
}{
	{"checkpoint", `SELECT position, commit_pos, prepare_pos, events, updated_at FROM %[1]s.checkpoint`},
	{"projects", `SELECT * FROM %[1]s.projects`},
	{"four_lists", `SELECT stage AS list, * FROM %[1]s.projects WHERE stage IN ('negotiating', 'signed', 'registered', 'started')`},
	{"rankings", `SELECT * FROM %[1]s.rankings`},
	{"alerts", `SELECT * FROM %[1]s.alerts`},
	{"orders", `SELECT * FROM %[1]s.orders`},
	{"rates", `SELECT * FROM %[1]s.rates`},
	{"assessments", `SELECT * FROM %[1]s.assessments`},
	{"tolerance_cases", `SELECT * FROM %[1]s.tolerance_cases`},
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func genSchema(base string, gen int64) string { return fmt.Sprintf("%s_g%d", base, gen) }
