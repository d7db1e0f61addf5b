package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestServe: `zhaoshang serve --demo` on an empty data directory — the
// README's first command — loads the demo, becomes ready, answers reads and
// commands with a token minted by `zhaoshang token` from the same data
// directory, and shuts down cleanly when its context ends.
func TestServe(t *testing.T) {
	data := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", data, "--addr", addr, "--demo"}, &out, &errOut)
	}()

	client := &http.Client{Timeout: 30 * time.Second}
	// Ready once the demo is loaded and the views have caught up; no
	// deadline of our own (go test -timeout has one), but a serve that
	// stops early fails the test at once.
	for ready := false; !ready; {
		select {
		case code := <-done:
			t.Fatalf("serve returned %d before it was ready\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
		case <-time.After(100 * time.Millisecond):
		}
		res, err := client.Get(base + "/readyz")
		if err != nil {
			continue // not listening yet: the demo is loading
		}
		res.Body.Close()
		ready = res.StatusCode == http.StatusOK
	}
	if want := "zhaoshang serving " + base + " (store bolt, data in " + data + ")"; !strings.Contains(out.String(), want) {
		t.Errorf("stdout does not say %q:\n%s", want, out.String())
	}
	// The one start-up log line: which store, where the data is, the URL.
	if !strings.Contains(errOut.String(), `"msg":"zhaoshang serving `+base+` — store bolt, data in `+data+`"`) {
		t.Errorf("no start-up log line:\n%s", errOut.String())
	}
	if !strings.Contains(errOut.String(), "demo (seed 2024)") {
		t.Errorf("the demo load is not logged:\n%s", errOut.String())
	}

	token := func(args ...string) string {
		t.Helper()
		return strings.TrimSpace(mustZS(t, append([]string{"token", "--data", data}, args...)...).out)
	}
	leader, centre := token("--role", "leader"), token("--role", "centre")
	call := func(tok, method, path string, body any, want int, dst any) http.Header {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, raw)
		}
		if dst != nil {
			if err := json.Unmarshal(raw, dst); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, raw)
			}
		}
		return res.Header
	}

	type items struct {
		Items []map[string]any `json:"items"`
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	lastYear := time.Now().In(shanghai).Year() - 1 // a whole year of the two the demo covers
	var ranking items
	call(leader, http.MethodGet, fmt.Sprintf("/api/v1/rankings?period=%d&kind=county", lastYear), nil, http.StatusOK, &ranking)
	if len(ranking.Items) == 0 {
		t.Fatal("the county ranking is empty")
	}
	var signed items
	call(leader, http.MethodGet, "/api/v1/lists/signed", nil, http.StatusOK, &signed)
	if len(signed.Items) == 0 {
		t.Fatal("the signed list is empty")
	}

	report := map[string]any{
		"name": "嘉兴服务测试智能制造项目", "unit": "nanhu",
		"investor":           map[string]any{"name": "浙江服务测试科技有限公司", "origin": "浙江杭州", "categories": []string{}},
		"industry_chain":     "高端装备",
		"planned_investment": map[string]any{"amount": 300_000_000, "currency": "CNY"},
		"occurred_at":        time.Now().Add(-time.Hour).Format(time.RFC3339),
	}
	var created struct {
		ID       string `json:"id"`
		Version  uint64 `json:"version"`
		Position string `json:"position"`
	}
	call(centre, http.MethodPost, "/api/v1/projects", report, http.StatusCreated, &created)
	if created.ID == "" || created.Version != 1 || created.Position == "" {
		t.Fatalf("report answered %+v", created)
	}
	var project map[string]any
	h := call(leader, http.MethodGet, "/api/v1/projects/"+created.ID+"?min_position="+url.QueryEscape(created.Position), nil, http.StatusOK, &project)
	if project["name"] != report["name"] || project["unit"] != "nanhu" || project["stage"] != "reported" {
		t.Errorf("read back %v", project)
	}
	if h.Get("X-Position") == "" {
		t.Error("a read without X-Position")
	}

	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after its context ended\nstderr:\n%s", code, errOut.String())
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("still listening after serve returned")
	}
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestServeRefusals: flag combinations that cannot work are usage errors,
// found before the store is opened or anything listens.
func TestServeRefusals(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--relay", "gochannel"}, 2}, // in-process, nobody would read it
		{[]string{"--webhook", "http://127.0.0.1:9/hook"}, 2},
		{[]string{"--relay-from-head"}, 2},
		{[]string{"--log-level", "loud"}, 2}, // command-line mistakes (README: exit 2)
		{[]string{"--tz", "Mars/Olympus_Mons"}, 2},
	} {
		data := t.TempDir()
		r := zs(t, append([]string{"serve", "--data", data, "--addr", freeAddr(t)}, c.args...)...)
		if r.code != c.code || r.errOut == "" {
			t.Errorf("serve %v: want exit %d; %s", c.args, c.code, r)
		}
		if _, err := os.Stat(storePath(data)); !os.IsNotExist(err) {
			t.Errorf("serve %v opened the store: %v", c.args, err)
		}
	}
}

// TestServeOnABusyPort: serve says it is serving only once the address is
// its own; on a port in use it fails with exit 1 and claims nothing.
func TestServeOnABusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := zs(t, "serve", "--data", t.TempDir(), "--addr", ln.Addr().String(), "--seal-every", "0")
	if r.code != 1 || strings.Contains(r.out, "serving") || !strings.Contains(r.errOut, "address already in use") {
		t.Errorf("serve on a busy port: %s", r)
	}
}
