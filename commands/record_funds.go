package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// RecordFunds is POST /api/v1/projects/{id}/funds: one arrival of funds
// (资金到位) under a signed contract; arrivals accumulate. ProjectID is the
// path's {id}.
type RecordFunds struct {
	ProjectID  string            `json:"project_id"`
	OccurredAt time.Time         `json:"occurred_at"`
	Amount     domain.Money      `json:"amount"`
	Source     domain.FundSource `json:"source"`
	Meta       Meta              `json:"-"`
}

// Operation is OpRecordFunds.
func (RecordFunds) Operation() Operation { return OpRecordFunds }

// Metadata returns the command's Meta.
func (c RecordFunds) Metadata() Meta { return c.Meta }

type recordFundsHandler struct{ e *engine }

func (h recordFundsHandler) Handle(ctx context.Context, c RecordFunds) (Result, error) {
	cmd := domain.RecordFunds{
		OccurredAt: c.OccurredAt,
		Amount:     c.Amount,
		Source:     c.Source,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, decideWith(cmd))
	})
}
