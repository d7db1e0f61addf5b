package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// RequestTolerance is POST /api/v1/tolerance/cases: the owning unit or the
// centre opens a fault-tolerance case (容错免责, Jiaxing 2024 三(四)) for a
// terminated project. The server assigns the case id (Result.ID).
type RequestTolerance struct {
	ProjectID string `json:"project_id"`
	Grounds   string `json:"grounds"`
	Meta      Meta   `json:"-"`
}

// Operation is OpRequestTolerance.
func (RequestTolerance) Operation() Operation { return OpRequestTolerance }

// Metadata returns the command's Meta.
func (c RequestTolerance) Metadata() Meta { return c.Meta }

type requestToleranceHandler struct{ e *engine }

// Handle opens the case. The project is read (not appended to): its owner
// decides whether a unit_staff actor may ask, and the domain requires it to
// be terminated — a terminal state no concurrent command can change, so the
// project's version need not be part of the append's condition.
func (h requestToleranceHandler) Handle(ctx context.Context, c RequestTolerance) (Result, error) {
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		id := x.entityID()
		var project *domain.Project
		return execute(ctx, h.e, x, streamPlan[*domain.ToleranceCase]{
			stream: domain.ToleranceStream(id),
			id:     id,
			state:  func() *domain.ToleranceCase { return domain.NewToleranceCase(id) },
			check: func(ctx context.Context, _ *domain.ToleranceCase) error {
				project = domain.NewProjectFor(c.ProjectID)
				if !domain.ValidID(c.ProjectID) {
					return nil // the domain names the field
				}
				l, err := h.e.load(ctx, domain.ProjectStream(c.ProjectID))
				if err != nil {
					return err
				}
				fold(project, l.events)
				if !project.Exists() {
					return nil // the domain answers not found
				}
				return authorizeUnit(x.meta.Actor, x.op, project.Unit())
			},
			decide: func(_ context.Context, tc *domain.ToleranceCase, now time.Time) ([]domain.Event, error) {
				return tc.DecideRequest(domain.RequestTolerance{CaseID: id, ProjectID: c.ProjectID, Grounds: c.Grounds}, project, now)
			},
			finish: func(r *Result, _ *domain.ToleranceCase, appended []domain.Event) {
				r.Created = len(appended) > 0
			},
		})
	})
}
