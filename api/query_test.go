package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

func ctxFor(target string) echo.Context {
	e := echo.New()
	return e.NewContext(httptest.NewRequest(http.MethodGet, target, nil), httptest.NewRecorder())
}

func firstField(t *testing.T, err error) string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a validation error, got %v", err)
	}
	return ve.Errors[0].Field
}

func TestParsePage(t *testing.T) {
	p, err := ParsePage(ctxFor("/x"))
	if err != nil || p != (Page{Limit: DefaultLimit}) {
		t.Fatalf("%+v %v", p, err)
	}
	cur := EncodeCursor("2024-05-01|项目-42")
	p, err = ParsePage(ctxFor("/x?limit=500&cursor=" + cur))
	if err != nil || p.Limit != 500 || p.Cursor != "2024-05-01|项目-42" {
		t.Fatalf("%+v %v", p, err)
	}
	for _, q := range []string{"limit=0", "limit=501", "limit=1.5", "limit=x", "limit=1&limit=2", "cursor=***", "cursor=%FF%FE"} {
		_, err := ParsePage(ctxFor("/x?" + q))
		if f := firstField(t, err); f != "limit" && f != "cursor" {
			t.Fatalf("%s: field %q", q, f)
		}
	}
}

func TestNewListJSON(t *testing.T) {
	b, _ := json.Marshal(NewList[int](nil, ""))
	if string(b) != `{"items":[],"next_cursor":null}` {
		t.Fatalf("%s", b)
	}
	b, _ = json.Marshal(NewList([]int{1}, "k"))
	if string(b) != `{"items":[1],"next_cursor":"aw"}` {
		t.Fatalf("%s", b)
	}
}

func TestParseAsOf(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	a, err := ParseAsOf(ctxFor("/x"), sh)
	if err != nil || a.Set {
		t.Fatalf("%+v %v", a, err)
	}
	a, err = ParseAsOf(ctxFor("/x?as_of=2024-05-31T16:00:00Z"), sh)
	if err != nil || !a.Set || a.Basis != BasisRecorded || !a.At.Equal(time.Date(2024, 5, 31, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v %v", a, err)
	}
	a, err = ParseAsOf(ctxFor("/x?as_of=2024-06-01&basis=occurred"), sh)
	if err != nil || a.Basis != BasisOccurred || !a.At.Equal(time.Date(2024, 5, 31, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("a date is midnight in the server's zone: %+v %v", a, err)
	}
	for q, field := range map[string]string{
		"as_of=yesterday":                 "as_of",
		"as_of=2024-02-30":                "as_of",
		"basis=occurred":                  "basis",
		"as_of=2024-06-01&basis=business": "basis",
		"as_of=0001-01-01T00:00:00Z":      "as_of", // would read as "now"
	} {
		_, err := ParseAsOf(ctxFor("/x?"+q), sh)
		if f := firstField(t, err); f != field {
			t.Fatalf("%s: field %q, want %q", q, f, field)
		}
	}
}

func TestAllowQuery(t *testing.T) {
	e := bare()
	e.GET("/x", func(c echo.Context) error { return c.NoContent(204) }, AllowQuery("stage", "limit"))
	for target, want := range map[string]int{
		"/x":                             204,
		"/x?stage=signed&limit=3":        204,
		"/x?min_position=4":              204,
		"/x?stge=signed":                 422,
		"/x?stage=signed&Stage=negotiat": 422,
	} {
		if rec := do(e, http.MethodGet, target, ""); rec.Code != want {
			t.Fatalf("%s: %d, want %d", target, rec.Code, want)
		}
	}
	rec := do(e, http.MethodGet, "/x?stge=1&zz=2", "")
	if p := problemOf(t, rec); len(p.Errors) != 2 || p.Errors[0].Field != "stge" || p.Errors[1].Field != "zz" {
		t.Fatalf("%+v", p)
	}
}

func TestPathParams(t *testing.T) {
	e := bare()
	e.GET("/p/:id", func(c echo.Context) error {
		id, err := PathID(c, "id", "project")
		if err != nil {
			return err
		}
		return c.String(200, id)
	})
	e.GET("/y/:year", func(c echo.Context) error {
		y, err := PathYear(c, "year")
		if err != nil {
			return err
		}
		return c.JSON(200, y)
	})
	if rec := do(e, http.MethodGet, "/p/0190F1B2-0000-7000-8000-000000000001", ""); rec.Code != 200 || rec.Body.String() != "0190f1b2-0000-7000-8000-000000000001" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	for _, path := range []string{"/p/42", "/p/..%2F..", "/y/24", "/y/2024x", "/y/02024", "/y/1999"} {
		rec := do(e, http.MethodGet, path, "")
		if p := problemOf(t, rec); rec.Code != 404 || p.Code != CodeNotFound {
			t.Fatalf("%s: %d", path, rec.Code)
		}
	}
	if rec := do(e, http.MethodGet, "/y/2024", ""); rec.Code != 200 || rec.Body.String() != "2024\n" {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
}
