package projections

import (
	"slices"
	"strings"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Corrections and published years (DOMAIN.md DetailsCorrected: "a
// correction of a period whose assessment is published is flagged";
// "AssessmentPublished freezes a year's result; later corrections show as
// a difference").
//
// Whether a correction is flagged for a year is decided by the log order,
// not by the event's recorded `flagged`: the command that recorded it read
// the assessment streams outside its append's condition, so a publication
// that froze an earlier position can be appended after the correction and
// leave it unflagged. domain.DetailsCorrected.FlaggedYears is the rule; the
// views answer it with the position each publication froze, at query time,
// so a publication arriving after the correction is taken into account
// without touching the project.

// correctionRec is a correction as the views keep it: what FlaggedYears
// needs and what the answers show, without the values themselves (the
// project's state already holds the new one; the log keeps both).
type correctionRec struct {
	projectID string
	field     domain.CorrectionField
	reason    string
	occurred  time.Time
	recorded  time.Time
	pos       eventstore.Position
	affected  []int
	published []int // the years the recording command saw published
}

func (c *correctionRec) event() domain.DetailsCorrected {
	return domain.DetailsCorrected{AffectedYears: c.affected, PublishedYears: c.published}
}

// noteCorrection keeps a correction on its project and under every year it
// affects.
func (v *Views) noteCorrection(en *projectEntry, d *decoded, e domain.DetailsCorrected) {
	c := &correctionRec{projectID: en.id, field: domain.CorrectionField(strings.Clone(string(e.Field))), reason: strings.Clone(e.Reason),
		occurred: e.OccurredAt, recorded: d.RecordedAt, pos: d.Position,
		affected: slices.Clone(e.AffectedYears), published: slices.Clone(e.PublishedYears)}
	en.corrections = append(en.corrections, c)
	for _, y := range c.affected {
		if !slices.Contains(v.asm.corrections[y], c) {
			v.asm.corrections[y] = append(v.asm.corrections[y], c)
		}
	}
}

// flaggedYears is domain.DetailsCorrected.FlaggedYears for c: a year is
// frozen before the correction when its publication (as known under k)
// froze a position before the correction's.
func (v *Views) flaggedYears(c *correctionRec, k known) []int {
	return c.event().FlaggedYears(func(year int) bool {
		py := v.publishedKnown(year, k)
		return py != nil && py.position.Compare(c.pos) < 0
	})
}

// CorrectionNote is one correction of a project's details, with the
// published years whose frozen result does not include it.
type CorrectionNote struct {
	Field      domain.CorrectionField `json:"field"`
	Reason     string                 `json:"reason"`
	OccurredAt time.Time              `json:"occurred_at"`
	Position   eventstore.Position    `json:"position"`
	// AffectedYears are the assessment years whose figures it can change.
	AffectedYears []int `json:"affected_years"`
	// FlaggedYears are those of AffectedYears whose published result was
	// frozen before it (domain.DetailsCorrected.FlaggedYears); Flagged is
	// set when there is any.
	FlaggedYears []int `json:"flagged_years"`
	Flagged      bool  `json:"flagged"`
}

// correctionNotes lists the project's corrections in log order (nil when
// none).
func (v *Views) correctionNotes(en *projectEntry) []CorrectionNote {
	if len(en.corrections) == 0 {
		return nil
	}
	out := make([]CorrectionNote, len(en.corrections))
	for i, c := range en.corrections {
		fy := v.flaggedYears(c, known{})
		if fy == nil {
			fy = []int{}
		}
		aff := slices.Clone(c.affected)
		if aff == nil {
			aff = []int{}
		}
		out[i] = CorrectionNote{Field: c.field, Reason: c.reason, OccurredAt: c.occurred, Position: c.pos,
			AffectedYears: aff, FlaggedYears: fy, Flagged: len(fy) > 0}
	}
	return out
}

// FlaggedCorrection is a correction that changes a published year's
// figures after its result was frozen: it is why the year's current
// result may differ from the published one.
type FlaggedCorrection struct {
	ProjectID  string                 `json:"project_id"`
	Field      domain.CorrectionField `json:"field"`
	Reason     string                 `json:"reason"`
	OccurredAt time.Time              `json:"occurred_at"`
	Position   eventstore.Position    `json:"position"`
}

// flaggedCorrections lists, in log order, the corrections known under k
// that are flagged for year (nil when none).
func (v *Views) flaggedCorrections(year int, k known) []FlaggedCorrection {
	var out []FlaggedCorrection
	for _, c := range v.asm.corrections[year] {
		if !k.keeps(c.occurred, c.recorded) || !slices.Contains(v.flaggedYears(c, k), year) {
			continue
		}
		out = append(out, FlaggedCorrection{ProjectID: c.projectID, Field: c.field, Reason: c.reason, OccurredAt: c.occurred, Position: c.pos})
	}
	return out
}
