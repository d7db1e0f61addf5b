package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// RegisterUnit is PUT /api/v1/units/{code}: registers a unit or updates its
// name, kind or founding date (admin or centre). Code is the path's {code}. The stream is the
// single "units" stream, so Result.Version (and If-Match) is that stream's
// version; an identical PUT records nothing.
type RegisterUnit struct {
	Code domain.UnitCode `json:"code"`
	Name string          `json:"name"`
	Kind domain.UnitKind `json:"kind"`
	// EstablishedOn: see domain.Unit (zero: took part from the start).
	EstablishedOn domain.Date `json:"established_on,omitzero"`
	Meta          Meta        `json:"-"`
}

// Operation is OpRegisterUnit.
func (RegisterUnit) Operation() Operation { return OpRegisterUnit }

// Metadata returns the command's Meta.
func (c RegisterUnit) Metadata() Meta { return c.Meta }

type registerUnitHandler struct{ e *engine }

func (h registerUnitHandler) Handle(ctx context.Context, c RegisterUnit) (Result, error) {
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return execute(ctx, h.e, x, streamPlan[*domain.Units]{
			stream: domain.StreamUnits,
			id:     string(c.Code),
			state:  func() *domain.Units { return &domain.Units{} },
			decide: func(_ context.Context, u *domain.Units, now time.Time) ([]domain.Event, error) {
				return u.Decide(domain.RegisterUnit{Code: c.Code, Name: c.Name, Kind: c.Kind, EstablishedOn: c.EstablishedOn}, now)
			},
			finish: func(r *Result, _ *domain.Units, appended []domain.Event) {
				for _, ev := range appended {
					if _, ok := domain.Unwrap(ev).(domain.UnitRegistered); ok {
						r.Created = true
					}
				}
			},
		})
	})
}
