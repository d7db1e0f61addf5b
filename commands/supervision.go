package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// onOrder is the write path of a command on an existing supervision order:
// an unknown id is domain.ErrNotFound; a unit_staff actor may act only on
// orders its unit is responsible for.
func (e *engine) onOrder(ctx context.Context, x *exec, orderID string, cmd domain.SupervisionCommand) (Result, error) {
	notFound := &domain.NotFoundError{What: "supervision order", ID: orderID}
	if !domain.ValidID(orderID) {
		return Result{}, notFound
	}
	return execute(ctx, e, x, streamPlan[*domain.SupervisionOrder]{
		stream: domain.SupervisionStream(orderID),
		id:     orderID,
		state:  func() *domain.SupervisionOrder { return domain.NewSupervisionOrder(orderID) },
		check: func(_ context.Context, o *domain.SupervisionOrder) error {
			issued, ok := o.Issued()
			if !ok {
				return notFound
			}
			return authorizeUnit(x.meta.Actor, x.op, issued.ResponsibleUnit)
		},
		decide: func(ctx context.Context, o *domain.SupervisionOrder, now time.Time) ([]domain.Event, error) {
			pol, err := e.policy(ctx)
			if err != nil {
				return nil, err
			}
			return o.Decide(cmd, pol, now)
		},
	})
}
