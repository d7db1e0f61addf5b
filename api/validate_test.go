package api

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

type unitSet map[string]bool

func (u unitSet) UnitExists(code string) bool { return u[code] }

func newTestValidator() *Validator {
	return NewValidator(ValidationConfig{
		Now:   func() time.Time { return testNow },
		Units: unitSet{"nanhu": true, "xiuzhou": true},
	})
}

func ptr[T any](v T) *T { return &v }

// rulesOf runs check on a fresh validator and returns "field:rule" pairs.
func rulesOf(check func(v *Validator)) []string {
	v := newTestValidator()
	check(v)
	var out []string
	var ve *ValidationError
	if errors.As(v.Err(), &ve) {
		for _, f := range ve.Errors {
			out = append(out, f.Field+":"+f.Rule)
		}
	}
	return out
}

func TestValidatorChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(v *Validator)
		want  []string
	}{
		{"required ok", func(v *Validator) { v.Required("name", " 新能源 ") }, nil},
		{"required blank", func(v *Validator) { v.Required("name", "  ") }, []string{"name:required"}},
		{"text too long", func(v *Validator) { v.Text("summary", strings.Repeat("长", 11), true, 10) }, []string{"summary:too_long"}},
		{"text control", func(v *Validator) { v.Text("summary", "a\x00b", true, 10) }, []string{"summary:control_character"}},
		{"text newline ok", func(v *Validator) { v.Text("summary", "第一行\n第二行\t", true, 10) }, nil},
		{"optional text absent", func(v *Validator) { v.Text("venue", "", false, 10) }, nil},
		{"enum ok", func(v *Validator) { v.OneOf("kind", "park", true, "county", "park") }, nil},
		{"enum unknown", func(v *Validator) { v.OneOf("kind", "city", true, "county", "park") }, []string{"kind:unknown"}},
		{"enum missing", func(v *Validator) { v.OneOf("kind", "", true, "county") }, []string{"kind:required"}},
		{"enum optional", func(v *Validator) { v.OneOf("source_channel", "", false, "fund") }, nil},
		{"each", func(v *Validator) {
			v.EachOneOf("investor.categories", []string{"foreign", "nope", "foreign"}, "foreign", "unicorn")
		}, []string{"investor.categories[1]:unknown", "investor.categories[2]:duplicate"}},
		{"time ok", func(v *Validator) { v.Time("occurred_at", "2024-05-01T09:30:00+08:00", true) }, nil},
		{"time within skew", func(v *Validator) { v.Time("occurred_at", testNow.Add(4*time.Minute).Format(time.RFC3339), true) }, nil},
		{"time future", func(v *Validator) { v.Time("occurred_at", testNow.Add(time.Hour).Format(time.RFC3339), true) }, []string{"occurred_at:future"}},
		{"time format", func(v *Validator) { v.Time("occurred_at", "2024-05-01 09:30", true) }, []string{"occurred_at:format"}},
		{"time no zone", func(v *Validator) { v.Time("occurred_at", "2024-05-01T09:30:00", true) }, []string{"occurred_at:format"}},
		{"time missing", func(v *Validator) { v.Time("occurred_at", "", true) }, []string{"occurred_at:required"}},
		{"time ancient", func(v *Validator) { v.Time("occurred_at", "0001-01-01T00:00:00Z", true) }, []string{"occurred_at:range"}},
		{"any time future ok", func(v *Validator) { v.AnyTime("at", "2099-01-01T00:00:00Z", true) }, nil},
		{"date ok", func(v *Validator) { v.Date("deadline", "2024-02-29", true) }, nil},
		{"date future ok", func(v *Validator) { v.Date("deadline", "2030-01-31", true) }, nil},
		{"date nonexistent", func(v *Validator) { v.Date("deadline", "2023-02-29", true) }, []string{"deadline:format"}},
		{"date month 13", func(v *Validator) { v.Date("deadline", "2024-13-01", true) }, []string{"deadline:format"}},
		{"date short", func(v *Validator) { v.Date("deadline", "2024-1-5", true) }, []string{"deadline:format"}},
		{"date with time", func(v *Validator) { v.Date("deadline", "2024-01-05T00:00:00Z", true) }, []string{"deadline:format"}},
		{"past date future", func(v *Validator) { v.PastDate("signed_on", "2024-06-03", true) }, []string{"signed_on:future"}},
		{"past date today", func(v *Validator) { v.PastDate("signed_on", "2024-06-01", true) }, nil},
		{"money ok", func(v *Validator) {
			v.Money("planned_investment", &Money{Amount: ptr[int64](1500000000), Currency: "CNY"}, true)
		}, nil},
		{"money zero ok", func(v *Validator) {
			v.Money("registered_capital", &Money{Amount: ptr[int64](0), Currency: "USD"}, true)
		}, nil},
		{"money missing", func(v *Validator) { v.Money("planned_investment", nil, true) }, []string{"planned_investment:required"}},
		{"money optional", func(v *Validator) { v.Money("foreign_investment", nil, false) }, nil},
		{"money no amount", func(v *Validator) { v.Money("m", &Money{Currency: "CNY"}, true) }, []string{"m.amount:required"}},
		{"money negative", func(v *Validator) { v.Money("m", &Money{Amount: ptr[int64](-1), Currency: "CNY"}, true) }, []string{"m.amount:range"}},
		{"money too large", func(v *Validator) { v.Money("m", &Money{Amount: ptr(DefaultMaxAmount + 1), Currency: "CNY"}, true) }, []string{"m.amount:range"}},
		{"money currency", func(v *Validator) { v.Money("m", &Money{Amount: ptr[int64](1), Currency: "EUR"}, true) }, []string{"m.currency:unknown"}},
		{"money both", func(v *Validator) { v.Money("m", &Money{}, true) }, []string{"m.amount:required", "m.currency:required"}},
		{"positive money zero", func(v *Validator) { v.PositiveMoney("amount", &Money{Amount: ptr[int64](0), Currency: "CNY"}, true) }, []string{"amount.amount:range"}},
		{"unit ok", func(v *Validator) { v.Unit("unit", "nanhu", true) }, nil},
		{"unit unknown", func(v *Validator) { v.Unit("unit", "haining", true) }, []string{"unit:unknown"}},
		{"unit syntax", func(v *Validator) { v.Unit("unit", "南湖", true) }, []string{"unit:format"}},
		{"unit syntax only", func(v *Validator) { v.UnitSyntax("code", "haining") }, nil},
		{"uuid", func(v *Validator) { v.UUID("project_id", "not-a-uuid", true) }, []string{"project_id:format"}},
		{"sha256", func(v *Validator) { v.SHA256("document_sha256", strings.Repeat("A", 64), true) }, nil},
		{"sha256 short", func(v *Validator) { v.SHA256("document_sha256", "abc", true) }, []string{"document_sha256:format"}},
		{"uscc", func(v *Validator) { v.USCC("investor.uscc", "91330400MA2BCDEF1X", true) }, nil},
		{"uscc bad letter", func(v *Validator) { v.USCC("investor.uscc", "91330400MA2BCDEFIO", true) }, []string{"investor.uscc:format"}},
		{"range", func(v *Validator) { v.IntRange("points", 101, -100, 100) }, []string{"points:range"}},
		{"year", func(v *Validator) { v.Year("year", "1999") }, []string{"year:format"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rulesOf(tc.check); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidatorReturnsParsedValues(t *testing.T) {
	v := newTestValidator()
	if got := v.Required("name", "  南湖  "); got != "南湖" {
		t.Fatalf("trimmed %q", got)
	}
	d, ok := v.Date("deadline", "2024-03-01", true)
	if !ok || d.Location().String() != "Asia/Shanghai" || d.Hour() != 0 || d.Day() != 1 {
		t.Fatalf("date %v", d)
	}
	amount, cur, ok := v.Money("m", &Money{Amount: ptr[int64](7), Currency: "USD"}, true)
	if !ok || amount != 7 || cur != "USD" {
		t.Fatalf("money %d %s %v", amount, cur, ok)
	}
	if id := v.UUID("id", "0190F1B2-0000-7000-8000-000000000001", true); id != "0190f1b2-0000-7000-8000-000000000001" {
		t.Fatalf("uuid %q", id)
	}
	if !v.OK() || v.Err() != nil {
		t.Fatal(v.Err())
	}
	v.Merge(Invalid("x", "r", "m"))
	if v.OK() {
		t.Fatal("merged error lost")
	}
	if p := ProblemFor(v.Err()); p.Status != 422 || p.Code != CodeValidationFailed || len(p.Errors) != 1 {
		t.Fatalf("problem %+v", p)
	}
}
