package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// RegisterCompany is POST /api/v1/projects/{id}/registration: the company's
// registration (注册/备案), after signing. ProjectID is the path's {id}.
type RegisterCompany struct {
	ProjectID         string        `json:"project_id"`
	OccurredAt        time.Time     `json:"occurred_at"`
	CompanyUSCC       string        `json:"company_uscc"`
	RegisteredCapital *domain.Money `json:"registered_capital,omitempty"`
	Meta              Meta          `json:"-"`
}

// Operation is OpRegisterCompany.
func (RegisterCompany) Operation() Operation { return OpRegisterCompany }

// Metadata returns the command's Meta.
func (c RegisterCompany) Metadata() Meta { return c.Meta }

type registerCompanyHandler struct{ e *engine }

func (h registerCompanyHandler) Handle(ctx context.Context, c RegisterCompany) (Result, error) {
	cmd := domain.RegisterCompany{
		OccurredAt:        c.OccurredAt,
		CompanyUSCC:       c.CompanyUSCC,
		RegisteredCapital: c.RegisteredCapital,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, decideWith(cmd))
	})
}
