package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// AmendContract is POST /api/v1/projects/{id}/amendments: a change of the
// contracted investment, whose increment counts in the period it occurred.
// ProjectID is the path's {id}.
type AmendContract struct {
	ProjectID          string       `json:"project_id"`
	OccurredAt         time.Time    `json:"occurred_at"`
	ContractInvestment domain.Money `json:"contract_investment"`
	Reason             string       `json:"reason"`
	Meta               Meta         `json:"-"`
}

// Operation is OpAmendContract.
func (AmendContract) Operation() Operation { return OpAmendContract }

// Metadata returns the command's Meta.
func (c AmendContract) Metadata() Meta { return c.Meta }

type amendContractHandler struct{ e *engine }

func (h amendContractHandler) Handle(ctx context.Context, c AmendContract) (Result, error) {
	cmd := domain.AmendContract{
		OccurredAt:         c.OccurredAt,
		ContractInvestment: c.ContractInvestment,
		Reason:             c.Reason,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, decideWith(cmd))
	})
}
