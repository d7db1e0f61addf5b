package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Paging (API.md "Lists").
const (
	DefaultLimit    = 50
	MaxLimit        = 500
	maxCursorLength = 512
)

// Page is a list request's window: at most Limit items after Cursor (the
// decoded key; "" for the first page).
type Page struct {
	Limit  int
	Cursor string
}

// ParsePage reads limit (1–500, default 50) and cursor (opaque, as a previous
// answer's next_cursor gave it). Bad values are 422 naming the parameter.
func ParsePage(c echo.Context) (Page, error) {
	v := &Validator{}
	p := Page{Limit: DefaultLimit}
	if s, ok := single(c, "limit", v); ok && s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			v.Addf("limit", "range", "must be an integer between 1 and %d", MaxLimit)
		} else {
			p.Limit = n
		}
	}
	if s, ok := single(c, "cursor", v); ok && s != "" {
		key, err := DecodeCursor(s)
		if err != nil {
			v.Add("cursor", "format", "is not a cursor this server gave out")
		} else {
			p.Cursor = key
		}
	}
	return p, v.Err()
}

// single returns a query parameter given at most once.
func single(c echo.Context, name string, v *Validator) (string, bool) {
	vals, ok := c.QueryParams()[name]
	if !ok {
		return "", false
	}
	if len(vals) > 1 {
		v.Add(name, "repeated", "must be given at most once")
		return "", false
	}
	return vals[0], true
}

// EncodeCursor makes an opaque cursor of a view's resume key. Clients hand it
// back unchanged; base64url keeps it safe in a query string and makes plain
// that it is not meant to be read.
func EncodeCursor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

// DecodeCursor reverses EncodeCursor.
func DecodeCursor(s string) (string, error) {
	if len(s) > maxCursorLength {
		return "", fmt.Errorf("cursor too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !utf8.Valid(b) {
		return "", fmt.Errorf("malformed cursor")
	}
	return string(b), nil
}

// List is the answer of every list read: the items of one page and the
// cursor of the next (null on the last page).
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// NewList makes a page; items is never null in JSON, and next is the
// view's resume key ("" on the last page), encoded here.
func NewList[T any](items []T, next string) List[T] {
	if items == nil {
		items = []T{}
	}
	l := List[T]{Items: items}
	if next != "" {
		c := EncodeCursor(next)
		l.NextCursor = &c
	}
	return l
}

// Time bases of time travel (DOMAIN.md "Time: two clocks on every event").
const (
	BasisRecorded = "recorded" // as known at T: events with recorded_at ≤ T
	BasisOccurred = "occurred" // as of T in business time: occurred_at ≤ T
)

// AsOf is a read's point in time.
type AsOf struct {
	// Set is false for "now".
	Set bool
	At  time.Time
	// Basis is BasisRecorded (the default: what the ledger knew then,
	// which is what an audit asks) or BasisOccurred.
	Basis string
}

// ParseAsOf reads as_of (an RFC 3339 time, or a date YYYY-MM-DD meaning its
// midnight in loc) and basis (recorded|occurred, only with as_of). Bad values
// are 422 naming the parameter.
func ParseAsOf(c echo.Context, loc *time.Location) (AsOf, error) {
	if loc == nil {
		loc = defaultLocation()
	}
	v := &Validator{cfg: ValidationConfig{Location: loc}.withDefaults()}
	var a AsOf
	if s, ok := single(c, "as_of", v); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			a = AsOf{Set: true, At: t}
		} else if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil && len(s) == len(time.DateOnly) {
			a = AsOf{Set: true, At: t}
		} else {
			v.Add("as_of", "format", "must be an RFC 3339 time or a date YYYY-MM-DD")
		}
		// The zero time would read as "now" downstream; no ledger fact is
		// that old anyway.
		if a.Set && (a.At.Year() < 1900 || a.At.Year() > 9999) {
			a = AsOf{}
			v.Add("as_of", "range", "must be between the years 1900 and 9999")
		}
	}
	if s, ok := single(c, "basis", v); ok {
		switch {
		case s != BasisRecorded && s != BasisOccurred:
			v.Addf("basis", "unknown", "must be %s or %s", BasisRecorded, BasisOccurred)
		case !a.Set && v.OK():
			v.Add("basis", "requires_as_of", "is meaningful only with as_of")
		default:
			a.Basis = s
		}
	}
	if a.Set && a.Basis == "" {
		a.Basis = BasisRecorded
	}
	return a, v.Err()
}

// AllowQuery is middleware refusing query parameters a route does not
// define, with 422 naming them: a misspelt filter (?stge=signed) would
// otherwise silently answer the unfiltered list. min_position is always
// allowed; it is part of every read.
func AllowQuery(names ...string) echo.MiddlewareFunc {
	allowed := slices.Clone(names)
	if !slices.Contains(allowed, "min_position") {
		allowed = append(allowed, "min_position")
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var unknown []string
			for k := range c.QueryParams() {
				if !slices.Contains(allowed, k) {
					unknown = append(unknown, k)
				}
			}
			if len(unknown) > 0 {
				sort.Strings(unknown)
				v := &Validator{}
				for _, k := range unknown {
					v.Addf(k, "unknown_parameter", "is not a parameter of this route (allowed: %s)", strings.Join(allowed, ", "))
				}
				return v.Err()
			}
			return next(c)
		}
	}
}

// NotFound is the 404 for an unknown resource, naming it.
func NotFound(what, id string) *Problem {
	return NewProblem(http.StatusNotFound, CodeNotFound, fmt.Sprintf("%s %q does not exist", what, id))
}

// PathID reads an id path parameter. An id that is not a UUID cannot name
// anything, so it is 404 like an unknown one: a client cannot tell (and need
// not care) whether the id was mistyped or never existed.
func PathID(c echo.Context, name, what string) (string, error) {
	s := c.Param(name)
	if !uuidPattern.MatchString(s) {
		return "", NotFound(what, s)
	}
	return strings.ToLower(s), nil
}

// PathYear reads a year path parameter (2000–2100), 404 otherwise.
func PathYear(c echo.Context, name string) (int, error) {
	s := c.Param(name)
	y, err := strconv.Atoi(s)
	if err != nil || y < 2000 || y > 2100 || strconv.Itoa(y) != s {
		return 0, NotFound("year", s)
	}
	return y, nil
}
