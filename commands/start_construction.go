package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// StartConstruction is POST /api/v1/projects/{id}/construction-start: 开工,
// after signing. ProjectID is the path's {id}.
type StartConstruction struct {
	ProjectID  string    `json:"project_id"`
	OccurredAt time.Time `json:"occurred_at"`
	PermitNo   string    `json:"permit_no,omitempty"`
	Meta       Meta      `json:"-"`
}

// Operation is OpStartConstruction.
func (StartConstruction) Operation() Operation { return OpStartConstruction }

// Metadata returns the command's Meta.
func (c StartConstruction) Metadata() Meta { return c.Meta }

type startConstructionHandler struct{ e *engine }

func (h startConstructionHandler) Handle(ctx context.Context, c StartConstruction) (Result, error) {
	cmd := domain.StartConstruction{
		OccurredAt: c.OccurredAt,
		PermitNo:   c.PermitNo,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, decideWith(cmd))
	})
}
