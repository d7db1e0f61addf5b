package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// ReportSupervisionProgress is POST /api/v1/supervision/orders/{id}/progress:
// a progress report on an open order (周调度, Changsha 十三), by the order's
// responsible unit or the centre. OrderID is the path's {id}.
type ReportSupervisionProgress struct {
	OrderID    string    `json:"order_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Summary    string    `json:"summary"`
	Meta       Meta      `json:"-"`
}

// Operation is OpReportSupervisionProgress.
func (ReportSupervisionProgress) Operation() Operation { return OpReportSupervisionProgress }

// Metadata returns the command's Meta.
func (c ReportSupervisionProgress) Metadata() Meta { return c.Meta }

type reportSupervisionProgressHandler struct{ e *engine }

func (h reportSupervisionProgressHandler) Handle(ctx context.Context, c ReportSupervisionProgress) (Result, error) {
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onOrder(ctx, x, c.OrderID, domain.ReportProgress{OccurredAt: c.OccurredAt, Summary: c.Summary})
	})
}
