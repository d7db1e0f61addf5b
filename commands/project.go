package commands

import (
	"context"
	"errors"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
)

// projectDecision decides a command on a loaded project under the policy in
// force at now.
type projectDecision func(ctx context.Context, p *domain.Project, pol domain.Policy, now time.Time) ([]domain.Event, error)

// decideWith is the usual projectDecision: the domain's Project.Decide.
func decideWith(cmd domain.ProjectCommand) projectDecision {
	return func(_ context.Context, p *domain.Project, pol domain.Policy, now time.Time) ([]domain.Event, error) {
		return p.Decide(cmd, pol, now)
	}
}

// onProject is the write path of every command on an existing project
// (everything but the report): an unknown id is domain.ErrNotFound; a
// unit_staff actor may act only on a project its unit owns now (after a
// transfer, the receiving unit); units the command names must be registered.
func (e *engine) onProject(ctx context.Context, x *exec, projectID string, refs []unitRef, decide projectDecision) (Result, error) {
	if !domain.ValidID(projectID) {
		return Result{}, &domain.NotFoundError{What: "project", ID: projectID}
	}
	return execute(ctx, e, x, streamPlan[*domain.Project]{
		stream: domain.ProjectStream(projectID),
		id:     projectID,
		state:  func() *domain.Project { return domain.NewProjectFor(projectID) },
		check: func(_ context.Context, p *domain.Project) error {
			if !p.Exists() {
				return &domain.NotFoundError{What: "project", ID: projectID}
			}
			return authorizeUnit(x.meta.Actor, x.op, p.Unit())
		},
		decide: func(ctx context.Context, p *domain.Project, now time.Time) ([]domain.Event, error) {
			pol, err := e.policy(ctx)
			if err != nil {
				return nil, err
			}
			uerr := e.requireUnits(ctx, refs...)
			if uerr != nil && !errors.Is(uerr, domain.ErrValidation) {
				return nil, uerr
			}
			evs, err := decide(ctx, p, pol, now)
			return evs, withUnitErrors(err, uerr)
		},
	})
}

// withUnitErrors combines a decision's error with the unknown-unit errors of
// the same command: field errors are reported together; a malformed request
// (an unknown unit) is reported before any judgement of it against the
// state.
func withUnitErrors(decideErr, unitErr error) error {
	switch {
	case unitErr == nil:
		return decideErr
	case decideErr == nil || errors.Is(decideErr, domain.ErrValidation):
		return mergeValidation(decideErr, unitErr)
	}
	return unitErr
}
