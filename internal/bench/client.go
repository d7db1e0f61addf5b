package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// client is what the HTTP figures are measured with: net/http with
// keep-alive and at most one connection per worker, as a well-behaved API
// consumer (a dashboard backend, an importer) would use it. It only ever
// talks to the server the bench started on the loopback interface.
type client struct {
	http *http.Client
	tr   *http.Transport
	base string // http://127.0.0.1:port
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{
		// Never through a proxy from the environment: the server is on
		// this machine, and a proxy would measure itself.
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:     conns,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
	}
	return &client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, tr: tr, base: base}
}

// do sends one request and reads the whole answer (so the connection goes
// back to the pool), failing unless the status is want.
func (c *client) do(ctx context.Context, method, path, token string, body []byte, want int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, strings.TrimSpace(string(msg)))
	}
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

func (c *client) close() { c.tr.CloseIdleConnections() }
