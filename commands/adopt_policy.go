package commands

import (
	"context"
	"strconv"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// AdoptPolicy is PUT /api/v1/policy: the centre adopts a new policy version
// (PolicyAdopted). Policy.Version may be 0 (the next version is assigned) or
// exactly the next version. A document equal to the policy in force records
// nothing and answers the current version. Result.PolicyVersion is the
// version (Result.ID too, as a string).
type AdoptPolicy struct {
	Policy domain.Policy `json:"policy"`
	Meta   Meta          `json:"-"`
}

// Operation is OpAdoptPolicy.
func (AdoptPolicy) Operation() Operation { return OpAdoptPolicy }

// Metadata returns the command's Meta.
func (c AdoptPolicy) Metadata() Meta { return c.Meta }

type adoptPolicyHandler struct{ e *engine }

func (h adoptPolicyHandler) Handle(ctx context.Context, c AdoptPolicy) (Result, error) {
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return execute(ctx, h.e, x, streamPlan[*domain.Policies]{
			stream: domain.StreamPolicy,
			state:  func() *domain.Policies { return &domain.Policies{} },
			decide: func(_ context.Context, ps *domain.Policies, now time.Time) ([]domain.Event, error) {
				return ps.Decide(domain.AdoptPolicy{Policy: c.Policy}, now)
			},
			finish: func(r *Result, before *domain.Policies, appended []domain.Event) {
				r.PolicyVersion = before.Version()
				for _, ev := range appended {
					if pa, ok := domain.Unwrap(ev).(domain.PolicyAdopted); ok {
						r.PolicyVersion, r.Created = pa.Policy.Version, true
					}
				}
				r.ID = strconv.Itoa(r.PolicyVersion)
			},
		})
	})
}
