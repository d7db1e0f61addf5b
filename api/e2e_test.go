package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// TestEndToEnd runs the server (Server.Serve on a 127.0.0.1 listener) on the
// embedded store with the real commands and views, and walks a project from
// report to production over real HTTP with real bearer tokens: report →
// negotiation → due process ×3 → signing filing → signing → registration →
// construction start → funds → production; then reads its history, the
// lists, the ranking, the alerts and the verification of the log. Reads pass
// the last command's position as min_position, so they see their writes.
func TestEndToEnd(t *testing.T) {
	w := newWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- w.srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 30 * time.Second}
	staff, centre, auditor := w.token(asStaff), w.token(asCentre), w.token(asAuditor)

	var last eventstore.Position
	send := func(token, method, path string, body any, want int) *http.Response {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, base+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		res.Body = io.NopCloser(bytes.NewReader(b))
		if res.StatusCode != want {
			t.Fatalf("%s %s → %d, want %d: %s", method, path, res.StatusCode, want, b)
		}
		if err := w.spec.ValidateResponse(req, res.StatusCode, res.Header, b); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		if res.Header.Get("X-Position") == "" || res.Header.Get("X-Request-Id") == "" {
			t.Fatalf("%s %s: headers %v", method, path, res.Header)
		}
		return res
	}
	command := func(token, path string, body any, want int) CommandResult {
		t.Helper()
		res := send(token, http.MethodPost, path, body, want)
		var r CommandResult
		if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		if res.Header.Get("ETag") != `"`+itoa(int(r.Version))+`"` || res.Header.Get("X-Position") != r.Position.String() {
			t.Fatalf("%s: ETag %q X-Position %q for %+v", path, res.Header.Get("ETag"), res.Header.Get("X-Position"), r)
		}
		if r.Position.Compare(last) <= 0 {
			t.Fatalf("%s: position %s not after %s", path, r.Position, last)
		}
		last = r.Position
		return r
	}
	read := func(token, path string, dst any) {
		t.Helper()
		sep := "?"
		if u, _ := url.Parse(path); u.RawQuery != "" {
			sep = "&"
		}
		res := send(token, http.MethodGet, path+sep+"min_position="+last.String(), nil, http.StatusOK)
		if err := json.NewDecoder(res.Body).Decode(dst); err != nil {
			t.Fatal(err)
		}
	}

	report := reportOf(unitNanhu, "新能源电池项目", "宁德时代新能源科技股份有限公司")
	report["occurred_at"] = rfc(2024, 12, 20, 10) // inside 30 days of now: 首报首谈 rights
	r := command(staff, "/api/v1/projects", report, http.StatusCreated)
	pid := r.ID
	if r.ExclusiveUntil == nil {
		t.Fatal("a major project reported within the window gained no exclusivity")
	}
	p := "/api/v1/projects/" + pid
	negotiation := map[string]any{"occurred_at": rfc(2024, 12, 25, 15), "leader_level": "principal", "summary": "首次洽谈"}
	command(staff, p+"/negotiations", negotiation, http.StatusOK)
	for _, k := range []string{"feasibility_study", "risk_assessment", "collective_decision"} {
		d := validDueProcess(k)
		d["occurred_at"] = rfc(2024, 12, 28, 9)
		command(staff, p+"/due-process", d, http.StatusOK)
	}
	command(staff, p+"/signing-filings", map[string]any{"planned_date": "2025-01-25", "contract_investment": cny(1_800_000_000),
		"venue": "全球招商大会"}, http.StatusOK)
	var proj Project
	read(auditor, p, &proj)
	if proj.Stage != "negotiating" || !proj.DueProcess.RiskAssessment {
		t.Fatalf("before signing: %+v", proj)
	}

	w.clock.Set(time.Date(2025, 2, 10, 10, 0, 0, 0, cst))
	staff, centre, auditor = w.token(asStaff), w.token(asCentre), w.token(asAuditor)
	command(centre, p+"/signing", map[string]any{"occurred_at": rfc(2025, 2, 1, 10), "contract_investment": cny(1_800_000_000),
		"agreement": "formal", "commitments": map[string]any{"register_by": "2025-03-31", "start_by": "2025-06-30"}}, http.StatusOK)
	command(staff, p+"/registration", map[string]any{"occurred_at": rfc(2025, 2, 5, 10), "company_uscc": "91330402MA2JD4XK5W"}, http.StatusOK)
	command(staff, p+"/construction-start", map[string]any{"occurred_at": rfc(2025, 2, 6, 9)}, http.StatusOK)
	command(staff, p+"/funds", map[string]any{"occurred_at": rfc(2025, 2, 8, 10), "amount": cny(600_000_000), "source": "out_of_province"}, http.StatusOK)
	last = command(staff, p+"/production", map[string]any{"occurred_at": rfc(2025, 2, 9, 9)}, http.StatusOK).Position

	read(auditor, p, &proj)
	if proj.Stage != "producing" || proj.Version != 11 || proj.FundsArrived.Amount != 600_000_000 || proj.SignedAt == nil ||
		proj.SignedAt.String() != "2025-02-01" {
		t.Fatalf("after production: %+v", proj)
	}
	var hist List[eventstore.Event]
	read(auditor, p+"/history", &hist)
	want := []string{"ProjectReported", "NegotiationRecorded", "DueProcessRecorded", "DueProcessRecorded", "DueProcessRecorded",
		"SigningFiled", "ContractSigned", "CompanyRegistered", "ConstructionStarted", "FundsArrived", "ProductionStarted"}
	if len(hist.Items) != len(want) {
		t.Fatalf("history: %d events", len(hist.Items))
	}
	for i, e := range hist.Items {
		if e.Type != want[i] || e.Version != uint64(i+1) || e.Hash == "" || (i > 0 && e.PrevHash != hist.Items[i-1].Hash) {
			t.Fatalf("history[%d] %+v", i, e)
		}
	}
	var list List[ProjectSummary]
	read(staff, "/api/v1/lists/started", &list)
	if len(list.Items) != 0 {
		t.Fatalf("a producing project is on the started list: %+v", list.Items)
	}
	read(staff, "/api/v1/projects?stage=producing&q=电池", &list)
	if len(list.Items) != 1 || list.Items[0].ID != pid {
		t.Fatalf("producing projects: %+v", list.Items)
	}
	var rk Ranking
	read(staff, "/api/v1/rankings?period=2025-Q1&kind=county", &rk)
	if len(rk.Items) != 2 || rk.Items[0].Unit != unitNanhu || rk.Items[0].Score != 100 ||
		rk.Items[0].Indicators["out_of_province_funds"] != 600_000_000 || rk.Items[0].Indicators["started_projects"] != 1 {
		t.Fatalf("ranking: %+v", rk)
	}
	var alerts List[Alert]
	read(centre, "/api/v1/supervision/alerts?unit=nanhu", &alerts)
	for _, a := range alerts.Items {
		if a.ProjectID != pid {
			t.Fatalf("alert of another project: %+v", a)
		}
	}
	var rep eventstore.Report
	read(auditor, "/api/v1/audit/verify", &rep)
	if !rep.OK || rep.EventsChecked < 16 || rep.FirstBad != nil {
		t.Fatalf("verify: %+v", rep)
	}
	var reads List[ReadAccess]
	read(auditor, "/api/v1/audit/reads?resource=project_history", &reads)
	if len(reads.Items) != 1 || reads.Items[0].ID != pid || reads.Items[0].Actor.Role != RoleAuditor {
		t.Fatalf("read log: %+v", reads.Items)
	}
	// Operations endpoints, no token.
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml"} {
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
}
