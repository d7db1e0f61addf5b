package commands

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Store is what the commands need of the event store: append with an
// expected version, read a stream, and the head of the global log (the
// position a published assessment is frozen at). Every eventstore backend
// satisfies it; tests may wrap one to inject faults.
type Store interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events []eventstore.NewEvent) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, max int) ([]eventstore.Event, error)
	Head(ctx context.Context) (eventstore.Position, error)
}

// Deps are the dependencies of the command handlers. Store, Clock and
// Location are required; the rest are optional.
type Deps struct {
	Store Store
	// Clock is the server's clock: "now" of every decision and the
	// occurred_at of the ledger's own acts (a filing, a correction). Tests
	// pass a fixed one; production passes time.Now.
	Clock func() time.Time
	// Location is the configured time zone (API.md: default Asia/Shanghai).
	// Dates are civil dates in it, and now is expressed in it.
	Location *time.Location
	// MaxRetries bounds how often a command is decided again after losing
	// an optimistic-concurrency race to another writer (another API node,
	// or another process on the same store). 0 means DefaultMaxRetries.
	MaxRetries int
	// CachedStreams is how many streams' decoded events are kept between
	// commands (see engine.load); 0 means DefaultCachedStreams, negative
	// disables the cache.
	CachedStreams int
	// Logger, when set, logs every command's outcome (debug) and every
	// unexpected failure (error).
	Logger *slog.Logger
	// Observe, when set, is called after every command with its operation,
	// duration and error; the composition root hooks metrics here so this
	// package needs no metrics library.
	Observe func(op Operation, d time.Duration, err error)
}

// Defaults for Deps fields left 0.
const (
	DefaultMaxRetries    = 5
	DefaultCachedStreams = 1024
)

// Validate reports the first missing or invalid dependency.
func (d Deps) Validate() error {
	switch {
	case d.Store == nil:
		return errors.New("commands: Deps.Store is required")
	case d.Clock == nil:
		return errors.New("commands: Deps.Clock is required")
	case d.Location == nil:
		return errors.New("commands: Deps.Location is required")
	case d.MaxRetries < 0:
		return errors.New("commands: Deps.MaxRetries must not be negative")
	}
	return nil
}

// Meta is what the server, not the body, says about a command: who sends it
// and the HTTP headers that shape its execution.
type Meta struct {
	// Actor is stamped on every event, from the bearer token.
	Actor eventstore.Actor
	// IdempotencyKey (header Idempotency-Key, at most 255 bytes): a retried
	// command with the same key and the same body answers the first
	// Result and appends nothing; the same key with another body is
	// ErrIdempotencyMismatch. Keys are scoped to Actor.Subject.
	IdempotencyKey string
	// IfMatch (header If-Match: "N"), when set, makes the command fail with
	// *PreconditionFailedError unless the stream it acts on is at version N
	// when it is loaded and still when it is appended to.
	IfMatch *uint64
	// CorrelationID ties the command's events to a wider piece of work;
	// empty means the command id.
	CorrelationID string
	// RequestID is the HTTP request's id, recorded as the causation id of
	// the events (empty means the command id).
	RequestID string
}

// Result answers a command that was accepted.
type Result struct {
	// ID names the resource the command acted on: a project, order or case
	// id; a unit code; "2024/nanhu" for targets; the year for assessment
	// commands; the policy version for AdoptPolicy; the stream for
	// RecordRead.
	ID string `json:"id"`
	// Stream and Version: the stream appended to and its version after the
	// command (the ETag). When the command had nothing to record (an
	// identical re-PUT) they are the stream and its current version.
	Stream  string `json:"stream"`
	Version uint64 `json:"version"`
	// Position is the global position of the last event appended (or of
	// the stream's last event when nothing was appended): a client passes it
	// as min_position to read its own write.
	Position eventstore.Position `json:"position"`
	// Created is true when the command created the resource ID names: a
	// reported project, an issued order, a requested tolerance case, a new
	// unit, a unit's first targets for the year, a new policy version.
	Created bool `json:"created"`
	// Appended is how many events the command appended (0 when there was
	// nothing to record).
	Appended int `json:"appended"`
	// CommandID is stamped on every event of the command.
	CommandID string `json:"command_id"`
	// ExclusiveUntil (ReportProject) is the end of the first-negotiation
	// window the report was granted, if any (首报首谈).
	ExclusiveUntil *time.Time `json:"exclusive_until,omitempty"`
	// PolicyVersion (AdoptPolicy, PublishAssessment) is the policy version
	// adopted, in force, or frozen with the assessment.
	PolicyVersion int `json:"policy_version,omitempty"`
	// Replayed is true when this is the stored answer of an earlier command
	// with the same idempotency key: nothing was appended this time.
	Replayed bool `json:"-"`
}

// Command is implemented by every request type: the operation it is, for
// authorisation, idempotency and metrics, and its Meta.
type Command interface {
	Operation() Operation
	Metadata() Meta
}

// Handler handles one command type. App's fields are Handlers with the
// cross-cutting decorators already applied.
type Handler[C Command] interface {
	Handle(ctx context.Context, cmd C) (Result, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc[C Command] func(ctx context.Context, cmd C) (Result, error)

// Handle calls f.
func (f HandlerFunc[C]) Handle(ctx context.Context, cmd C) (Result, error) { return f(ctx, cmd) }

// App bundles one handler per command. Build it with New; it is safe for
// concurrent use.
type App struct {
	RegisterUnit              Handler[RegisterUnit]
	AdoptPolicy               Handler[AdoptPolicy]
	SetTargets                Handler[SetTargets]
	ReportProject             Handler[ReportProject]
	RecordNegotiation         Handler[RecordNegotiation]
	RecordDueProcess          Handler[RecordDueProcess]
	FileSigning               Handler[FileSigning]
	SignContract              Handler[SignContract]
	AmendContract             Handler[AmendContract]
	TransferProject           Handler[TransferProject]
	RegisterCompany           Handler[RegisterCompany]
	StartConstruction         Handler[StartConstruction]
	RecordFunds               Handler[RecordFunds]
	StartProduction           Handler[StartProduction]
	TerminateProject          Handler[TerminateProject]
	CorrectDetails            Handler[CorrectDetails]
	IssueSupervisionOrder     Handler[IssueSupervisionOrder]
	ReportSupervisionProgress Handler[ReportSupervisionProgress]
	CloseSupervisionOrder     Handler[CloseSupervisionOrder]
	AwardBonus                Handler[AwardBonus]
	PublishAssessment         Handler[PublishAssessment]
	RequestTolerance          Handler[RequestTolerance]
	DecideTolerance           Handler[DecideTolerance]
	RecordRead                Handler[RecordRead]
}

// New builds the handlers over deps, refusing missing dependencies. Every
// handler is wrapped, here and only here, by the same decorators: the role
// check of the authorisation table, then logging and metrics when
// configured.
func New(deps Deps) (*App, error) {
	if err := deps.Validate(); err != nil {
		return nil, err
	}
	e := newEngine(deps)
	return &App{
		RegisterUnit:              decorate(e, Handler[RegisterUnit](registerUnitHandler{e})),
		AdoptPolicy:               decorate(e, Handler[AdoptPolicy](adoptPolicyHandler{e})),
		SetTargets:                decorate(e, Handler[SetTargets](setTargetsHandler{e})),
		ReportProject:             decorate(e, Handler[ReportProject](reportProjectHandler{e})),
		RecordNegotiation:         decorate(e, Handler[RecordNegotiation](recordNegotiationHandler{e})),
		RecordDueProcess:          decorate(e, Handler[RecordDueProcess](recordDueProcessHandler{e})),
		FileSigning:               decorate(e, Handler[FileSigning](fileSigningHandler{e})),
		SignContract:              decorate(e, Handler[SignContract](signContractHandler{e})),
		AmendContract:             decorate(e, Handler[AmendContract](amendContractHandler{e})),
		TransferProject:           decorate(e, Handler[TransferProject](transferProjectHandler{e})),
		RegisterCompany:           decorate(e, Handler[RegisterCompany](registerCompanyHandler{e})),
		StartConstruction:         decorate(e, Handler[StartConstruction](startConstructionHandler{e})),
		RecordFunds:               decorate(e, Handler[RecordFunds](recordFundsHandler{e})),
		StartProduction:           decorate(e, Handler[StartProduction](startProductionHandler{e})),
		TerminateProject:          decorate(e, Handler[TerminateProject](terminateProjectHandler{e})),
		CorrectDetails:            decorate(e, Handler[CorrectDetails](correctDetailsHandler{e})),
		IssueSupervisionOrder:     decorate(e, Handler[IssueSupervisionOrder](issueSupervisionOrderHandler{e})),
		ReportSupervisionProgress: decorate(e, Handler[ReportSupervisionProgress](reportSupervisionProgressHandler{e})),
		CloseSupervisionOrder:     decorate(e, Handler[CloseSupervisionOrder](closeSupervisionOrderHandler{e})),
		AwardBonus:                decorate(e, Handler[AwardBonus](awardBonusHandler{e})),
		PublishAssessment:         decorate(e, Handler[PublishAssessment](publishAssessmentHandler{e})),
		RequestTolerance:          decorate(e, Handler[RequestTolerance](requestToleranceHandler{e})),
		DecideTolerance:           decorate(e, Handler[DecideTolerance](decideToleranceHandler{e})),
		RecordRead:                decorate(e, Handler[RecordRead](recordReadHandler{e})),
	}, nil
}
