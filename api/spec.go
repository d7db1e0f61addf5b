package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/docs"
)

var embeddedSpec = sync.OnceValues(func() (*openapi3.T, error) { return LoadSpec(docs.OpenAPI) })

// EmbeddedSpec is docs/openapi.yaml, loaded and validated once per process.
// The document is only read after loading, so one copy serves every server
// and test; do not modify it.
func EmbeddedSpec() (*openapi3.T, error) { return embeddedSpec() }

// LoadSpec parses and validates an OpenAPI document.
func LoadSpec(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("api: openapi: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("api: openapi: %w", err)
	}
	return doc, nil
}

var echoParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)

// specPath turns an Echo route path (/projects/:id) into the OpenAPI form
// (/projects/{id}).
func specPath(p string) string { return echoParam.ReplaceAllString(p, "{$1}") }

// RouteDiff compares the routes registered on e with the operations of doc,
// as "METHOD /path" in OpenAPI form. Echo's not-found catch-alls (which
// group middleware registers) are not routes.
func RouteDiff(e *echo.Echo, doc *openapi3.T) (missingFromSpec, missingFromRouter []string) {
	registered := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		registered[r.Method+" "+specPath(r.Path)] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	for k := range registered {
		if !documented[k] {
			missingFromSpec = append(missingFromSpec, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			missingFromRouter = append(missingFromRouter, k)
		}
	}
	sort.Strings(missingFromSpec)
	sort.Strings(missingFromRouter)
	return missingFromSpec, missingFromRouter
}

// CheckRoutesAgainstSpec fails unless the router and the spec name exactly
// the same routes (method and path, Echo :id matching OpenAPI {id}).
func CheckRoutesAgainstSpec(e *echo.Echo, doc *openapi3.T) error {
	notInSpec, notRouted := RouteDiff(e, doc)
	var errs []error
	if len(notInSpec) > 0 {
		errs = append(errs, fmt.Errorf("registered but not in the spec: %s", strings.Join(notInSpec, ", ")))
	}
	if len(notRouted) > 0 {
		errs = append(errs, fmt.Errorf("in the spec but not registered: %s", strings.Join(notRouted, ", ")))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("api: routes and spec differ: %w", err)
	}
	return nil
}

// SpecQueryParams lists the query parameters doc defines for an operation
// (path in Echo or OpenAPI form); ok is false when the operation is not in
// doc.
func SpecQueryParams(doc *openapi3.T, method, path string) (names []string, ok bool) {
	item := doc.Paths.Value(specPath(path))
	if item == nil {
		return nil, false
	}
	op := item.GetOperation(strings.ToUpper(method))
	if op == nil {
		return nil, false
	}
	add := func(ps openapi3.Parameters) {
		for _, p := range ps {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				names = append(names, p.Value.Name)
			}
		}
	}
	add(item.Parameters)
	add(op.Parameters)
	return names, true
}

// SpecValidator checks answers against the spec in handler tests: status
// documented for the route, headers, content type and body schema.
type SpecValidator struct {
	router routers.Router
}

// NewSpecValidator routes requests by the spec's paths, ignoring its server
// URLs (tests run on any host).
func NewSpecValidator(doc *openapi3.T) (*SpecValidator, error) {
	cp := *doc
	cp.Servers = nil
	r, err := gorillamux.NewRouter(&cp)
	if err != nil {
		return nil, fmt.Errorf("api: spec router: %w", err)
	}
	return &SpecValidator{router: r}, nil
}

// ValidateResponse checks one answer to req. Security requirements are not
// re-checked (the auth tests do that).
func (v *SpecValidator) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s → %d: %w", req.Method, req.URL.Path, status, err)
	}
	return nil
}

// ValidateRequest checks a request against the spec (parameters, body), for
// tests that want to prove their fixtures are what the contract allows.
func (v *SpecValidator) ValidateRequest(req *http.Request, body []byte) error {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}
