package api

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// exportWorld has two signed projects: ¥18亿 in nanhu, US$2亿 in xiuzhou.
func exportWorld(t *testing.T) *world {
	w := newWorld(t)
	pid := w.report(asStaff, reportOf(unitNanhu, "新能源电池项目（一期）", "宁德时代"))
	w.must(http.StatusOK, asStaff, http.MethodPost, "/api/v1/projects/"+pid+"/signing", validSigning)
	usd := reportOf(unitXiuzhou, "半导体, \"封测\"基地", "=HYPERLINK(\"x\")")
	usd["planned_investment"] = map[string]any{"amount": 200_000_000, "currency": "USD"}
	xid := w.report(asOtherStaff, usd)
	w.must(http.StatusOK, asOtherStaff, http.MethodPost, "/api/v1/projects/"+xid+"/signing", map[string]any{
		"occurred_at": rfc(2024, 5, 20, 10), "contract_investment": map[string]any{"amount": 200_000_123, "currency": "USD"},
		"agreement": "framework"})
	w.sync()
	return w
}

func csvOf(t *testing.T, a answer) [][]string {
	t.Helper()
	if ct := a.Header().Get("Content-Type"); ct != MediaTypeCSV {
		t.Fatalf("content type %q", ct)
	}
	if cd := a.Header().Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''") {
		t.Fatalf("content disposition %q", cd)
	}
	b := a.Body.Bytes()
	if !bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatal("no UTF-8 byte order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func column(t *testing.T, recs [][]string, header string) int {
	t.Helper()
	i := slices.Index(recs[0], header)
	if i < 0 {
		t.Fatalf("no column %q in %q", header, recs[0])
	}
	return i
}

func TestExports(t *testing.T) {
	w := exportWorld(t)

	recs := csvOf(t, w.get(asLeader, "/api/v1/lists/signed?format=csv"))
	if len(recs) != 3 {
		t.Fatalf("signed list: %q", recs)
	}
	name, cny, usd := column(t, recs, "项目名称"), column(t, recs, "签约投资(万元)"), column(t, recs, "签约投资(万美元)")
	if recs[1][name] != "新能源电池项目（一期）" || recs[1][cny] != "180000" || recs[1][usd] != "" ||
		recs[2][usd] != "20000.0123" || recs[2][column(t, recs, "投资方")] != `'=HYPERLINK("x")` ||
		recs[2][column(t, recs, "当前单位")] != "秀洲区(xiuzhou)" || recs[1][column(t, recs, "阶段")] != "签约" ||
		recs[1][column(t, recs, "签约日期")] != "2024-06-18" {
		t.Fatalf("signed list: %q", recs)
	}
	// limit makes the export one page.
	if recs := csvOf(t, w.get(asLeader, "/api/v1/projects?format=csv&limit=1")); len(recs) != 2 {
		t.Fatalf("one page: %q", recs)
	}

	recs = csvOf(t, w.get(asLeader, "/api/v1/rankings?period=2024&kind=county&format=csv"))
	if recs[1][column(t, recs, "单位名称")] != "南湖区" || recs[1][column(t, recs, "合同投资额(万元)")] != "180000" ||
		recs[1][column(t, recs, "签约10亿元以上项目(个)")] != "1" || recs[1][column(t, recs, "排名")] != "1" {
		t.Fatalf("ranking: %q", recs)
	}

	got := w.get(asLeader, "/api/v1/rankings?period=2024&kind=county&format=xlsx")
	if got.Header().Get("Content-Type") != MediaTypeXLSX {
		t.Fatalf("xlsx content type %v", got.Header())
	}
	f, err := excelize.OpenReader(bytes.NewReader(got.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "排名" || rows[1][2] != "南湖区" || !slices.Contains(rows[0], "合同投资额(万元)") {
		t.Fatalf("xlsx rows %q", rows)
	}

	recs = csvOf(t, w.get(asLeader, "/api/v1/assessments/2024?format=csv"))
	if recs[0][column(t, recs, "等次")] != "等次" || len(recs) < 3 {
		t.Fatalf("assessment: %q", recs)
	}
	for _, target := range []string{"/api/v1/supervision/alerts?format=csv", "/api/v1/supervision/orders?format=xlsx",
		"/api/v1/supervision/rates?year=2024&format=csv", "/api/v1/assessments/2024?format=xlsx", "/api/v1/lists/negotiating?unit=nanhu&format=xlsx"} {
		w.get(asLeader, target)
	}
	recs = csvOf(t, w.get(asLeader, "/api/v1/supervision/rates?year=2024&format=csv"))
	if recs[1][column(t, recs, "合同投资额(万元)")] != "180000" {
		t.Fatalf("rates: %q", recs)
	}
	if p := w.must(http.StatusUnprocessableEntity, asLeader, http.MethodGet, "/api/v1/rankings?period=2024&format=pdf", nil).problem(t); fieldNames(p)[0] != "format" {
		t.Fatalf("%+v", p)
	}
}

// TestExportsInASpreadsheet converts real exports with LibreOffice and
// checks that the Chinese text, the headers and the 万元 amounts survive. It
// skips where LibreOffice is not installed.
func TestExportsInASpreadsheet(t *testing.T) {
	soffice, err := exec.LookPath("libreoffice")
	if err != nil {
		if soffice, err = exec.LookPath("soffice"); err != nil {
			t.Skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
		}
	}
	if testing.Short() {
		t.Skip("LibreOffice conversion is slow; skipped with -short")
	}
	w := exportWorld(t)
	dir := t.TempDir()
	xlsx := w.get(asLeader, "/api/v1/lists/signed?format=xlsx").Body.Bytes()
	mine := csvOf(t, w.get(asLeader, "/api/v1/lists/signed?format=csv"))
	if err := os.WriteFile(filepath.Join(dir, "signed.xlsx"), xlsx, 0o600); err != nil {
		t.Fatal(err)
	}
	// 44 = comma, 34 = double quote, 76 = UTF-8; cells as stored (not as
	// shown), to compare values with the CSV export.
	cmd := exec.Command(soffice, "--headless", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false", "--outdir", dir,
		filepath.Join(dir, "signed.xlsx"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("libreoffice: %v: %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "signed.csv"))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if !slices.Equal(theirs[0], mine[0]) {
		t.Fatalf("headers as LibreOffice read them:\n%q\nthe CSV export:\n%q", theirs[0], mine[0])
	}
	for _, col := range []string{"项目名称", "当前单位", "投资方", "签约投资(万元)", "签约投资(万美元)", "阶段"} {
		i := column(t, mine, col)
		for r := 1; r < len(mine); r++ {
			want := strings.TrimPrefix(mine[r][i], "'") // the CSV guard against formulas; xlsx cells are text anyway
			if theirs[r][i] != want {
				t.Errorf("row %d %s: LibreOffice read %q, the CSV export has %q", r, col, theirs[r][i], mine[r][i])
			}
		}
	}
}
