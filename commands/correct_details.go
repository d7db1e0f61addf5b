package commands

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// CorrectDetails is POST /api/v1/projects/{id}/corrections: a field's new value
// and the reason. Nothing is edited; the correction and the original both
// stay visible, and a correction that can change a published year's
// assessment is flagged. ProjectID is the path's {id}.
type CorrectDetails struct {
	ProjectID string                 `json:"project_id"`
	Field     domain.CorrectionField `json:"field"`
	Value     json.RawMessage        `json:"value"`
	Reason    string                 `json:"reason"`
	Meta      Meta                   `json:"-"`
}

// Operation is OpCorrectDetails.
func (CorrectDetails) Operation() Operation { return OpCorrectDetails }

// Metadata returns the command's Meta.
func (c CorrectDetails) Metadata() Meta { return c.Meta }

type correctDetailsHandler struct{ e *engine }

func (h correctDetailsHandler) Handle(ctx context.Context, c CorrectDetails) (Result, error) {
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, h.decide(c))
	})
}

// decide fills in the years whose assessment is published, which the domain
// needs to flag the correction (DOMAIN.md DetailsCorrected; "later corrections
// show as a difference"). The domain names the years the correction can
// affect; only those years' assessment streams are read, so a first decision
// without published years finds them and a second one decides with them.
//
// The read of the assessment streams is not part of the condition of the
// append, which guards the project stream only (a store appends to one
// stream under one expected version, and nothing appended can be rewritten):
// a publication decided before this correction is recorded but appended
// after this read — or one that freezes a position the API computed its
// table at earlier — is not seen, and the recorded flag stays unset though
// the frozen result does not include the correction. Making the read part of
// the condition would need the correction to append to every affected
// year's assessment stream too, and a crash between the two appends would
// leave one without the other. Instead the flag is defined by the log order,
// which no race can change: a correction is flagged for every affected year
// whose publication froze a position before the correction's own
// (domain.DetailsCorrected.FlaggedYears; docs/events.md). The flag recorded
// here is what the command saw — never wrong when set, since a publication
// it saw was appended before the correction — and the read side, which
// knows both positions, completes it.
func (h correctDetailsHandler) decide(c CorrectDetails) projectDecision {
	return func(ctx context.Context, p *domain.Project, pol domain.Policy, now time.Time) ([]domain.Event, error) {
		cmd := domain.CorrectDetails{Field: c.Field, Value: c.Value, Reason: c.Reason}
		evs, err := p.Decide(cmd, pol, now)
		if err != nil {
			return nil, err
		}
		var affected []int
		for _, ev := range evs {
			if dc, ok := domain.Unwrap(ev).(domain.DetailsCorrected); ok {
				affected = append(affected, dc.AffectedYears...)
			}
		}
		for _, y := range affected {
			published, err := h.e.published(ctx, y)
			if err != nil {
				return nil, err
			}
			if published && !slices.Contains(cmd.PublishedYears, y) {
				cmd.PublishedYears = append(cmd.PublishedYears, y)
			}
		}
		if len(cmd.PublishedYears) == 0 {
			return evs, nil
		}
		return p.Decide(cmd, pol, now)
	}
}

// published reports whether the year's assessment has been published.
func (e *engine) published(ctx context.Context, year int) (bool, error) {
	l, err := e.load(ctx, domain.AssessmentStream(year))
	if err != nil {
		return false, err
	}
	var a domain.AssessmentYear
	fold(&a, l.events)
	_, ok := a.Published()
	return ok, nil
}
