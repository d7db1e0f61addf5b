package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// TerminateProject is POST /api/v1/projects/{id}/termination: the project
// ends, for good. Kind and cause decide fault-tolerance eligibility (Jiaxing
// 2024 三(四)). ProjectID is the path's {id}.
type TerminateProject struct {
	ProjectID   string                  `json:"project_id"`
	OccurredAt  time.Time               `json:"occurred_at"`
	Kind        domain.TerminationKind  `json:"kind"`
	Cause       domain.TerminationCause `json:"cause"`
	Explanation string                  `json:"explanation"`
	Meta        Meta                    `json:"-"`
}

// Operation is OpTerminateProject.
func (TerminateProject) Operation() Operation { return OpTerminateProject }

// Metadata returns the command's Meta.
func (c TerminateProject) Metadata() Meta { return c.Meta }

type terminateProjectHandler struct{ e *engine }

func (h terminateProjectHandler) Handle(ctx context.Context, c TerminateProject) (Result, error) {
	cmd := domain.TerminateProject{
		OccurredAt:  c.OccurredAt,
		Kind:        c.Kind,
		Cause:       c.Cause,
		Explanation: c.Explanation,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, decideWith(cmd))
	})
}
