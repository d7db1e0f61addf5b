package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// SignContract is POST /api/v1/projects/{id}/signing: the signing (签约). It
// counts once; a later change is an amendment. A major signing without an
// advance filing is still recorded (the breach becomes an alert). ProjectID is
// the path's {id}.
type SignContract struct {
	ProjectID          string               `json:"project_id"`
	OccurredAt         time.Time            `json:"occurred_at"`
	ContractInvestment domain.Money         `json:"contract_investment"`
	ForeignInvestment  *domain.Money        `json:"foreign_investment,omitempty"`
	Agreement          domain.AgreementKind `json:"agreement"`
	Commitments        *domain.Commitments  `json:"commitments,omitempty"`
	Meta               Meta                 `json:"-"`
}

// Operation is OpSignContract.
func (SignContract) Operation() Operation { return OpSignContract }

// Metadata returns the command's Meta.
func (c SignContract) Metadata() Meta { return c.Meta }

type signContractHandler struct{ e *engine }

func (h signContractHandler) Handle(ctx context.Context, c SignContract) (Result, error) {
	cmd := domain.SignContract{
		OccurredAt:         c.OccurredAt,
		ContractInvestment: c.ContractInvestment,
		ForeignInvestment:  c.ForeignInvestment,
		Agreement:          c.Agreement,
		Commitments:        c.Commitments,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, decideWith(cmd))
	})
}
