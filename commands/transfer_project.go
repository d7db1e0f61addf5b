package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// TransferProject is POST /api/v1/projects/{id}/transfers: the centre, and
// only the centre, moves a project to another unit (项目流转, Jiaxing 2024
// 二(一)3; Xiamen 三(二)4). The receiving unit must be registered; the
// first-negotiation unit is kept. ProjectID is the path's {id}.
type TransferProject struct {
	ProjectID  string          `json:"project_id"`
	ToUnit     domain.UnitCode `json:"to_unit"`
	Reason     string          `json:"reason"`
	OccurredAt time.Time       `json:"occurred_at"`
	Meta       Meta            `json:"-"`
}

// Operation is OpTransferProject.
func (TransferProject) Operation() Operation { return OpTransferProject }

// Metadata returns the command's Meta.
func (c TransferProject) Metadata() Meta { return c.Meta }

type transferProjectHandler struct{ e *engine }

func (h transferProjectHandler) Handle(ctx context.Context, c TransferProject) (Result, error) {
	cmd := domain.TransferProject{
		ToUnit:     c.ToUnit,
		Reason:     c.Reason,
		OccurredAt: c.OccurredAt,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, []unitRef{{field: "to_unit", code: c.ToUnit, host: true}}, decideWith(cmd))
	})
}
