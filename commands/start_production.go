package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// StartProduction is POST /api/v1/projects/{id}/production: 投产/运营, after
// signing. ProjectID is the path's {id}.
type StartProduction struct {
	ProjectID  string    `json:"project_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Meta       Meta      `json:"-"`
}

// Operation is OpStartProduction.
func (StartProduction) Operation() Operation { return OpStartProduction }

// Metadata returns the command's Meta.
func (c StartProduction) Metadata() Meta { return c.Meta }

type startProductionHandler struct{ e *engine }

func (h startProductionHandler) Handle(ctx context.Context, c StartProduction) (Result, error) {
	cmd := domain.StartProduction{
		OccurredAt: c.OccurredAt,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, decideWith(cmd))
	})
}
