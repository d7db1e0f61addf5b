package commands

import (
	"errors"
	"fmt"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Operation names a command. The names are stable: they appear in logs,
// metrics, idempotency records and ForbiddenError.
type Operation string

// The operations, one per command (API.md's command table).
const (
	OpRegisterUnit              Operation = "RegisterUnit"
	OpAdoptPolicy               Operation = "AdoptPolicy"
	OpSetTargets                Operation = "SetTargets"
	OpReportProject             Operation = "ReportProject"
	OpRecordNegotiation         Operation = "RecordNegotiation"
	OpRecordDueProcess          Operation = "RecordDueProcess"
	OpFileSigning               Operation = "FileSigning"
	OpSignContract              Operation = "SignContract"
	OpAmendContract             Operation = "AmendContract"
	OpTransferProject           Operation = "TransferProject"
	OpRegisterCompany           Operation = "RegisterCompany"
	OpStartConstruction         Operation = "StartConstruction"
	OpRecordFunds               Operation = "RecordFunds"
	OpStartProduction           Operation = "StartProduction"
	OpTerminateProject          Operation = "TerminateProject"
	OpCorrectDetails            Operation = "CorrectDetails"
	OpIssueSupervisionOrder     Operation = "IssueSupervisionOrder"
	OpReportSupervisionProgress Operation = "ReportSupervisionProgress"
	OpCloseSupervisionOrder     Operation = "CloseSupervisionOrder"
	OpAwardBonus                Operation = "AwardBonus"
	OpPublishAssessment         Operation = "PublishAssessment"
	OpRequestTolerance          Operation = "RequestTolerance"
	OpDecideTolerance           Operation = "DecideTolerance"
	OpRecordRead                Operation = "RecordRead"
)

// scope is how far a role's permission for an operation reaches.
type scope uint8

const (
	// forbidden: the role may not perform the operation at all.
	forbidden scope = iota
	// everyUnit: the role may perform it for any unit.
	everyUnit
	// ownUnit: only for the actor's own unit — the unit a report is for, the
	// project's current owner, the order's responsible unit.
	ownUnit
)

// permissions is the authorisation table of DOMAIN.md "Units, roles,
// actors", the one place it is written down:
//
//   - unit_staff reports projects for its unit, records any lifecycle fact
//     on projects its unit owns (currently), requests tolerance for them,
//     and reports progress on supervision orders its unit is responsible
//     for;
//   - centre may do all of that for every unit, and transfers projects,
//     issues and closes orders, sets targets, policy and units, publishes
//     assessments and awards bonus points;
//   - discipline decides tolerance cases; admin manages units;
//   - leader and auditor only read.
//
// RecordRead is not in the table: recording that someone read something is
// allowed to every role (the read itself is authorised by the API).
var permissions = map[Operation]map[domain.Role]scope{
	OpRegisterUnit: {domain.RoleAdmin: everyUnit, domain.RoleCentre: everyUnit},
	OpAdoptPolicy:  {domain.RoleCentre: everyUnit},
	OpSetTargets:   {domain.RoleCentre: everyUnit},

	OpReportProject:     {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpRecordNegotiation: {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpRecordDueProcess:  {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpFileSigning:       {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpSignContract:      {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpAmendContract:     {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpRegisterCompany:   {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpStartConstruction: {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpRecordFunds:       {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpStartProduction:   {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpTerminateProject:  {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpCorrectDetails:    {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	// 项目流转: only the centre transfers (Jiaxing 2024 二(一)3; Xiamen 三(二)4).
	OpTransferProject: {domain.RoleCentre: everyUnit},

	OpIssueSupervisionOrder:     {domain.RoleCentre: everyUnit},
	OpReportSupervisionProgress: {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	OpCloseSupervisionOrder:     {domain.RoleCentre: everyUnit},

	OpAwardBonus:        {domain.RoleCentre: everyUnit},
	OpPublishAssessment: {domain.RoleCentre: everyUnit},

	OpRequestTolerance: {domain.RoleUnitStaff: ownUnit, domain.RoleCentre: everyUnit},
	// 容错免责 is ruled on by the discipline commission (纪委监委) alone.
	OpDecideTolerance: {domain.RoleDiscipline: everyUnit},
}

// Operations lists every operation, RecordRead last.
func Operations() []Operation {
	return []Operation{OpRegisterUnit, OpAdoptPolicy, OpSetTargets, OpReportProject, OpRecordNegotiation,
		OpRecordDueProcess, OpFileSigning, OpSignContract, OpAmendContract, OpTransferProject, OpRegisterCompany,
		OpStartConstruction, OpRecordFunds, OpStartProduction, OpTerminateProject, OpCorrectDetails,
		OpIssueSupervisionOrder, OpReportSupervisionProgress, OpCloseSupervisionOrder, OpAwardBonus,
		OpPublishAssessment, OpRequestTolerance, OpDecideTolerance, OpRecordRead}
}

// RolesFor lists the roles that may perform op at all (unit_staff possibly
// only for its own unit), in domain.Roles order — for route-level checks and
// the OpenAPI document.
func RolesFor(op Operation) []domain.Role {
	var out []domain.Role
	for _, r := range domain.Roles() {
		if allowedRole(r, op) {
			out = append(out, r)
		}
	}
	return out
}

// ScopedToOwnUnit reports whether role may perform op only for its own unit.
func ScopedToOwnUnit(role domain.Role, op Operation) bool {
	return permissions[op][role] == ownUnit
}

func allowedRole(r domain.Role, op Operation) bool {
	if op == OpRecordRead {
		return r.Valid()
	}
	return permissions[op][r] != forbidden
}

// ErrForbidden is matched by *ForbiddenError (HTTP 403 forbidden).
var ErrForbidden = errors.New("forbidden")

// ForbiddenError is a command the actor may not perform: its role may not
// perform the operation at all, or not for this unit.
type ForbiddenError struct {
	Operation Operation
	Role      string
	Unit      string // the actor's unit
	// Target is the unit the command acts for, when the refusal is about
	// the unit scope.
	Target string
	Reason string
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("forbidden: %s may not %s: %s", e.Role, e.Operation, e.Reason)
}

// Is makes the error match ErrForbidden.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// authorizeRole is the first check of every command, applied by the
// decorator before anything is loaded: a well-formed actor whose role may
// perform the operation for some unit.
func authorizeRole(a eventstore.Actor, op Operation) error {
	role := domain.Role(a.Role)
	deny := func(reason string) error {
		return &ForbiddenError{Operation: op, Role: a.Role, Unit: a.Unit, Reason: reason}
	}
	switch {
	case a.Subject == "":
		return deny("the actor has no subject")
	case !role.Valid():
		return deny(fmt.Sprintf("%q is not a role", a.Role))
	case role.ScopedToUnit() && a.Unit == "":
		return deny("a unit_staff actor must act for a unit")
	case !allowedRole(role, op):
		var who []string
		for _, r := range RolesFor(op) {
			who = append(who, string(r))
		}
		return deny(fmt.Sprintf("the operation is for %v only", who))
	}
	return nil
}

// authorizeUnit is the second check, made once the handler knows which unit
// the command acts for (the unit a report is for, the project's current
// owner, the order's responsible unit): a role scoped to its own unit may
// act only there.
func authorizeUnit(a eventstore.Actor, op Operation, target domain.UnitCode) error {
	if permissions[op][domain.Role(a.Role)] != ownUnit || domain.UnitCode(a.Unit) == target {
		return nil
	}
	return &ForbiddenError{Operation: op, Role: a.Role, Unit: a.Unit, Target: string(target),
		Reason: fmt.Sprintf("unit %s acts for its own unit only, not %s", a.Unit, target)}
}
