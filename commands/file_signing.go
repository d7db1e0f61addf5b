package commands

import (
	"context"

	"github.com/zhaoshang/zhaoshang/domain"
)

// FileSigning is POST /api/v1/projects/{id}/signing-filings: the advance
// filing of a planned signing with the centre (重大签约提前一周报备, Jiaxing 2024
// 二(一)3). Its occurred_at is the moment it is recorded, which is what the
// signing_not_filed alert compares with the signing date. ProjectID is the
// path's {id}.
type FileSigning struct {
	ProjectID          string       `json:"project_id"`
	PlannedDate        domain.Date  `json:"planned_date"`
	ContractInvestment domain.Money `json:"contract_investment"`
	Venue              string       `json:"venue,omitempty"`
	Meta               Meta         `json:"-"`
}

// Operation is OpFileSigning.
func (FileSigning) Operation() Operation { return OpFileSigning }

// Metadata returns the command's Meta.
func (c FileSigning) Metadata() Meta { return c.Meta }

type fileSigningHandler struct{ e *engine }

func (h fileSigningHandler) Handle(ctx context.Context, c FileSigning) (Result, error) {
	cmd := domain.FileSigning{
		PlannedDate:        c.PlannedDate,
		ContractInvestment: c.ContractInvestment,
		Venue:              c.Venue,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, decideWith(cmd))
	})
}
