package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/zhaoshang/zhaoshang/internal/ledger"
)

const (
	sampleSheet  = "../../docs/import-sample.csv"
	badRowsSheet = "../../internal/ledger/testdata/bad-rows.csv"
)

var importTotals = regexp.MustCompile(`新增 new (\d+), 更新 updated (\d+), 无变化 unchanged (\d+); 命令 commands (\d+), 事件 events (\d+)`)

// TestImportSample: the sample ledger imports into the demo's ledger, the
// report lists each row and what it recorded, and importing it again
// appends nothing.
func TestImportSample(t *testing.T) {
	data := demoData(t)
	before := head(t, data)

	r := mustZS(t, "import", "--data", data, sampleSheet)
	m := importTotals.FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("no totals in the report:\n%s", r.out)
	}
	if m[1] != "10" || m[3] != "0" {
		t.Errorf("new %s unchanged %s, want the sample's 10 rows new:\n%s", m[1], m[3], r.out)
	}
	events, _ := strconv.Atoi(m[5])
	if events == 0 {
		t.Fatalf("no events appended:\n%s", r.out)
	}
	if !strings.Contains(r.out, "数据行 rows: 10") {
		t.Errorf("report does not count the rows:\n%s", r.out)
	}
	for row, id := range map[int]string{2: "NH-2025-003", 6: "HY-2024-004", 11: "NH-2026-008"} {
		line := regexp.MustCompile(`(?m)^  第` + strconv.Itoa(row) + `行 row ` + strconv.Itoa(row) + ` ` + id + ` .+: report.* → [0-9a-f-]{36}$`)
		if !line.MatchString(r.out) {
			t.Errorf("report does not list row %d (%s) with its steps and project:\n%s", row, id, r.out)
		}
	}
	after := head(t, data)
	if after.Compare(before) <= 0 || int(after.Prepare-before.Prepare) < events {
		t.Errorf("head moved from %s to %s for %d events", before, after, events)
	}

	// Again, as JSON: every row unchanged, nothing appended.
	r = mustZS(t, "import", "--data", data, "--json", sampleSheet)
	var rep ledger.Report
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.out)
	}
	if rep.Rows != 10 || rep.Unchanged != 10 || rep.New != 0 || rep.Events != 0 || len(rep.Errors) != 0 {
		t.Errorf("re-import: %+v", rep)
	}
	if again := head(t, data); again != after {
		t.Errorf("the re-import moved the head from %s to %s", after, again)
	}

	// As another subject the importer cannot tell its own earlier rows,
	// but the projects are in the ledger: every row is refused, none entered twice.
	r = zs(t, "import", "--data", data, "--subject", "另一位录入员", sampleSheet)
	if r.code != 3 || !strings.Contains(r.out, "本单位已有同名同投资方的项目") || !strings.Contains(r.out, "not imported by this subject") {
		t.Errorf("an import of the same sheet as another subject: %s", r)
	}
	if again := head(t, data); again != after {
		t.Errorf("the import as another subject moved the head from %s to %s", after, again)
	}
}

func TestImportDryRun(t *testing.T) {
	data := demoData(t)
	before := head(t, data)
	r := mustZS(t, "import", "--data", data, "--dry-run", sampleSheet)
	m := importTotals.FindStringSubmatch(r.out)
	if !strings.Contains(r.out, "dry run, nothing written") || m == nil || m[1] != "10" {
		t.Errorf("dry run report:\n%s", r.out)
	}
	if after := head(t, data); after != before {
		t.Errorf("a dry run moved the head from %s to %s", before, after)
	}
}

// TestImportBadRows: a sheet with bad rows is rejected whole — exit 3, each
// error named by row and column with its reason in Chinese and English,
// nothing appended, not even the good row.
func TestImportBadRows(t *testing.T) {
	data := demoData(t)
	before := head(t, data)
	r := zs(t, "import", "--data", data, badRowsSheet)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3: %s", r.code, r)
	}
	if !strings.Contains(r.errOut, "nothing was imported") {
		t.Errorf("stderr does not say nothing was imported: %s", r.errOut)
	}
	if !strings.Contains(r.out, "错误 13 处，未导入任何数据 / 13 errors, nothing was imported") {
		t.Errorf("report does not count the errors:\n%s", r.out)
	}
	for _, want := range []string{
		`第3行 row 3 · 所属单位 (unit) = "南湖新区": 不是已登记的单位`,
		`第4行 row 4 · 签约日期 (signed_on) = "2025-13-01": 不是有效日期`,
		`/ not a valid date`,
		`第5行 row 5 · 计划投资(万元) (planned_investment) = "1.2亿": 应为以万为单位的数字 / must be a number in 万 (10,000)`,
		`第10行 row 10 · 当前阶段 (stage) = "已完成"`,
		`第12行 row 12 · 入库日期 (reported_on) = "2030-01-01": 日期晚于今天 / the date is in the future`,
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("report lacks %q:\n%s", want, r.out)
		}
	}
	// Every error line names a row and gives both languages.
	errLine := regexp.MustCompile(`^  第(\d+)行 row (\d+)( · [^:]+)?: .+ / .+$`)
	lines := 0
	for _, l := range strings.Split(r.out, "\n") {
		if !strings.HasPrefix(l, "  第") || strings.Contains(l, "合计行") {
			continue
		}
		lines++
		if m := errLine.FindStringSubmatch(l); m == nil || m[1] != m[2] {
			t.Errorf("error line without row or both languages: %q", l)
		}
	}
	if lines != 13 {
		t.Errorf("%d error lines, want 13:\n%s", lines, r.out)
	}
	if after := head(t, data); after != before {
		t.Errorf("a rejected sheet moved the head from %s to %s", before, after)
	}
}

// TestImportWorkbook: an .xlsx ledger with one bad row appends nothing; once
// the row is corrected the same rows import.
func TestImportWorkbook(t *testing.T) {
	data := demoData(t)
	header := []any{"项目编号", "项目名称", "投资方", "产业链", "计划投资(万元)", "所属单位", "当前阶段", "入库日期", "首次洽谈日期"}
	good := []any{"XS-T-001", "测试光伏支架项目", "浙江测试新能源有限公司", "光伏新能源", 20000, "秀洲区", "在谈", "2026-03-02", "2026-03-09"}
	bad := []any{"XS-T-002", "测试储能项目", "浙江测试储能有限公司", "光伏新能源", 30000, "秀洲新区", "入库", "2026-04-01", ""}
	write := func(name string, rows ...[]any) string {
		t.Helper()
		f := excelize.NewFile()
		defer f.Close()
		sheet := f.GetSheetName(0)
		for i, row := range append([][]any{header}, rows...) {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow(sheet, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(t.TempDir(), name)
		if err := f.SaveAs(path); err != nil {
			t.Fatal(err)
		}
		return path
	}

	before := head(t, data)
	r := zs(t, "import", "--data", data, write("秀洲区台账.xlsx", good, bad))
	if r.code != 3 || !strings.Contains(r.out, `第3行 row 3 · 所属单位 (unit) = "秀洲新区"`) || strings.Count(r.out, "  第") != 1 {
		t.Fatalf("a workbook with a bad unit: %s", r)
	}
	if after := head(t, data); after != before {
		t.Fatalf("a rejected workbook moved the head from %s to %s", before, after)
	}

	bad[5] = "xiuzhou"
	r = mustZS(t, "import", "--data", data, write("秀洲区台账-改.xlsx", good, bad))
	if m := importTotals.FindStringSubmatch(r.out); m == nil || m[1] != "2" {
		t.Fatalf("the corrected workbook:\n%s", r.out)
	}
	if !strings.Contains(r.out, "XLSX, 工作表 sheet") || head(t, data) == before {
		t.Errorf("the corrected workbook was not read as xlsx or appended nothing:\n%s", r.out)
	}
}

// TestImportTemplate: --template writes the template workbook with the
// Chinese headers, without touching a store, and never overwrites a file.
func TestImportTemplate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "台账模板.xlsx")
	r := mustZS(t, "import", "--data", filepath.Join(dir, "data"), "--template", path)
	if !strings.Contains(r.out, path) {
		t.Errorf("does not say where the template went: %q", r.out)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(ledger.TemplateSheet)
	if err != nil {
		t.Fatalf("sheet %s: %v (sheets %v)", ledger.TemplateSheet, err, f.GetSheetList())
	}
	if len(rows) < 1 {
		t.Fatal("the template sheet is empty")
	}
	cols := ledger.Columns()
	if len(rows[0]) != len(cols) {
		t.Fatalf("header %q, want %d columns", rows[0], len(cols))
	}
	for i, c := range cols {
		if rows[0][i] != c.Zh {
			t.Errorf("header column %d is %q, want %q", i+1, rows[0][i], c.Zh)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("--template touched the data directory: %v", err)
	}

	info, _ := os.Stat(path)
	if r := zs(t, "import", "--template", path); r.code != 1 || !strings.Contains(r.errOut, "exists") {
		t.Errorf("a second --template over the file: %s", r)
	}
	if again, _ := os.Stat(path); again.Size() != info.Size() || !again.ModTime().Equal(info.ModTime()) {
		t.Error("the existing template was overwritten")
	}
}

func TestImportUsage(t *testing.T) {
	for _, args := range [][]string{{"import"}, {"import", "a.csv", "b.csv"}} {
		if r := zs(t, args...); r.code != 2 || !strings.Contains(r.errOut, "import needs exactly one FILE") {
			t.Errorf("%v: %s", args, r)
		}
	}
	if r := zs(t, "import", "--data", t.TempDir(), filepath.Join(t.TempDir(), "missing.csv")); r.code != 1 || !strings.Contains(r.errOut, "missing.csv") {
		t.Errorf("a missing file: %s", r)
	}
	// A mistyped --data is refused, not made into an empty store.
	empty := t.TempDir()
	if r := zs(t, "import", "--data", empty, "--dry-run", sampleSheet); r.code != 1 || !strings.Contains(r.errOut, "no event store") {
		t.Errorf("an import into a directory without a store: %s", r)
	}
	if _, err := os.Stat(filepath.Join(empty, "events.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the import created a store in %s: %v", empty, err)
	}
}
