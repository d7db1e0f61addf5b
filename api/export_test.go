package api

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"
)

func sampleTable() Table {
	signed := time.Date(2024, 5, 1, 0, 0, 0, 0, defaultLocation())
	return Table{
		Sheet: "签约项目",
		Columns: []Column{
			{Header: "项目名称", Kind: KindText},
			{Header: "单位", Kind: KindText},
			{Header: "签约投资", Kind: KindMoneyWan},
			{Header: "外资", Kind: KindMoneyWan, Unit: "万美元"},
			{Header: "排名", Kind: KindInt},
			{Header: "完成率", Kind: KindRatio},
			{Header: "得分", Kind: KindNumber},
			{Header: "签约日期", Kind: KindDate},
		},
		Rows: [][]any{
			{"新能源电池项目（一期）", "南湖区", int64(1_500_000_000), int64(12_345), 1, 0.8523, 87.5, signed},
			{"=HYPERLINK(\"http://evil\")", "秀洲区", int64(5_000), nil, 2, 1.2, 60.25, "2024-06-30"},
			{"半导体, \"封测\"\n基地", "嘉善县", int64(0), int64(-5_000), uint64(3), nil, nil, nil},
		},
	}
}

func TestWanString(t *testing.T) {
	for yuan, want := range map[int64]string{
		0: "0", 1: "0.0001", 10_000: "1", 12_345: "1.2345", 1_500_000_000: "150000",
		-5_000: "-0.5", 9_223_372_036_854_775_807: "922337203685477.5807", -9_223_372_036_854_775_808: "-922337203685477.5808",
	} {
		if got := wanString(yuan); got != want {
			t.Errorf("%d: %q, want %q", yuan, got, want)
		}
	}
}

func TestWriteCSVReadsBack(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sampleTable()); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatal("no UTF-8 BOM")
	}
	if !bytes.Contains(b, []byte("\r\n")) {
		t.Fatal("not CRLF")
	}
	recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"项目名称", "单位", "签约投资(万元)", "外资(万美元)", "排名", "完成率", "得分", "签约日期"},
		{"新能源电池项目（一期）", "南湖区", "150000", "1.2345", "1", "0.8523", "87.5", "2024-05-01"},
		{"'=HYPERLINK(\"http://evil\")", "秀洲区", "0.5", "", "2", "1.2", "60.25", "2024-06-30"},
		{"半导体, \"封测\"\n基地", "嘉善县", "0", "-0.5", "3", "", "", ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records", len(recs))
	}
	for i := range want {
		if !slices.Equal(recs[i], want[i]) {
			t.Fatalf("row %d: %q, want %q", i, recs[i], want[i])
		}
	}
}

func TestWriteXLSXReadsBack(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, sampleTable()); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"签约项目"}) {
		t.Fatalf("sheets %q", got)
	}
	rows, err := f.GetRows("签约项目")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], []string{"项目名称", "单位", "签约投资(万元)", "外资(万美元)", "排名", "完成率", "得分", "签约日期"}) {
		t.Fatalf("header %q", rows[0])
	}
	if rows[1][0] != "新能源电池项目（一期）" || rows[2][0] != `=HYPERLINK("http://evil")` {
		t.Fatalf("text %q", rows[1:3])
	}
	// Numbers are numbers, not text, and keep every digit.
	for cell, want := range map[string]string{"C2": "150000", "D2": "1.2345", "E2": "1", "F2": "0.8523", "G2": "87.5", "C3": "0.5", "D4": "-0.5"} {
		typ, err := f.GetCellType("签约项目", cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Fatalf("%s has type %v", cell, typ)
		}
		raw, _ := f.GetCellValue("签约项目", cell, excelize.Options{RawCellValue: true})
		if raw != want {
			t.Fatalf("%s = %q, want %q", cell, raw, want)
		}
	}
	if v, _ := f.GetCellValue("签约项目", "H2"); v != "2024-05-01" {
		t.Fatalf("date shown as %q", v)
	}
	if v, _ := f.GetCellValue("签约项目", "H3"); v != "2024-06-30" {
		t.Fatalf("date shown as %q", v)
	}
	if f, _ := f.GetCellFormula("签约项目", "A3"); f != "" {
		t.Fatalf("text became a formula: %q", f)
	}
	panes, err := f.GetPanes("签约项目")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Fatalf("panes %+v %v", panes, err)
	}
	style, err := f.GetCellStyle("签约项目", "A1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(style)
	if err != nil || st.Font == nil || !st.Font.Bold {
		t.Fatalf("header style %+v %v", st, err)
	}
}

func TestExportRefusesMismatchedRows(t *testing.T) {
	tb := Table{Columns: []Column{{Header: "a"}}, Rows: [][]any{{1, 2}}}
	if WriteCSV(&bytes.Buffer{}, tb) == nil || WriteXLSX(&bytes.Buffer{}, tb) == nil {
		t.Fatal("accepted a row of the wrong width")
	}
	tb = Table{Columns: []Column{{Header: "n", Kind: KindInt}}, Rows: [][]any{{"x"}}}
	if WriteCSV(&bytes.Buffer{}, tb) == nil || WriteXLSX(&bytes.Buffer{}, tb) == nil {
		t.Fatal("accepted text in an integer column")
	}
}

func TestContentDisposition(t *testing.T) {
	got := ContentDisposition(ExportName{Name: "签约项目 2024", Fallback: "signed-2024"}, "xlsx")
	want := `attachment; filename="signed-2024.xlsx"; filename*=UTF-8''%E7%AD%BE%E7%BA%A6%E9%A1%B9%E7%9B%AE%202024.xlsx`
	if got != want {
		t.Fatalf("%s\nwant %s", got, want)
	}
	name, _ := url.PathUnescape(strings.TrimPrefix(got[strings.Index(got, "''")+2:], ""))
	if name != "签约项目 2024.xlsx" {
		t.Fatalf("round trip %q", name)
	}
	if got := ContentDisposition(ExportName{Name: "排名"}, "csv"); !strings.HasPrefix(got, `attachment; filename="export.csv";`) {
		t.Fatalf("%s", got)
	}
	if got := ContentDisposition(ExportName{Name: `a"b\c`}, "csv"); !strings.HasPrefix(got, `attachment; filename="a_b_c.csv"; filename*=UTF-8''a%22b%5Cc.csv`) {
		t.Fatalf("quotes must not escape the parameter: %s", got)
	}
}

func TestRespondExport(t *testing.T) {
	e := bare()
	e.GET("/t", func(c echo.Context) error {
		f, err := ParseFormat(c)
		if err != nil {
			return err
		}
		if f == FormatJSON {
			return c.JSON(200, map[string]string{"ok": "json"})
		}
		return RespondExport(c, f, ExportName{Name: "签约项目", Fallback: "signed"}, sampleTable())
	})
	rec := do(e, http.MethodGet, "/t", "")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("json: %d %v", rec.Code, rec.Header())
	}
	rec = do(e, http.MethodGet, "/t?format=csv", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != MediaTypeCSV || !strings.Contains(rec.Header().Get("Content-Disposition"), ".csv") {
		t.Fatalf("csv: %d %v", rec.Code, rec.Header())
	}
	rec = do(e, http.MethodGet, "/t?format=xlsx", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != MediaTypeXLSX || !bytes.HasPrefix(rec.Body.Bytes(), []byte("PK")) {
		t.Fatalf("xlsx: %d %v", rec.Code, rec.Header())
	}
	for _, q := range []string{"format=pdf", "format=CSV", "format=csv&format=xlsx"} {
		rec = do(e, http.MethodGet, "/t?"+q, "")
		if p := problemOf(t, rec); rec.Code != 422 || p.Errors[0].Field != "format" {
			t.Fatalf("%s: %d %+v", q, rec.Code, p)
		}
	}
}

// TestXLSXInASpreadsheet converts an export with LibreOffice, a real
// spreadsheet program, and compares what it read with the CSV export. It
// skips where LibreOffice is not installed.
func TestXLSXInASpreadsheet(t *testing.T) {
	soffice, err := exec.LookPath("libreoffice")
	if err != nil {
		if soffice, err = exec.LookPath("soffice"); err != nil {
			t.Skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
		}
	}
	if testing.Short() {
		t.Skip("LibreOffice conversion is slow; skipped with -short")
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, sampleTable()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "export.xlsx"), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// 44 = comma, 34 = double quote, 76 = UTF-8; the last token asks for the
	// formatted cell text, as a person sees it.
	cmd := exec.Command(soffice, "--headless", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true", "--outdir", dir,
		filepath.Join(dir, "export.xlsx"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("libreoffice: %v: %s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "export.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(got, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if !slices.Equal(recs[0], []string{"项目名称", "单位", "签约投资(万元)", "外资(万美元)", "排名", "完成率", "得分", "签约日期"}) {
		t.Fatalf("header as LibreOffice read it: %q", recs[0])
	}
	if recs[1][0] != "新能源电池项目（一期）" || recs[1][1] != "南湖区" || recs[3][0] != "半导体, \"封测\"\n基地" {
		t.Fatalf("Chinese text as LibreOffice read it: %q", recs[1:])
	}
	if recs[1][2] != "150,000.00" || recs[1][5] != "85.23%" || recs[1][7] != "2024-05-01" {
		t.Fatalf("formatted numbers as LibreOffice shows them: %q", recs[1])
	}
}
