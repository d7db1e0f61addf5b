package commands

import (
	"context"
	"strconv"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// PublishAssessment is POST /api/v1/assessments/{year}/publication: the centre
// freezes a year's result (AssessmentPublished) once the year has ended. The
// API body is empty; the optional fields let the API freeze exactly the table
// it computed:
//
//   - Position: the log position the result is computed at; nil means the
//     store's head when the command is decided.
//   - PolicyVersion: the policy version it is computed under; nil means the
//     version in force at the end of the year (the one the views assess the
//     year under), never one adopted later. It must be an existing version.
//   - Results: the table as shown, kept in the event.
//
// Result.ID is the year; Result.PolicyVersion the version frozen.
type PublishAssessment struct {
	Year          int                       `json:"year"`
	Position      *eventstore.Position      `json:"position,omitempty"`
	PolicyVersion *int                      `json:"policy_version,omitempty"`
	Results       []domain.AssessmentResult `json:"results,omitempty"`
	Meta          Meta                      `json:"-"`
}

// Operation is OpPublishAssessment.
func (PublishAssessment) Operation() Operation { return OpPublishAssessment }

// Metadata returns the command's Meta.
func (c PublishAssessment) Metadata() Meta { return c.Meta }

type publishAssessmentHandler struct{ e *engine }

func (h publishAssessmentHandler) Handle(ctx context.Context, c PublishAssessment) (Result, error) {
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return execute(ctx, h.e, x, streamPlan[*domain.AssessmentYear]{
			stream: domain.AssessmentStream(c.Year),
			id:     strconv.Itoa(c.Year),
			state:  func() *domain.AssessmentYear { return &domain.AssessmentYear{} },
			decide: func(ctx context.Context, a *domain.AssessmentYear, now time.Time) ([]domain.Event, error) {
				ps, err := h.e.policies.get(ctx, h.e)
				if err != nil {
					return nil, err
				}
				version := ps.InForceAt(domain.YearPeriod(c.Year, h.e.loc).To.Add(-time.Nanosecond))
				if c.PolicyVersion != nil {
					if _, err := ps.At(*c.PolicyVersion); err != nil || *c.PolicyVersion < 0 {
						return nil, domain.ValidationErrors{{Field: "policy_version", Rule: "unknown",
							Message: "is not an adopted policy version"}}
					}
					version = *c.PolicyVersion
				}
				pos, err := h.e.store.Head(ctx)
				if err != nil {
					return nil, err
				}
				if c.Position != nil {
					if c.Position.Compare(pos) > 0 {
						return nil, domain.ValidationErrors{{Field: "position", Rule: "beyond_head",
							Message: "is beyond the last position of the log (" + pos.String() + ")"}}
					}
					pos = *c.Position
				}
				return a.Decide(domain.PublishAssessment{Year: c.Year, PolicyVersion: version,
					Position: pos.String(), Results: c.Results}, now)
			},
			finish: func(r *Result, before *domain.AssessmentYear, appended []domain.Event) {
				for _, ev := range appended {
					if p, ok := domain.Unwrap(ev).(domain.AssessmentPublished); ok {
						r.PolicyVersion = p.PolicyVersion
					}
				}
			},
		})
	})
}
