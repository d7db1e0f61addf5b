package api

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// DefaultBodyLimit is the largest request body the server reads (1 MiB).
// Commands are small documents; a policy with every weight is a few KiB.
const DefaultBodyLimit int64 = 1 << 20

// maxFieldErrors bounds the field errors one answer lists, so a hostile body
// with thousands of bad fields costs a bounded answer.
const maxFieldErrors = 50

const (
	ctxBodyLimit  = "zhaoshang.body_limit"
	ctxBodyDigest = "zhaoshang.body_digest"
)

// Bind reads the request body strictly into dst (a pointer to a struct):
//
//   - the body must be present (400 malformed_json when empty);
//   - Content-Type must be application/json, charset utf-8 if given (415);
//   - it must be valid UTF-8 and a single JSON value (400 malformed_json,
//     trailing data included);
//   - the value must be an object (422);
//   - every member must be a field of dst, spelt exactly (422 unknown_field
//     naming its path), appear once, and have the field's JSON type: integers
//     where integers are expected (1.5 and 1e3 are refused), within range
//     (422 naming the path, e.g. "planned_investment.amount" or
//     "commitments.funds[0].by");
//   - a body over the server's limit is 413 body_too_large.
//
// A digest of the body is kept for RequestDigest (idempotency checks).
func Bind(c echo.Context, dst any) error {
	_, err := bind(c, dst, true)
	return err
}

// BindOptional is Bind for commands whose body may be absent: an empty body
// leaves dst untouched and answers false; a present body obeys every rule of
// Bind.
func BindOptional(c echo.Context, dst any) (bool, error) {
	return bind(c, dst, false)
}

// RequestDigest is the hex SHA-256 of the body Bind read ("" before Bind).
// Commands compare it when an Idempotency-Key is reused, to tell a retry from
// a different request.
func RequestDigest(c echo.Context) string {
	s, _ := c.Get(ctxBodyDigest).(string)
	return s
}

func bind(c echo.Context, dst any, required bool) (bool, error) {
	limit := DefaultBodyLimit
	if l, ok := c.Get(ctxBodyLimit).(int64); ok && l > 0 {
		limit = l
	}
	req := c.Request()
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
		if err != nil {
			var he *echo.HTTPError
			var me *http.MaxBytesError
			if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge || errors.As(err, &me) {
				return false, bodyTooLarge(limit)
			}
			return false, NewProblem(http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
		}
		if int64(len(b)) > limit {
			return false, bodyTooLarge(limit)
		}
		body = b
	}
	sum := sha256.Sum256(body)
	c.Set(ctxBodyDigest, hex.EncodeToString(sum[:]))
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return false, NewProblem(http.StatusBadRequest, CodeMalformedJSON, "the request body is empty; a JSON object is required")
		}
		return false, nil
	}
	if err := checkContentType(req.Header.Get(echo.HeaderContentType)); err != nil {
		return false, err
	}
	if err := DecodeJSON(body, dst); err != nil {
		return false, err
	}
	return true, nil
}

func bodyTooLarge(limit int64) *Problem {
	return NewProblem(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
		fmt.Sprintf("the request body exceeds %d bytes", limit))
}

// checkContentType accepts application/json with no parameters but an
// optional charset=utf-8. Anything else is 415: a form post or text/plain is a
// client bug we would rather name than guess around.
func checkContentType(ct string) error {
	unsupported := func(detail string) error {
		return NewProblem(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, detail)
	}
	if ct == "" {
		return unsupported("Content-Type is missing; send application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != echo.MIMEApplicationJSON {
		return unsupported(fmt.Sprintf("Content-Type %q is not supported; send application/json", ct))
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return unsupported(fmt.Sprintf("Content-Type %q: only charset=utf-8 is supported", ct))
		}
	}
	return nil
}

// DecodeJSON is Bind's decoder without the HTTP: body must be one JSON object
// that fits dst exactly. Errors are *Problem (400 malformed_json) or
// *ValidationError (422 naming each offending path).
func DecodeJSON(body []byte, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		// A programming error in a handler, not the client's.
		return fmt.Errorf("api: DecodeJSON needs a non-nil pointer, got %T", dst)
	}
	if !utf8.Valid(body) {
		return NewProblem(http.StatusBadRequest, CodeMalformedJSON, "the request body is not valid UTF-8")
	}
	// A byte-order mark, which Windows editors (记事本) put before UTF-8
	// text, is not JSON but says nothing either: RFC 8259 §8.1 lets a
	// parser ignore it, so it is ignored rather than reported as "ï".
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	if !json.Valid(body) {
		return NewProblem(http.StatusBadRequest, CodeMalformedJSON, syntaxDetail(body))
	}
	trimmed := bytes.TrimSpace(body)
	if trimmed[0] != '{' {
		return Invalid("", "type", "the request body must be a JSON object")
	}
	var errs fieldErrors
	checkValue(trimmed, rv.Type().Elem(), "", &errs)
	if len(errs.list) > 0 {
		return &ValidationError{Errors: errs.list}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		// checkValue accepts only what the decoder accepts, so this is a
		// gap in it; still the client's input, answered as such.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Invalid(te.Field, "type", "has the wrong type: "+jsonKind(te.Value))
		}
		return Invalid("", "invalid", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// syntaxDetail locates a syntax error for the client.
func syntaxDetail(body []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	err := dec.Decode(&v)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("the request body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	case err != nil:
		return "the request body is not valid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	return fmt.Sprintf("the request body has data after the JSON value (at byte %d)", dec.InputOffset())
}

type fieldErrors struct {
	list []FieldError
}

func (e *fieldErrors) add(path, rule, msg string) {
	if len(e.list) < maxFieldErrors {
		e.list = append(e.list, FieldError{Field: path, Rule: rule, Message: msg})
	}
}

func (e *fieldErrors) full() bool { return len(e.list) >= maxFieldErrors }

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType            = reflect.TypeFor[time.Time]()
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
)

// checkValue walks raw (one syntactically valid JSON value) against the Go
// type t the decoder will fill, recording every member that would be refused
// or silently mangled, with its path. It descends only as deep as t, so its
// cost is bounded by the body's size times the type's depth.
func checkValue(raw []byte, t reflect.Type, path string, errs *fieldErrors) {
	if errs.full() {
		return
	}
	isNull := string(raw) == "null"
	for t.Kind() == reflect.Pointer {
		if isNull {
			return
		}
		t = t.Elem()
	}
	if t == rawMessageType {
		return
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		v := reflect.New(t)
		if err := v.Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			errs.add(path, "invalid", unmarshalerMessage(t, err))
		}
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		if isNull {
			return
		}
		s, ok := jsonString(raw)
		if !ok {
			errs.add(path, "type", "must be a string, not "+kindOf(raw))
			return
		}
		v := reflect.New(t)
		if err := v.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			errs.add(path, "invalid", unmarshalerMessage(t, err))
		}
		return
	}
	if isNull {
		// The decoder leaves the zero value; required-field checks report
		// a null where a value is needed.
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		checkObject(raw, path, errs, func(key string) (reflect.Type, fieldInfo, bool) {
			fi, ok := structFields(t).byName[key]
			return fi.typ, fi, ok
		}, t)
	case reflect.Map:
		kt := t.Key()
		checkObject(raw, path, errs, func(key string) (reflect.Type, fieldInfo, bool) {
			if msg := checkMapKey(kt, key); msg != "" {
				errs.add(joinPath(path, key), "invalid_key", msg)
			}
			return t.Elem(), fieldInfo{}, true
		}, nil)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(jsonUnmarshalerType) && !reflect.PointerTo(t.Elem()).Implements(textUnmarshalerType) {
			s, ok := jsonString(raw)
			if !ok {
				errs.add(path, "type", "must be a base64 string, not "+kindOf(raw))
			} else if _, err := base64.StdEncoding.DecodeString(s); err != nil {
				errs.add(path, "invalid", "must be base64")
			}
			return
		}
		checkArray(raw, t.Elem(), path, -1, errs)
	case reflect.Array:
		checkArray(raw, t.Elem(), path, t.Len(), errs)
	case reflect.String:
		if raw[0] != '"' {
			errs.add(path, "type", "must be a string, not "+kindOf(raw))
		}
	case reflect.Bool:
		if string(raw) != "true" && string(raw) != "false" {
			errs.add(path, "type", "must be true or false, not "+kindOf(raw))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		checkInt(raw, t, path, errs)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		checkUint(raw, t, path, errs)
	case reflect.Float32, reflect.Float64:
		if !isNumber(raw) {
			errs.add(path, "type", "must be a number, not "+kindOf(raw))
			return
		}
		if _, err := strconv.ParseFloat(string(raw), t.Bits()); err != nil {
			errs.add(path, "range", "is out of range")
		}
	case reflect.Interface:
		if t.NumMethod() != 0 {
			errs.add(path, "type", "cannot be decoded")
		}
	default:
		errs.add(path, "type", "cannot be decoded")
	}
}

// checkObject walks the members of an object. member resolves a key to the
// type of its value; ok false means the key is not allowed. st is the struct
// type (for "did you mean" hints), nil for maps.
func checkObject(raw []byte, path string, errs *fieldErrors, member func(string) (reflect.Type, fieldInfo, bool), st reflect.Type) {
	if raw[0] != '{' {
		errs.add(path, "type", "must be an object, not "+kindOf(raw))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		errs.add(path, "invalid", "is not a valid object")
		return
	}
	seen := map[string]bool{}
	for dec.More() && !errs.full() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		if err != nil || !isKey {
			errs.add(path, "invalid", "is not a valid object")
			return
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			errs.add(path, "invalid", "is not a valid object")
			return
		}
		p := joinPath(path, key)
		if seen[key] {
			errs.add(p, "duplicate", "appears more than once")
			continue
		}
		seen[key] = true
		ft, fi, ok := member(key)
		if !ok {
			msg := "is not a known field"
			if st != nil {
				if alt := structFields(st).fold[strings.ToLower(key)]; alt != "" {
					msg += fmt.Sprintf("; did you mean %q?", alt)
				}
			}
			errs.add(p, "unknown_field", msg)
			continue
		}
		if fi.quoted {
			checkQuoted(val, ft, p, errs)
			continue
		}
		checkValue(val, ft, p, errs)
	}
}

func checkArray(raw []byte, elem reflect.Type, path string, fixed int, errs *fieldErrors) {
	if raw[0] != '[' {
		errs.add(path, "type", "must be an array, not "+kindOf(raw))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		errs.add(path, "invalid", "is not a valid array")
		return
	}
	for i := 0; dec.More() && !errs.full(); i++ {
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			errs.add(path, "invalid", "is not a valid array")
			return
		}
		p := path + "[" + strconv.Itoa(i) + "]"
		if fixed >= 0 && i >= fixed {
			errs.add(p, "too_many", fmt.Sprintf("the array holds at most %d elements", fixed))
			return
		}
		checkValue(val, elem, p, errs)
	}
}

// checkQuoted handles fields tagged ",string": a JSON string holding the
// scalar.
func checkQuoted(raw []byte, t reflect.Type, path string, errs *fieldErrors) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if string(raw) == "null" {
		return
	}
	s, ok := jsonString(raw)
	if !ok {
		errs.add(path, "type", "must be a string holding the value, not "+kindOf(raw))
		return
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := jsonString([]byte(s)); !ok {
			errs.add(path, "type", "must be a JSON-quoted string inside a string")
		}
	default:
		checkValue([]byte(s), t, path, errs)
	}
}

func checkInt(raw []byte, t reflect.Type, path string, errs *fieldErrors) {
	if !isNumber(raw) {
		errs.add(path, "type", "must be an integer, not "+kindOf(raw))
		return
	}
	if _, err := strconv.ParseInt(string(raw), 10, t.Bits()); err != nil {
		if isIntegerLiteral(raw) {
			errs.add(path, "range", "is out of range")
		} else {
			errs.add(path, "integer", "must be an integer (no fraction or exponent)")
		}
	}
}

func checkUint(raw []byte, t reflect.Type, path string, errs *fieldErrors) {
	if !isNumber(raw) {
		errs.add(path, "type", "must be a non-negative integer, not "+kindOf(raw))
		return
	}
	if _, err := strconv.ParseUint(string(raw), 10, t.Bits()); err != nil {
		switch {
		case !isIntegerLiteral(raw):
			errs.add(path, "integer", "must be an integer (no fraction or exponent)")
		case raw[0] == '-':
			errs.add(path, "range", "must not be negative")
		default:
			errs.add(path, "range", "is out of range")
		}
	}
}

func checkMapKey(kt reflect.Type, key string) string {
	if reflect.PointerTo(kt).Implements(textUnmarshalerType) {
		if err := reflect.New(kt).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(key)); err != nil {
			return "is not a valid key: " + err.Error()
		}
		return ""
	}
	switch kt.Kind() {
	case reflect.String:
		return ""
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, err := strconv.ParseInt(key, 10, kt.Bits()); err != nil {
			return "must be an integer key"
		}
		return ""
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if _, err := strconv.ParseUint(key, 10, kt.Bits()); err != nil {
			return "must be a non-negative integer key"
		}
		return ""
	}
	return "cannot be a key"
}

func unmarshalerMessage(t reflect.Type, err error) string {
	if t == timeType {
		return "must be an RFC 3339 time, e.g. 2024-05-01T09:30:00+08:00"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return "is invalid: " + msg
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func jsonString(raw []byte) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func isNumber(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

func isIntegerLiteral(raw []byte) bool {
	return !bytes.ContainsAny(raw, ".eE")
}

// kindOf names a JSON value's kind for messages.
func kindOf(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonKind names the JSON kind in an UnmarshalTypeError's Value.
func jsonKind(v string) string {
	if strings.HasPrefix(v, "number") {
		return "a number"
	}
	if v == "" {
		return "an unexpected value"
	}
	return "a JSON " + v
}

// ---- struct fields as encoding/json sees them ----

type fieldInfo struct {
	typ    reflect.Type
	quoted bool // ",string"
}

type fieldSet struct {
	byName map[string]fieldInfo
	// fold maps a lower-cased name to its exact spelling, for hints:
	// encoding/json would accept "Name" for "name", Bind does not.
	fold map[string]string
}

var fieldCache sync.Map // reflect.Type → *fieldSet

func structFields(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{byName: map[string]fieldInfo{}, fold: map[string]string{}}
	type candidate struct {
		info   fieldInfo
		depth  int
		tagged bool
		count  int
	}
	found := map[string]*candidate{}
	var walk func(t reflect.Type, depth int, visited map[reflect.Type]bool)
	walk = func(t reflect.Type, depth int, visited map[reflect.Type]bool) {
		if visited[t] {
			return
		}
		visited[t] = true
		defer delete(visited, t)
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if sf.Anonymous {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
				if name == "" && ft.Kind() == reflect.Struct {
					walk(ft, depth+1, visited)
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			tagged := name != ""
			if !tagged {
				name = sf.Name
			}
			quoted := false
			for _, o := range strings.Split(opts, ",") {
				if o == "string" {
					switch sf.Type.Kind() {
					case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
						reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
						reflect.Float32, reflect.Float64, reflect.String:
						quoted = true
					}
				}
			}
			c := found[name]
			switch {
			case c == nil || depth < c.depth:
				found[name] = &candidate{info: fieldInfo{typ: sf.Type, quoted: quoted}, depth: depth, tagged: tagged, count: 1}
			case depth == c.depth:
				// encoding/json: at equal depth a tagged field beats
				// untagged ones; otherwise the name is ambiguous and
				// dropped.
				switch {
				case tagged && !c.tagged:
					found[name] = &candidate{info: fieldInfo{typ: sf.Type, quoted: quoted}, depth: depth, tagged: true, count: 1}
				case tagged == c.tagged:
					c.count++
				}
			}
		}
	}
	walk(t, 0, map[reflect.Type]bool{})
	for name, c := range found {
		if c.count > 1 {
			continue
		}
		fs.byName[name] = c.info
		fs.fold[strings.ToLower(name)] = name
	}
	actual, _ := fieldCache.LoadOrStore(t, fs)
	return actual.(*fieldSet)
}
