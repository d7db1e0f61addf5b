package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/zhaoshang/zhaoshang/docs"
)

// BasePath is the prefix of every route of API.md but the operations ones.
const BasePath = "/api/v1"

// Readiness says whether the views have caught up with the log since start
// (projections.Runner implements it).
type Readiness interface {
	Ready() bool
}

// ReadinessFunc adapts a function to Readiness.
type ReadinessFunc func() bool

// Ready calls f.
func (f ReadinessFunc) Ready() bool { return f() }

// Config configures a Server. Zero durations and sizes take the defaults
// noted; Secret, Positioner and Readiness are required.
type Config struct {
	// Addr is where Run listens; default 127.0.0.1:8080.
	Addr string
	// Logger receives one line per request and every server fault;
	// default slog.Default().
	Logger *slog.Logger
	// Secret signs and verifies bearer tokens (LoadOrCreateSecret).
	Secret []byte
	// Now is the clock for tokens and validation; default time.Now.
	Now func() time.Time
	// Location is the zone a date means midnight in; default Asia/Shanghai.
	Location *time.Location

	Positioner Positioner
	Readiness  Readiness
	// Head (optional) tells a min_position beyond the log from slow views.
	Head LogHead
	// Units (optional) lets validation refuse unregistered unit codes
	// (Server.Validator). The command routes Mount registers do not use it:
	// the commands check units against the store itself, while a lookup in
	// the views could refuse a unit registered a moment ago that the views
	// have not applied yet.
	Units UnitLookup
	// Metrics is the registry served at /metrics; default NewMetrics().
	Metrics *Metrics

	// BodyLimit bounds request bodies; default DefaultBodyLimit (1 MiB).
	BodyLimit int64
	// MinPositionWait bounds a read's min_position wait; default and
	// maximum 5 s.
	MinPositionWait time.Duration
	// ClockSkew is the future allowance for occurred_at; default 5 min.
	ClockSkew time.Duration
	// MaxAmount bounds Money amounts; default DefaultMaxAmount.
	MaxAmount int64

	// Server timeouts, so slow or idle clients cannot hold connections:
	// ReadHeaderTimeout 5 s, ReadTimeout 30 s, WriteTimeout 60 s (an
	// export of a large list takes a while), IdleTimeout 120 s,
	// MaxHeaderBytes 64 KiB, ShutdownTimeout 20 s (in-flight requests
	// finish within it on shutdown).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	ShutdownTimeout   time.Duration
}

// Validate checks the required fields.
func (cfg Config) Validate() error {
	var errs []error
	if len(cfg.Secret) < MinSecretBytes {
		errs = append(errs, fmt.Errorf("Secret has %d bytes, fewer than %d", len(cfg.Secret), MinSecretBytes))
	}
	if cfg.Positioner == nil {
		errs = append(errs, errors.New("Positioner is required"))
	}
	if cfg.Readiness == nil {
		errs = append(errs, errors.New("Readiness is required"))
	}
	if cfg.BodyLimit < 0 || cfg.MaxHeaderBytes < 0 || cfg.MaxAmount < 0 {
		errs = append(errs, errors.New("BodyLimit, MaxHeaderBytes and MaxAmount must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("api: config: %w", err)
	}
	return nil
}

func (cfg Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = defaultLocation()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.MinPositionWait <= 0 || cfg.MinPositionWait > MaxMinPositionWait {
		cfg.MinPositionWait = MaxMinPositionWait
	}
	def(&cfg.ClockSkew, DefaultClockSkew)
	if cfg.MaxAmount == 0 {
		cfg.MaxAmount = DefaultMaxAmount
	}
	def(&cfg.ReadHeaderTimeout, 5*time.Second)
	def(&cfg.ReadTimeout, 30*time.Second)
	def(&cfg.WriteTimeout, 60*time.Second)
	def(&cfg.IdleTimeout, 120*time.Second)
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = 64 << 10
	}
	def(&cfg.ShutdownTimeout, 20*time.Second)
	return cfg
}

// Server is the HTTP API: Echo with zhaoshang's middleware, error handler and
// operations endpoints. Handlers are registered with Query and Command.
type Server struct {
	cfg          Config
	e            *echo.Echo
	api          *echo.Group
	spec         *openapi3.T
	minPosition  echo.MiddlewareFunc
	shuttingDown atomic.Bool
}

// New builds the server. The embedded OpenAPI document is loaded and
// validated here, so a broken spec stops the server from starting.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	spec, err := EmbeddedSpec()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, spec: spec}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// Only the peer address: X-Forwarded-For is whatever the client wrote
	// unless a trusted proxy set it.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = NewErrorHandler(cfg.Logger)
	s.e = e

	e.Pre(dropBadRequestID)
	e.Use(
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}),
		PositionHeader(cfg.Positioner),
		s.observe,
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisableErrorHandler: true, // observe hands the error to the error handler, once
			LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
				return &PanicError{Value: err, Stack: stack}
			},
		}),
		middleware.SecureWithConfig(middleware.SecureConfig{
			ContentTypeNosniff: "nosniff",
			XFrameOptions:      "DENY",
			ReferrerPolicy:     "no-referrer",
		}),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: fmt.Sprintf("%dB", cfg.BodyLimit)}),
		func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				c.Set(ctxBodyLimit, cfg.BodyLimit)
				return next(c)
			}
		},
	)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(cfg.Metrics.Handler()))
	e.GET("/openapi.yaml", s.openapi)

	s.api = e.Group(BasePath, Authenticate(AuthConfig{Secret: cfg.Secret, Now: cfg.Now}))
	// The group's catch-all (what its middleware needs to run on unknown
	// paths) would answer 404 for a known path asked with another method.
	s.api.RouteNotFound("", s.noRoute)
	s.api.RouteNotFound("/*", s.noRoute)
	s.minPosition = MinPosition(MinPositionConfig{
		Positioner: cfg.Positioner, Head: cfg.Head, MaxWait: cfg.MinPositionWait,
	})
	return s, nil
}

// noRoute answers an API request no route took: 405 with Allow when its
// path is a route under other methods (api.md: "the route exists, the
// method does not"), else 404.
func (s *Server) noRoute(c echo.Context) error {
	path := c.Request().URL.Path
	var allow []string
	for _, r := range s.e.Routes() {
		if r.Method != echo.RouteNotFound && strings.HasPrefix(r.Path, BasePath+"/") && routeMatches(r.Path, path) &&
			!slices.Contains(allow, r.Method) {
			allow = append(allow, r.Method)
		}
	}
	if len(allow) == 0 {
		return echo.ErrNotFound
	}
	slices.Sort(allow)
	c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
	return echo.ErrMethodNotAllowed
}

// routeMatches reports whether path matches an Echo route pattern whose
// parameters (":id") each stand for one non-empty segment.
func routeMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, ":") {
			if xs[i] == "" {
				return false
			}
		} else if p != xs[i] {
			return false
		}
	}
	return true
}

// Echo is the underlying router (tests, route checks).
func (s *Server) Echo() *echo.Echo { return s.e }

// Handler is the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// Spec is the loaded OpenAPI document.
func (s *Server) Spec() *openapi3.T { return s.spec }

// Metrics is the server's registry.
func (s *Server) Metrics() *Metrics { return s.cfg.Metrics }

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.cfg.Logger }

// Now reads the server's clock.
func (s *Server) Now() time.Time { return s.cfg.Now() }

// Location is the zone dates are read in.
func (s *Server) Location() *time.Location { return s.cfg.Location }

// Positioner is the read side's position.
func (s *Server) Positioner() Positioner { return s.cfg.Positioner }

// Validator starts the field checks of one request.
func (s *Server) Validator() *Validator {
	return NewValidator(ValidationConfig{
		Now: s.cfg.Now, Location: s.cfg.Location, ClockSkew: s.cfg.ClockSkew,
		MaxAmount: s.cfg.MaxAmount, Units: s.cfg.Units,
	})
}

// commandValidator is Validator without the unit lookup, for commands: they
// check units against the store, which is never behind.
func (s *Server) commandValidator() *Validator {
	return NewValidator(ValidationConfig{
		Now: s.cfg.Now, Location: s.cfg.Location, ClockSkew: s.cfg.ClockSkew, MaxAmount: s.cfg.MaxAmount,
	})
}

// Query registers a read: GET BasePath+path, authenticated, then m (e.g.
// RequireRole), then the query parameters the spec defines for the route
// (others are 422), then the min_position wait.
func (s *Server) Query(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	mw := append([]echo.MiddlewareFunc{}, m...)
	if names, ok := SpecQueryParams(s.spec, http.MethodGet, BasePath+path); ok {
		mw = append(mw, AllowQuery(names...))
	}
	mw = append(mw, s.minPosition)
	return s.api.GET(path, h, mw...)
}

// Command registers a command: method BasePath+path, authenticated, limited
// to roles (none: any authenticated actor; unit and ownership rules are the
// commands' to check), refusing query parameters the spec does not define.
func (s *Server) Command(method, path string, h echo.HandlerFunc, roles ...string) *echo.Route {
	var mw []echo.MiddlewareFunc
	if len(roles) > 0 {
		mw = append(mw, RequireRole(roles...))
	}
	if names, ok := SpecQueryParams(s.spec, method, BasePath+path); ok {
		mw = append(mw, AllowQuery(names...))
	}
	return s.api.Add(method, path, h, mw...)
}

// Run listens on Addr and serves until ctx is cancelled, then shuts down
// gracefully (SIGTERM handling is the caller's: cancel ctx on the signal).
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("api: listen %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled. On cancellation /readyz turns
// 503 so a load balancer stops sending, new connections are refused, and
// requests in flight get ShutdownTimeout to finish. It returns nil after a
// clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	s.cfg.Logger.Info("serving", slog.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	s.shuttingDown.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("api: serve: %w", serr)
	}
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("api: shutdown: %w", err)
	}
	s.cfg.Logger.Info("stopped", slog.String("addr", ln.Addr().String()))
	return nil
}

// ---- operations endpoints ----

// Status is the answer of /healthz and /readyz.
type Status struct {
	Status   string `json:"status"`
	Position string `json:"position"`
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, Status{Status: "ok", Position: s.cfg.Positioner.Position().String()})
}

func (s *Server) readyz(c echo.Context) error {
	pos := s.cfg.Positioner.Position().String()
	switch {
	case s.shuttingDown.Load():
		return NewProblem(http.StatusServiceUnavailable, CodeUnavailable, "the server is shutting down")
	case !s.cfg.Readiness.Ready():
		return NewProblem(http.StatusServiceUnavailable, CodeNotReady,
			"the views are still catching up with the event log (at "+pos+")")
	}
	return c.JSON(http.StatusOK, Status{Status: "ready", Position: pos})
}

func (s *Server) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", docs.OpenAPI)
}

// ---- request ids, logs, metrics ----

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// dropBadRequestID discards a client's X-Request-Id that is not a plain
// token, so logs never carry what a client injected; a new id is made.
func dropBadRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if v := h.Values(echo.HeaderXRequestID); len(v) > 1 || len(v) == 1 && !requestIDPattern.MatchString(v[0]) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

// RequestID is the request's id (X-Request-Id): the client's when it sent a
// plain one, else one the server made. Commands use it as the correlation id.
func RequestID(c echo.Context) string {
	if id := c.Response().Header().Get(echo.HeaderXRequestID); id != "" {
		return id
	}
	return c.Request().Header.Get(echo.HeaderXRequestID)
}

// observe writes one log line and one latency observation per request. It
// hands a handler's error to the error handler itself, so the status it
// records is the one the client got.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		req, res := c.Request(), c.Response()
		route := c.Path()
		if route == "" || strings.HasSuffix(route, "/*") {
			route = "unmatched" // unknown paths must not create label values
		}
		s.cfg.Metrics.ObserveRequest(req.Method, route, res.Status, elapsed)
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.String("path", req.URL.Path),
			slog.Int("status", res.Status),
			slog.Duration("latency", elapsed),
			slog.Int64("bytes", res.Size),
			slog.String("request_id", RequestID(c)),
			slog.String("remote", c.RealIP()),
		}
		if a, ok := ActorFrom(c); ok {
			attrs = append(attrs, slog.String("subject", a.Subject), slog.String("role", a.Role))
		}
		s.cfg.Logger.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)
		return nil
	}
}
