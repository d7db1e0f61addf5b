package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// DecideTolerance is POST /api/v1/tolerance/cases/{id}/decision: the discipline
// commission's ruling (exempt 免责, reduced 减责, rejected) with its rationale,
// once. CaseID is the path's {id}.
type DecideTolerance struct {
	CaseID    string                   `json:"case_id"`
	Decision  domain.ToleranceDecision `json:"decision"`
	Rationale string                   `json:"rationale"`
	Meta      Meta                     `json:"-"`
}

// Operation is OpDecideTolerance.
func (DecideTolerance) Operation() Operation { return OpDecideTolerance }

// Metadata returns the command's Meta.
func (c DecideTolerance) Metadata() Meta { return c.Meta }

type decideToleranceHandler struct{ e *engine }

func (h decideToleranceHandler) Handle(ctx context.Context, c DecideTolerance) (Result, error) {
	notFound := &domain.NotFoundError{What: "tolerance case", ID: c.CaseID}
	if !domain.ValidID(c.CaseID) {
		return Result{}, notFound
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return execute(ctx, h.e, x, streamPlan[*domain.ToleranceCase]{
			stream: domain.ToleranceStream(c.CaseID),
			id:     c.CaseID,
			state:  func() *domain.ToleranceCase { return domain.NewToleranceCase(c.CaseID) },
			check: func(_ context.Context, tc *domain.ToleranceCase) error {
				if !tc.Exists() {
					return notFound
				}
				return nil
			},
			decide: func(_ context.Context, tc *domain.ToleranceCase, now time.Time) ([]domain.Event, error) {
				return tc.DecideDecision(domain.DecideTolerance{Decision: c.Decision, Rationale: c.Rationale}, now)
			},
		})
	})
}
