package commands

import (
	"context"
	"strconv"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// SetTargets is PUT /api/v1/targets/{year}/{unit}: the centre sets (replaces)
// a unit's annual targets (Jiaxing 2024 一(二); Suzhou 一). Year and Unit are
// the path's; the unit must be registered. Setting the same targets again
// records nothing. Result.ID is "<year>/<unit>".
type SetTargets struct {
	Year       int                          `json:"year"`
	Unit       domain.UnitCode              `json:"unit"`
	Indicators map[domain.Indicator]float64 `json:"indicators"`
	Meta       Meta                         `json:"-"`
}

// Operation is OpSetTargets.
func (SetTargets) Operation() Operation { return OpSetTargets }

// Metadata returns the command's Meta.
func (c SetTargets) Metadata() Meta { return c.Meta }

type setTargetsHandler struct{ e *engine }

func (h setTargetsHandler) Handle(ctx context.Context, c SetTargets) (Result, error) {
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return execute(ctx, h.e, x, streamPlan[*domain.AnnualTargets]{
			stream: domain.TargetsStream(c.Year),
			id:     strconv.Itoa(c.Year) + "/" + string(c.Unit),
			state:  func() *domain.AnnualTargets { return &domain.AnnualTargets{} },
			decide: func(ctx context.Context, t *domain.AnnualTargets, now time.Time) ([]domain.Event, error) {
				uerr := h.e.requireUnits(ctx, unitRef{field: "unit", code: c.Unit})
				if uerr != nil && !isValidation(uerr) {
					return nil, uerr
				}
				evs, err := t.Decide(domain.SetTargets{Year: c.Year, Unit: c.Unit, Indicators: c.Indicators}, now)
				return evs, withUnitErrors(err, uerr)
			},
			finish: func(r *Result, before *domain.AnnualTargets, appended []domain.Event) {
				r.Created = len(appended) > 0 && before.Of(c.Unit) == nil
			},
		})
	})
}
