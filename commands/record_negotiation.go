package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// RecordNegotiation is POST /api/v1/projects/{id}/negotiations: one
// negotiation round (洽谈) with the most senior leader present. The first
// round moves a reported project to negotiating. ProjectID is the path's {id};
// the owning unit or the centre may record it.
type RecordNegotiation struct {
	ProjectID    string             `json:"project_id"`
	OccurredAt   time.Time          `json:"occurred_at"`
	LeaderLevel  domain.LeaderLevel `json:"leader_level"`
	Participants []string           `json:"participants,omitempty"`
	Summary      string             `json:"summary"`
	Meta         Meta               `json:"-"`
}

// Operation is OpRecordNegotiation.
func (RecordNegotiation) Operation() Operation { return OpRecordNegotiation }

// Metadata returns the command's Meta.
func (c RecordNegotiation) Metadata() Meta { return c.Meta }

type recordNegotiationHandler struct{ e *engine }

func (h recordNegotiationHandler) Handle(ctx context.Context, c RecordNegotiation) (Result, error) {
	cmd := domain.RecordNegotiation{
		OccurredAt:   c.OccurredAt,
		LeaderLevel:  c.LeaderLevel,
		Participants: c.Participants,
		Summary:      c.Summary,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, decideWith(cmd))
	})
}
