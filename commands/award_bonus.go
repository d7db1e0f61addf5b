package commands

import (
	"context"
	"strconv"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// AwardBonus is POST /api/v1/assessments/{year}/bonuses: the centre awards
// bonus points to a unit's assessment (Jiaxing 2024 三(一) 予以加分); negative
// points record a deduction (e.g. 弄虚作假). Year is the path's; the unit must
// be registered; a published year is frozen. Result.ID is the year.
type AwardBonus struct {
	Year   int             `json:"year"`
	Unit   domain.UnitCode `json:"unit"`
	Points float64         `json:"points"`
	Reason string          `json:"reason"`
	Meta   Meta            `json:"-"`
}

// Operation is OpAwardBonus.
func (AwardBonus) Operation() Operation { return OpAwardBonus }

// Metadata returns the command's Meta.
func (c AwardBonus) Metadata() Meta { return c.Meta }

type awardBonusHandler struct{ e *engine }

func (h awardBonusHandler) Handle(ctx context.Context, c AwardBonus) (Result, error) {
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return execute(ctx, h.e, x, streamPlan[*domain.AssessmentYear]{
			stream: domain.AssessmentStream(c.Year),
			id:     strconv.Itoa(c.Year),
			state:  func() *domain.AssessmentYear { return &domain.AssessmentYear{} },
			decide: func(ctx context.Context, a *domain.AssessmentYear, now time.Time) ([]domain.Event, error) {
				uerr := h.e.requireUnits(ctx, unitRef{field: "unit", code: c.Unit})
				if uerr != nil && !isValidation(uerr) {
					return nil, uerr
				}
				evs, err := a.Decide(domain.AwardBonus{Year: c.Year, Unit: c.Unit, Points: c.Points, Reason: c.Reason}, now)
				return evs, withUnitErrors(err, uerr)
			},
		})
	})
}
