package domain

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

var shanghai = time.FixedZone("CST", 8*3600)

// now is the fixed "moment of recording" of the tests.
var now = time.Date(2024, 6, 15, 10, 0, 0, 0, shanghai)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func day(d int) time.Duration { return time.Duration(d) * 24 * time.Hour }

const (
	pid1 = "11111111-1111-4111-8111-111111111111"
	pid2 = "22222222-2222-4222-8222-222222222222"
	pid3 = "33333333-3333-4333-8333-333333333333"
)

// validUSCC builds a valid unified social credit code from a 17-character body.
func validUSCC(body string) string {
	c, ok := USCCCheckChar(body)
	if !ok {
		panic("bad uscc body " + body)
	}
	return body + string(c)
}

var (
	usccA = validUSCC("91330400MA2BWKQ30")
	usccB = validUSCC("91330400MA2BWKQ41") // another company
)

func reportCmd(id string, unit UnitCode, planned Money, occurred time.Time) ReportProject {
	return ReportProject{
		ProjectID:         id,
		Name:              "新能源电池基地项目",
		Unit:              unit,
		Investor:          Investor{Name: "宁德时代新能源科技股份有限公司", Origin: "福建", Categories: []Category{CategoryChina500}},
		IndustryChain:     "新能源",
		PlannedInvestment: planned,
		SourceChannel:     ChannelBusinessLed,
		OccurredAt:        occurred,
	}
}

// reported returns a project reported by unit "nanhu" 10 days before now.
func reported(t testing.TB, planned Money) *Project {
	t.Helper()
	return reportedOn(t, planned, now.Add(-day(10)))
}

// reportedOn returns a project reported by unit "nanhu" at when (a fixture
// whose later facts are dated earlier than reported's).
func reportedOn(t testing.TB, planned Money, when time.Time) *Project {
	t.Helper()
	d, err := DecideReport(reportCmd(pid1, "nanhu", planned, when), nil, DefaultPolicy(), now)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	return FoldProject(d.Events())
}

// must decides cmd on p and applies the result, failing the test on error.
func must(t testing.TB, p *Project, cmd ProjectCommand) {
	t.Helper()
	evs, err := p.Decide(cmd, DefaultPolicy(), now)
	if err != nil {
		t.Fatalf("%T: %v", cmd, err)
	}
	for _, e := range evs {
		p.Apply(e)
	}
}

func sign(occurred time.Time, m Money) SignContract {
	return SignContract{OccurredAt: occurred, ContractInvestment: m, Agreement: AgreementFormal}
}

// wantErr checks err against a sentinel and, for validation errors, the field.
func wantErr(t testing.TB, err, sentinel error, field string) {
	t.Helper()
	if sentinel == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error = %v, want %v", err, sentinel)
	}
	if field != "" {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("error %v is not a *ValidationError", err)
		}
		var ves ValidationErrors
		if errors.As(err, &ves) {
			for _, e := range ves {
				if e.Field == field {
					return
				}
			}
			t.Fatalf("no error for field %q in %v", field, fmt.Sprint(err))
		}
		if ve.Field != field {
			t.Fatalf("field = %q, want %q (%v)", ve.Field, field, err)
		}
	}
}
