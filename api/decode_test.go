package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// Shapes like the command bodies phase 2 binds.
type testInvestor struct {
	Name       string   `json:"name"`
	USCC       string   `json:"uscc"`
	Categories []string `json:"categories"`
}

type testMilestone struct {
	By     string `json:"by"`
	Amount *Money `json:"amount"`
}

type testCommitments struct {
	RegisterBy string          `json:"register_by"`
	Funds      []testMilestone `json:"funds"`
}

type testRate int64

func (r *testRate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) == 0 || b[0] == '"' {
		return errors.New("want a number")
	}
	*r = testRate(len(b))
	return nil
}

type testDate struct{ s string }

func (d *testDate) UnmarshalText(b []byte) error {
	if _, err := time.Parse(time.DateOnly, string(b)); err != nil {
		return errors.New("want YYYY-MM-DD")
	}
	d.s = string(b)
	return nil
}

func (d testDate) MarshalText() ([]byte, error) { return []byte(d.s), nil }

type testBody struct {
	Name        string             `json:"name"`
	Investor    testInvestor       `json:"investor"`
	Planned     *Money             `json:"planned_investment"`
	Commitments *testCommitments   `json:"commitments"`
	Points      float64            `json:"points"`
	Count       uint8              `json:"count"`
	Flag        bool               `json:"flag"`
	Indicators  map[string]float64 `json:"indicators"`
	Value       json.RawMessage    `json:"value"`
	Any         any                `json:"any"`
	At          time.Time          `json:"at"`
	Rate        testRate           `json:"rate"`
	Date        testDate           `json:"date"`
	Quoted      int                `json:"quoted,string"`
	Ignored     string             `json:"-"`
	embeddedPart
}

type embeddedPart struct {
	Extra string `json:"extra"`
}

func bindEcho(dst func() any) *echo.Echo {
	e := bare()
	e.POST("/b", func(c echo.Context) error {
		v := dst()
		if err := Bind(c, v); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	})
	e.POST("/opt", func(c echo.Context) error {
		v := dst()
		ok, err := BindOptional(c, v)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"present": ok, "digest": RequestDigest(c)})
	})
	return e
}

func TestBindAcceptsAWellFormedBody(t *testing.T) {
	e := bindEcho(func() any { return new(testBody) })
	body := `{"name":"新能源电池项目","investor":{"name":"宁德时代","uscc":"91350900MA2XN4BX3K","categories":["china_500"]},
	"planned_investment":{"amount":1500000000,"currency":"CNY"},
	"commitments":{"register_by":"2024-09-01","funds":[{"by":"2024-12-31","amount":{"amount":100,"currency":"CNY"}}]},
	"points":-1.5,"count":255,"flag":true,"indicators":{"signed_1b":3},"value":{"x":[1,2]},"any":[null],
	"at":"2024-05-01T09:30:00+08:00","rate":7.1,"date":"2024-02-29","quoted":"12","extra":"e"}`
	rec := do(e, http.MethodPost, "/b", body, jsonBody())
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got testBody
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Investor.Name != "宁德时代" || *got.Planned.Amount != 1500000000 || got.Commitments.Funds[0].By != "2024-12-31" ||
		got.Quoted != 12 || got.Extra != "e" {
		t.Fatalf("decoded %+v", got)
	}
	// The same body as a Windows editor saves it, with a byte-order mark.
	rec = do(e, http.MethodPost, "/b", "\ufeff"+body, jsonBody())
	var bom testBody
	if err := json.Unmarshal(rec.Body.Bytes(), &bom); rec.Code != http.StatusOK || err != nil || bom.Investor.Name != "宁德时代" {
		t.Fatalf("with a BOM: %d %s", rec.Code, rec.Body)
	}
}

func TestBindRefusesBadBodies(t *testing.T) {
	e := bindEcho(func() any { return new(testBody) })
	big := `{"name":"` + strings.Repeat("x", int(DefaultBodyLimit)) + `"}`
	for _, tc := range []struct {
		name        string
		body        string
		contentType string
		status      int
		code        string
		fields      []string
	}{
		{"empty body", "", "application/json", 400, CodeMalformedJSON, nil},
		{"whitespace body", "  \n", "application/json", 400, CodeMalformedJSON, nil},
		{"malformed", `{"name":`, "application/json", 400, CodeMalformedJSON, nil},
		{"trailing data", `{"name":"a"} {"name":"b"}`, "application/json", 400, CodeMalformedJSON, nil},
		{"trailing garbage", `{"name":"a"}x`, "application/json", 400, CodeMalformedJSON, nil},
		{"not utf-8", "{\"name\":\"\xff\"}", "application/json", 400, CodeMalformedJSON, nil},
		{"no content type", `{}`, "", 415, CodeUnsupportedMediaType, nil},
		{"text/plain", `{}`, "text/plain", 415, CodeUnsupportedMediaType, nil},
		{"form", `{}`, "application/x-www-form-urlencoded", 415, CodeUnsupportedMediaType, nil},
		{"latin-1 charset", `{}`, "application/json; charset=iso-8859-1", 415, CodeUnsupportedMediaType, nil},
		{"too large", big, "application/json", 413, CodeBodyTooLarge, nil},
		{"array", `[1]`, "application/json", 422, CodeValidationFailed, []string{""}},
		{"null", `null`, "application/json", 422, CodeValidationFailed, []string{""}},
		{"string", `"x"`, "application/json", 422, CodeValidationFailed, []string{""}},
		{"unknown field", `{"nmae":"x"}`, "application/json", 422, CodeValidationFailed, []string{"nmae"}},
		{"wrong case", `{"Name":"x"}`, "application/json", 422, CodeValidationFailed, []string{"Name"}},
		{"nested unknown", `{"investor":{"name":"a","phone":"1"}}`, "application/json", 422, CodeValidationFailed, []string{"investor.phone"}},
		{"ignored field is unknown", `{"Ignored":"x"}`, "application/json", 422, CodeValidationFailed, []string{"Ignored"}},
		{"duplicate", `{"name":"a","name":"b"}`, "application/json", 422, CodeValidationFailed, []string{"name"}},
		{"string for number", `{"points":"1"}`, "application/json", 422, CodeValidationFailed, []string{"points"}},
		{"number for string", `{"name":5}`, "application/json", 422, CodeValidationFailed, []string{"name"}},
		{"float for integer", `{"planned_investment":{"amount":1.5,"currency":"CNY"}}`, "application/json", 422, CodeValidationFailed, []string{"planned_investment.amount"}},
		{"exponent for integer", `{"planned_investment":{"amount":1e9,"currency":"CNY"}}`, "application/json", 422, CodeValidationFailed, []string{"planned_investment.amount"}},
		{"integer overflow", `{"planned_investment":{"amount":99999999999999999999,"currency":"CNY"}}`, "application/json", 422, CodeValidationFailed, []string{"planned_investment.amount"}},
		{"negative uint", `{"count":-1}`, "application/json", 422, CodeValidationFailed, []string{"count"}},
		{"uint overflow", `{"count":256}`, "application/json", 422, CodeValidationFailed, []string{"count"}},
		{"bool as string", `{"flag":"true"}`, "application/json", 422, CodeValidationFailed, []string{"flag"}},
		{"object for array", `{"investor":{"categories":{}}}`, "application/json", 422, CodeValidationFailed, []string{"investor.categories"}},
		{"array element type", `{"investor":{"categories":["a",1]}}`, "application/json", 422, CodeValidationFailed, []string{"investor.categories[1]"}},
		{"deep path", `{"commitments":{"funds":[{"by":"x","amount":{"amount":1,"currency":"CNY"}},{"by":"y","amount":{"amount":"1"}}]}}`, "application/json", 422, CodeValidationFailed, []string{"commitments.funds[1].amount.amount"}},
		{"map value type", `{"indicators":{"signed_1b":"3"}}`, "application/json", 422, CodeValidationFailed, []string{"indicators.signed_1b"}},
		{"bad time", `{"at":"yesterday"}`, "application/json", 422, CodeValidationFailed, []string{"at"}},
		{"unmarshaler refuses", `{"rate":"7.1"}`, "application/json", 422, CodeValidationFailed, []string{"rate"}},
		{"text unmarshaler refuses", `{"date":"2023-02-29"}`, "application/json", 422, CodeValidationFailed, []string{"date"}},
		{"text unmarshaler needs string", `{"date":20240101}`, "application/json", 422, CodeValidationFailed, []string{"date"}},
		{"quoted needs string", `{"quoted":12}`, "application/json", 422, CodeValidationFailed, []string{"quoted"}},
		{"quoted needs integer", `{"quoted":"1.5"}`, "application/json", 422, CodeValidationFailed, []string{"quoted"}},
		{"several at once", `{"name":1,"points":"x","zzz":0}`, "application/json", 422, CodeValidationFailed, []string{"name", "points", "zzz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []reqOpt
			if tc.contentType != "" {
				opts = append(opts, withHeader("Content-Type", tc.contentType))
			}
			rec := do(e, http.MethodPost, "/b", tc.body, opts...)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			p := problemOf(t, rec)
			if p.Code != tc.code {
				t.Fatalf("code %q, want %q", p.Code, tc.code)
			}
			if tc.fields != nil && !slices.Equal(fieldNames(p), tc.fields) {
				t.Fatalf("fields %q, want %q (%s)", fieldNames(p), tc.fields, rec.Body)
			}
		})
	}
}

func TestBindHintsTheRightSpelling(t *testing.T) {
	err := DecodeJSON([]byte(`{"Name":"x"}`), new(testBody))
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Errors[0].Message, `did you mean "name"`) {
		t.Fatalf("got %v", err)
	}
}

func TestBindLimitsTheNumberOfFieldErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 500 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"f%d":1`, i)
	}
	b.WriteString("}")
	err := DecodeJSON([]byte(b.String()), new(testBody))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != maxFieldErrors {
		t.Fatalf("got %d errors: %v", len(ve.Errors), err)
	}
}

func TestBindOptional(t *testing.T) {
	e := bindEcho(func() any { return new(testBody) })
	rec := do(e, http.MethodPost, "/opt", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"present":false`) {
		t.Fatalf("empty: %d %s", rec.Code, rec.Body)
	}
	rec = do(e, http.MethodPost, "/opt", `{"name":"x"}`, jsonBody())
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"present":true`) {
		t.Fatalf("present: %d %s", rec.Code, rec.Body)
	}
	var got map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	if d, _ := got["digest"].(string); len(d) != 64 {
		t.Fatalf("digest %v", got["digest"])
	}
	rec = do(e, http.MethodPost, "/opt", `{"nope":1}`, jsonBody())
	if rec.Code != 422 {
		t.Fatalf("bad optional body: %d", rec.Code)
	}
}

func TestDecodeJSONNeedsAPointer(t *testing.T) {
	var b testBody
	if err := DecodeJSON([]byte(`{}`), b); err == nil || errors.As(err, new(*ValidationError)) {
		t.Fatalf("a non-pointer is a programming error, got %v", err)
	}
	if p := ProblemFor(DecodeJSON([]byte(`{}`), b)); p.Status != 500 {
		t.Fatalf("status %d", p.Status)
	}
}

func TestStructFieldsFollowEncodingJSON(t *testing.T) {
	type inner struct {
		A string `json:"a"`
		B string
	}
	type conflict1 struct{ C string }
	type conflict2 struct{ C string }
	type outer struct {
		inner
		*conflict1
		conflict2
		A  string `json:"a"` // shallower wins
		D  string `json:"d,omitempty"`
		E  string `json:"-,"`
		nx string
	}
	fs := structFields(reflect.TypeFor[outer]())
	var names []string
	for k := range fs.byName {
		names = append(names, k)
	}
	slices.Sort(names)
	if want := []string{"-", "B", "a", "d"}; !slices.Equal(names, want) {
		t.Fatalf("fields %q, want %q", names, want)
	}
}

// FuzzBind: whatever the bytes, the decoder answers 2xx or 4xx, never a 5xx
// and never a panic; and whatever it accepts, encoding/json decodes too (the
// shape check never lets through what the decoder would refuse).
func FuzzBind(f *testing.F) {
	for _, seed := range []string{
		`{"name":"x","investor":{"name":"y","categories":[]},"planned_investment":{"amount":1,"currency":"CNY"}}`,
		`{"commitments":{"funds":[{"by":"2024-01-01","amount":{"amount":5,"currency":"USD"}}]}}`,
		`{"points":1e308,"count":3,"flag":false,"indicators":{"a":1},"value":null,"any":{"x":[]}}`,
		`{"at":"2024-05-01T09:30:00Z","rate":7,"date":"2024-01-01","quoted":"3","extra":""}`,
		`[]`, `null`, `{"a":`, `{"name":"\u0000"}`, "{\"name\":\"\xff\"}", `{"planned_investment":{"amount":-0}}`,
		`{"commitments":null}`, `{"investor":{"categories":[null]}}`, `{"quoted":"null"}`, `{"count":1.0}`,
	} {
		f.Add([]byte(seed))
	}
	e := bindEcho(func() any { return new(testBody) })
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := do(e, http.MethodPost, "/b", string(body), jsonBody())
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code == 200 {
			var v testBody
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("accepted %q but encoding/json refuses it: %v", body, err)
			}
		}
	})
}
