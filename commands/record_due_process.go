package commands

import (
	"context"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// RecordDueProcess is POST /api/v1/projects/{id}/due-process: evidence of
// 科学论证, 风险评估 or 集体决策 (Jiaxing 2024 三(四)), which a tolerance review
// later judges by when it was recorded. ProjectID is the path's {id}.
type RecordDueProcess struct {
	ProjectID      string                `json:"project_id"`
	Kind           domain.DueProcessKind `json:"kind"`
	OccurredAt     time.Time             `json:"occurred_at"`
	Body           string                `json:"body,omitempty"`
	Summary        string                `json:"summary"`
	DocumentRef    string                `json:"document_ref,omitempty"`
	DocumentSHA256 string                `json:"document_sha256,omitempty"`
	Meta           Meta                  `json:"-"`
}

// Operation is OpRecordDueProcess.
func (RecordDueProcess) Operation() Operation { return OpRecordDueProcess }

// Metadata returns the command's Meta.
func (c RecordDueProcess) Metadata() Meta { return c.Meta }

type recordDueProcessHandler struct{ e *engine }

func (h recordDueProcessHandler) Handle(ctx context.Context, c RecordDueProcess) (Result, error) {
	cmd := domain.RecordDueProcess{
		Kind:           c.Kind,
		OccurredAt:     c.OccurredAt,
		Body:           c.Body,
		Summary:        c.Summary,
		DocumentRef:    c.DocumentRef,
		DocumentSHA256: c.DocumentSHA256,
	}
	return h.e.run(ctx, c, func(ctx context.Context, x *exec) (Result, error) {
		return h.e.onProject(ctx, x, c.ProjectID, nil, decideWith(cmd))
	})
}
