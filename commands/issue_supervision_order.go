package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// IssueSupervisionOrder is POST /api/v1/supervision/orders: the centre issues a
// supervision order (督办) with the six 定 of Xiamen 三(五)3. The server assigns
// the order id (Result.ID). The responsible unit must be registered and the
// project, when named, must exist.
type IssueSupervisionOrder struct {
	ProjectID       string          `json:"project_id,omitempty"`
	Matter          string          `json:"matter"`
	Target          string          `json:"target"`
	LeadLeader      string          `json:"lead_leader"`
	ResponsibleUnit domain.UnitCode `json:"responsible_unit"`
	Requirements    string          `json:"requirements"`
	Deadline        domain.Date     `json:"deadline"`
	Meta            Meta            `json:"-"`
}

// Operation is OpIssueSupervisionOrder.
func (IssueSupervisionOrder) Operation() Operation { return OpIssueSupervisionOrder }

// Metadata returns the command's Meta.
func (c IssueSupervisionOrder) Metadata() Meta { return c.Meta }

type issueSupervisionOrderHandler struct{ e *engine }

func (h issueSupervisionOrderHandler) Handle(ctx context.Context, c IssueSupervisionOrder) (Result, error) {
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		id := x.entityID()
		return execute(ctx, h.e, x, streamPlan[*domain.SupervisionOrder]{
			stream: domain.SupervisionStream(id),
			id:     id,
			state:  func() *domain.SupervisionOrder { return domain.NewSupervisionOrder(id) },
			decide: func(ctx context.Context, o *domain.SupervisionOrder, now time.Time) ([]domain.Event, error) {
				pol, err := h.e.policy(ctx)
				if err != nil {
					return nil, err
				}
				refErr, err := h.references(ctx, c)
				if err != nil {
					return nil, err
				}
				evs, err := o.Decide(domain.IssueOrder{OrderID: id, ProjectID: c.ProjectID, Matter: c.Matter,
					Target: c.Target, LeadLeader: c.LeadLeader, ResponsibleUnit: c.ResponsibleUnit,
					Requirements: c.Requirements, Deadline: c.Deadline}, pol, now)
				return evs, withUnitErrors(err, refErr)
			},
			finish: func(r *Result, _ *domain.SupervisionOrder, appended []domain.Event) {
				r.Created = len(appended) > 0
			},
		})
	})
}

// references checks what the order refers to: a registered responsible unit
// and, when given, an existing project. It returns the field errors
// separately from a failure to check.
func (h issueSupervisionOrderHandler) references(ctx context.Context, c IssueSupervisionOrder) (fieldErrs, err error) {
	unitErr := h.e.requireUnits(ctx, unitRef{field: "responsible_unit", code: c.ResponsibleUnit})
	if unitErr != nil && !isValidation(unitErr) {
		return nil, unitErr
	}
	var projectErr error
	if c.ProjectID != "" && domain.ValidID(c.ProjectID) {
		v, err := h.e.headVersion(ctx, domain.ProjectStream(c.ProjectID))
		if err != nil {
			return nil, err
		}
		if v == 0 {
			projectErr = domain.ValidationErrors{{Field: "project_id", Rule: "unknown_project",
				Message: "project " + c.ProjectID + " does not exist"}}
		}
	}
	return mergeValidation(unitErr, projectErr), nil
}
