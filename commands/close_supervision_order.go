package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// CloseSupervisionOrder is POST /api/v1/supervision/orders/{id}/closure: the
// centre closes an order (办结), once. OrderID is the path's {id}.
type CloseSupervisionOrder struct {
	OrderID    string    `json:"order_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Result     string    `json:"result"`
	Meta       Meta      `json:"-"`
}

// Operation is OpCloseSupervisionOrder.
func (CloseSupervisionOrder) Operation() Operation { return OpCloseSupervisionOrder }

// Metadata returns the command's Meta.
func (c CloseSupervisionOrder) Metadata() Meta { return c.Meta }

type closeSupervisionOrderHandler struct{ e *engine }

func (h closeSupervisionOrderHandler) Handle(ctx context.Context, c CloseSupervisionOrder) (Result, error) {
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onOrder(ctx, x, c.OrderID, domain.CloseOrder{OccurredAt: c.OccurredAt, Result: c.Result})
	})
}
