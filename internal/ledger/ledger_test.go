package ledger

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
	"github.com/zhaoshang/zhaoshang/internal/demo"
)

var update = flag.Bool("update", false, "rewrite docs/import-template.xlsx from WriteTemplate")

// testZone is a fixed +08:00 zone, so the tests do not depend on the
// machine's zone database.
var testZone = time.FixedZone("CST", 8*3600)

// testNow is the tests' "now": after every date of the sample.
var testNow = time.Date(2026, 11, 20, 10, 0, 0, 0, testZone)

const (
	samplePath   = "../../docs/import-sample.csv"
	templatePath = "../../docs/import-template.xlsx"
)

var admin = eventstore.Actor{Subject: "admin", Role: string(domain.RoleAdmin)}

// units are the Jiaxing units the demo registers, which the sample names.
var units = []domain.Unit{
	{Code: "jxic", Name: "嘉兴市投资促进中心", Kind: domain.UnitCentre},
	{Code: "nanhu", Name: "南湖区", Kind: domain.UnitCounty}, {Code: "xiuzhou", Name: "秀洲区", Kind: domain.UnitCounty},
	{Code: "jiashan", Name: "嘉善县", Kind: domain.UnitCounty}, {Code: "pinghu", Name: "平湖市", Kind: domain.UnitCounty},
	{Code: "haiyan", Name: "海盐县", Kind: domain.UnitCounty}, {Code: "haining", Name: "海宁市", Kind: domain.UnitCounty},
	{Code: "tongxiang", Name: "桐乡市", Kind: domain.UnitCounty},
	{Code: "jxetdz", Name: "嘉兴经济技术开发区", Kind: domain.UnitPark}, {Code: "zhapu", Name: "浙江乍浦经济开发区", Kind: domain.UnitPark},
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	store *bolt.Store
	app   *commands.App
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app, err := commands.New(commands.Deps{Store: st, Clock: func() time.Time { return testNow }, Location: testZone})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: context.Background(), store: st, app: app}
	for _, u := range units {
		if _, err := app.RegisterUnit.Handle(f.ctx, commands.RegisterUnit{Code: u.Code, Name: u.Name, Kind: u.Kind,
			Meta: commands.Meta{Actor: admin}}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) opts() Options {
	return Options{Clock: func() time.Time { return testNow }, Location: testZone}
}

func (f *fixture) importBytes(data []byte, name string, o Options) (Report, error) {
	f.t.Helper()
	return Import(f.ctx, f.store, bytes.NewReader(data), name, o)
}

func (f *fixture) head() eventstore.Position {
	h, err := f.store.Head(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func (f *fixture) project(id string) domain.ProjectSnapshot {
	f.t.Helper()
	evs, err := f.store.ReadStream(f.ctx, domain.ProjectStream(id), 1, eventstore.Forwards, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	p := domain.NewProject()
	for _, e := range evs {
		d, err := domain.Decode(e.Type, e.Data)
		if err != nil {
			f.t.Fatal(err)
		}
		p.Apply(d)
	}
	return p.Snapshot()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func byExternalID(r Report, id string) RowResult {
	for _, p := range r.Projects {
		if p.ExternalID == id {
			return p
		}
	}
	return RowResult{}
}

// TestImportSample imports docs/import-sample.csv: every row becomes the
// facts its stage implies, dated as the sheet says, marked with the batch;
// importing it again appends nothing.
func TestImportSample(t *testing.T) {
	f := newFixture(t)
	data := readFile(t, samplePath)
	r, err := f.importBytes(data, "import-sample.csv", f.opts())
	if err != nil {
		t.Fatalf("%v\n%s", err, r.String())
	}
	t.Logf("\n%s", r.String())
	if r.Rows != 10 || r.New != 10 || r.Encoding != "UTF-8 with BOM" || r.Events == 0 || r.Commands != r.Events {
		t.Errorf("report: %+v", r)
	}
	wantSteps := map[string][]string{
		"NH-2025-003": {"report", "negotiation", "signing", "registration", "start", "funds"},
		"XZ-2025-011": {"report", "negotiation", "signing", "funds"},
		"JS-2025-007": {"report", "negotiation", "signing", "registration"},
		"PH-2026-002": {"report", "negotiation"},
		"HY-2024-004": {"report", "negotiation", "signing", "registration", "start", "production", "funds"},
		"HN-2026-005": {"report"},
		"TX-2024-018": {"report", "negotiation", "signing", "registration", "termination"},
		"JX-2025-021": {"report", "negotiation", "signing", "funds"},
		"ZP-2025-009": {"report", "negotiation", "termination"},
		"NH-2026-008": {"report", "negotiation"},
	}
	for id, want := range wantSteps {
		if got := byExternalID(r, id); !slices.Equal(got.Steps, want) || got.ProjectID == "" {
			t.Errorf("%s: steps %v (project %q), want %v", id, got.Steps, got.ProjectID, want)
		}
	}

	nh := f.project(byExternalID(r, "NH-2025-003").ProjectID)
	if nh.Stage != domain.StageStarted || nh.Unit != "nanhu" || nh.PlannedInvestment != domain.Yuan(1_800_000_000) ||
		*nh.ContractInvestment != domain.Yuan(1_850_000_000) || len(nh.Funds) != 1 || nh.Funds[0].Amount != domain.Yuan(600_000_000) ||
		domain.DateOf(nh.SignedAt, testZone) != domain.MustDate("2025-05-20") || nh.Negotiations[0].LeaderLevel != domain.LeaderPrincipal {
		t.Errorf("NH-2025-003 recorded as %+v", nh)
	}
	jx := f.project(byExternalID(r, "JX-2025-021").ProjectID)
	if *jx.ContractInvestment != domain.Dollars(85_000_000) || jx.Funds[0].Source != domain.FundsForeign || jx.Signing.Agreement != domain.AgreementFramework {
		t.Errorf("JX-2025-021 recorded as %+v", jx)
	}
	tx := f.project(byExternalID(r, "TX-2024-018").ProjectID)
	if tx.Stage != domain.StageTerminated || tx.Termination.Kind != domain.TermBuiltNotInvested || tx.Termination.StageBefore != domain.StageRegistered {
		t.Errorf("TX-2024-018 recorded as %+v", tx)
	}

	// Every event is the importer's, in the batch, recorded now.
	evs, err := f.store.ReadAll(f.ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	imported := 0
	for _, e := range evs {
		if e.Type == domain.TypeUnitRegistered {
			continue
		}
		imported++
		if e.CorrelationID != r.Batch || e.Actor != DefaultActor {
			t.Fatalf("%s %s: correlation %q actor %+v", e.Type, e.Stream, e.CorrelationID, e.Actor)
		}
	}
	t.Logf("%d events appended (with claims and idempotency records)", imported)

	// The same file again: nothing to add.
	head := f.head()
	again, err := f.importBytes(data, "import-sample.csv", f.opts())
	if err != nil {
		t.Fatal(err)
	}
	if again.Unchanged != 10 || again.New+again.Updated != 0 || again.Events != 0 || len(again.Notices) != 0 {
		t.Errorf("second import: %s", again.String())
	}
	if f.head() != head {
		t.Error("the second import appended")
	}
}

// TestImportEncodings: the sample saved by Excel or WPS in other encodings
// imports the same.
func TestImportEncodings(t *testing.T) {
	data := readFile(t, samplePath)
	plain := bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes(plain)
	if err != nil {
		t.Fatal(err)
	}
	tabbed := bytes.ReplaceAll(plain, []byte(","), []byte("\t")) // the sample has no comma inside a cell
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(tabbed)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, encoding string
		data           []byte
	}{
		{"utf8.csv", "UTF-8", plain},
		{"gbk.csv", "GB18030", gb},
		{"unicode.txt", "UTF-16LE", utf16},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			r, err := f.importBytes(c.data, c.name, f.opts())
			if err != nil {
				t.Fatalf("%v\n%s", err, r.String())
			}
			if r.Encoding != c.encoding || r.New != 10 {
				t.Errorf("%s: encoding %q, %d new", c.name, r.Encoding, r.New)
			}
			if p := f.project(byExternalID(r, "HY-2024-004").ProjectID); p.Name != "核电装备精密部件项目" || p.Stage != domain.StageProducing {
				t.Errorf("%s: HY-2024-004 recorded as %q %s", c.name, p.Name, p.Stage)
			}
		})
	}
	if _, _, err := decodeText([]byte{0x81, 0x30, 0xFF, 0xFF, 0x80}); err == nil {
		t.Error("undecodable bytes accepted")
	}
}

// TestImportBadRows: a sheet with bad rows is rejected as a whole, with a
// report naming each row, column and reason in both languages.
func TestImportBadRows(t *testing.T) {
	f := newFixture(t)
	head := f.head()
	r, err := f.importBytes(readFile(t, "testdata/bad-rows.csv"), "bad-rows.csv", f.opts())
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("import: %v, want ErrRejected", err)
	}
	t.Logf("\n%s", r.String())
	if f.head() != head {
		t.Fatal("a rejected file appended events")
	}
	type at struct {
		row int
		col string
	}
	want := []at{
		{3, colUnit}, {4, colSignedOn}, {5, colPlanned}, {6, colUSCC}, {7, colStartedOn},
		{8, colTerminationCause}, {8, colTerminationNote}, {9, colExternalID}, {10, colStage},
		{11, colCompanyUSCC}, {12, colReportedOn}, {13, colFunds}, {14, colTerminationKind},
	}
	var got []at
	for _, e := range r.Errors {
		if e.Zh == "" || e.En == "" {
			t.Errorf("row %d %s: missing a language: %+v", e.Row, e.Column, e)
		}
		key := ""
		for _, c := range columns {
			if c.Label() == e.Column {
				key = c.Key
			}
		}
		got = append(got, at{e.Row, key})
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors at %v\nwant %v", got, want)
	}
	if r.Rows != 13 {
		t.Errorf("%d data rows, want 13 (the total line is not one)", r.Rows)
	}
	if !strings.Contains(r.String(), "第6行 row 6 · 统一社会信用代码 (investor_uscc)") {
		t.Errorf("report does not name row and column:\n%s", r.String())
	}
}

// TestImportNewerLedger: a later version of the ledger records only what
// is new; where it disagrees with the ledger, the ledger is kept and the
// report says so.
func TestImportNewerLedger(t *testing.T) {
	f := newFixture(t)
	data := readFile(t, samplePath)
	first, err := f.importBytes(data, "2026-10.csv", f.opts())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\r\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "XZ-2025-011,"):
			// Construction started, funds up from 5000 to 15000 万.
			l = strings.Replace(l, ",签约,", ",开工,", 1)
			cells := strings.Split(l, ",")
			cells[22], cells[25], cells[26] = "2026-04-20", "15000", "2026-09-30"
			lines[i] = strings.Join(cells, ",")
		case strings.HasPrefix(l, "JS-2025-007,"):
			lines[i] = strings.Replace(l, ",650000,人民币,", ",660000,人民币,", 1) // a new planned figure
		}
	}
	newer := []byte(strings.Join(lines, "\r\n"))
	r, err := f.importBytes(newer, "2026-11.csv", f.opts())
	if err != nil {
		t.Fatalf("%v\n%s", err, r.String())
	}
	t.Logf("\n%s", r.String())
	if r.New != 0 || r.Updated != 1 || r.Unchanged != 9 || r.Events != 2 {
		t.Errorf("newer ledger: %d new, %d updated, %d unchanged, %d events", r.New, r.Updated, r.Unchanged, r.Events)
	}
	xz := byExternalID(r, "XZ-2025-011")
	if !slices.Equal(xz.Steps, []string{"start", "funds"}) || xz.ProjectID != byExternalID(first, "XZ-2025-011").ProjectID {
		t.Errorf("XZ-2025-011: %+v", xz)
	}
	p := f.project(xz.ProjectID)
	if p.Stage != domain.StageStarted || len(p.Funds) != 2 || p.Funds[1].Amount != domain.Yuan(100_000_000) {
		t.Errorf("XZ-2025-011 recorded as %s with funds %+v", p.Stage, p.Funds)
	}
	if len(r.Notices) != 1 || r.Notices[0].Column != columnByKey[colPlanned].Label() {
		t.Errorf("notices: %+v", r.Notices)
	}
}

// TestImportExclusivity: 首报首谈 applies to imports — against the ledger
// and between the rows of the file — with the domain's identity of an
// investor: the code when both sides give one, else the normalised name.
func TestImportExclusivity(t *testing.T) {
	f := newFixture(t)
	inv := domain.Investor{Name: "浙江禾丰新能源股份有限公司", USCC: "91330482MA2JH4R892"}
	if _, err := f.app.ReportProject.Handle(f.ctx, commands.ReportProject{Name: "储能电站项目", Unit: "haining", Investor: inv,
		IndustryChain: "光伏新能源", PlannedInvestment: domain.Yuan(2_000_000_000), OccurredAt: testNow.Add(-72 * time.Hour),
		Meta: commands.Meta{Actor: eventstore.Actor{Subject: "hn", Role: "unit_staff", Unit: "haining"}}}); err != nil {
		t.Fatal(err)
	}
	sheet := "项目编号,项目名称,投资方,统一社会信用代码,产业链,计划投资(万元),所属单位,当前阶段,入库日期\n" +
		// 2: the holder's name, no code: the name decides — a conflict.
		"A-1,储能电站项目,浙江禾丰新能源股份有限公司,,光伏新能源,200000,南湖区,入库,2026-11-19\n" +
		// 3: the holder's code under another spelling: the code decides — a conflict.
		"A-2,储能电站二期项目,禾丰新能源（浙江）股份公司,91330482MA2JH4R892,光伏新能源,50000,秀洲区,入库,2026-11-19\n" +
		// 4: the holder's name with another valid code: another company — accepted.
		"A-3,光伏支架项目,浙江禾丰新能源股份有限公司,91330402MA2JK6T51X,光伏新能源,30000,平湖市,入库,2026-11-19\n" +
		// 5, 6: two rows of the file: the first claims, the second conflicts.
		"A-4,氢能重卡项目,浙江远驰氢能科技有限公司,,氢能,150000,秀洲区,入库,2026-11-10\n" +
		"A-5,氢能重卡基地项目,浙江远驰氢能科技有限公司,,氢能,150000,嘉善县,入库,2026-11-18\n"
	head := f.head()
	r, err := f.importBytes([]byte(sheet), "conflict.csv", f.opts())
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("import: %v\n%s", err, r.String())
	}
	t.Logf("\n%s", r.String())
	var rows []int
	for _, e := range r.Errors {
		rows = append(rows, e.Row)
		if e.Column != columnByKey[colInvestor].Label() {
			t.Errorf("row %d: error on %s", e.Row, e.Column)
		}
	}
	if !slices.Equal(rows, []int{2, 3, 6}) || !strings.Contains(r.Errors[0].Zh, "海宁市") || !strings.Contains(r.Errors[2].En, "row 5 of this file") {
		t.Errorf("errors: %+v", r.Errors)
	}
	if f.head() != head {
		t.Error("a rejected file appended events")
	}
	// Without the conflicting rows, the commands accept what the check
	// accepted: another company under the holder's name, and a new claim.
	lines := strings.Split(sheet, "\n")
	ok := strings.Join([]string{lines[0], lines[3], lines[4]}, "\n")
	if r, err := f.importBytes([]byte(ok), "ok.csv", f.opts()); err != nil || r.New != 2 {
		t.Errorf("the accepted rows: %v\n%s", err, r.String())
	}
}

func TestLinkedRows(t *testing.T) {
	plans := []*rowPlan{
		{keys: []string{"name:a", "uscc:1"}}, {keys: []string{"name:b"}}, {keys: []string{"name:c", "uscc:1"}},
		{keys: []string{"name:b", "uscc:2"}}, {keys: []string{"name:d"}}, {keys: []string{"name:c"}},
	}
	got := linked(plans)
	want := [][]int{{0, 2, 5}, {1, 3}, {4}}
	if !slices.EqualFunc(got, want, slices.Equal[[]int]) {
		t.Errorf("linked = %v, want %v", got, want)
	}
}

// TestImportUnitStaff: a unit's clerk imports the unit's own rows only.
func TestImportUnitStaff(t *testing.T) {
	f := newFixture(t)
	o := f.opts()
	o.Actor = eventstore.Actor{Subject: "nanhu.wangfang", Role: string(domain.RoleUnitStaff), Unit: "nanhu"}
	r, err := f.importBytes(readFile(t, samplePath), "sample.csv", o)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("import: %v", err)
	}
	if len(r.Errors) != 8 { // the sample has two rows of nanhu
		t.Errorf("%d errors, want 8:\n%s", len(r.Errors), r.String())
	}
	// Staff of a unit that is not registered: one error for the file.
	o.Actor = eventstore.Actor{Subject: "x", Role: string(domain.RoleUnitStaff), Unit: "nosuchunit"}
	r, err = f.importBytes(readFile(t, samplePath), "sample.csv", o)
	if !errors.Is(err, ErrRejected) || len(r.Errors) != 1 || r.Errors[0].Row != 0 || !strings.Contains(r.Errors[0].En, "nosuchunit") {
		t.Errorf("staff of an unknown unit: %v\n%s", err, r.String())
	}
	o.Actor = eventstore.Actor{Subject: "someone", Role: string(domain.RoleLeader)}
	if _, err := f.importBytes(readFile(t, samplePath), "sample.csv", o); err == nil || errors.Is(err, ErrRejected) {
		t.Errorf("a leader imported: %v", err)
	}
}

func TestImportDryRun(t *testing.T) {
	f := newFixture(t)
	head := f.head()
	o := f.opts()
	o.DryRun = true
	r, err := f.importBytes(readFile(t, samplePath), "sample.csv", o)
	if err != nil {
		t.Fatal(err)
	}
	if f.head() != head || r.New != 10 || r.Commands == 0 || r.Events != 0 {
		t.Errorf("dry run: %s", r.String())
	}
}

// TestImportWorkbook reads an .xlsx as districts keep them: a title row
// above the header, English headers for some columns, dates as Excel dates,
// amounts as numbers, an instructions sheet before the ledger.
func TestImportWorkbook(t *testing.T) {
	x := excelize.NewFile()
	x.SetSheetName("Sheet1", "说明")
	x.SetCellStr("说明", "A1", "本表为南湖区2025年项目台账")
	x.NewSheet("台账")
	x.SetCellStr("台账", "A1", "2025年南湖区招商引资项目台账")
	header := []string{"序号", "项目编号", "项目名称", "investor", "产业链", "计划投资（万元）", "unit", "stage", "入库日期", "签约日期", "合同投资(万元)"}
	rows := [][]any{
		{1, "W-1", "智能座舱电子项目", "上海驰远汽车电子有限公司", "新能源汽车", 35000.5, "nanhu", "签约", time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC), time.Date(2025, 7, 8, 0, 0, 0, 0, time.UTC), 36000},
		{2, "W-2", "工业软件研发中心项目", "杭州衡码软件有限公司", "软件信息", 12000, "nanhu", "在谈", "2025/9/1", nil, nil},
	}
	x.SetSheetRow("台账", "A3", &header)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+4)
		x.SetSheetRow("台账", cell, &r)
	}
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	r, err := f.importBytes(buf.Bytes(), "南湖区台账.xlsx", f.opts())
	if err != nil {
		t.Fatalf("%v\n%s", err, r.String())
	}
	if r.Format != "xlsx" || r.Sheet != "台账" || r.New != 2 || !slices.Equal(r.Ignored, []string{"序号"}) {
		t.Errorf("report: %s", r.String())
	}
	p := f.project(byExternalID(r, "W-1").ProjectID)
	if p.PlannedInvestment != domain.Yuan(350_005_000) || domain.DateOf(p.SignedAt, testZone) != domain.MustDate("2025-07-08") ||
		domain.DateOf(p.ReportedAt, testZone) != domain.MustDate("2025-02-03") {
		t.Errorf("W-1 recorded as planned %s, reported %s, signed %s", p.PlannedInvestment, p.ReportedAt, p.SignedAt)
	}
	// An old .xls is refused with advice.
	if r, err := f.importBytes([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0}, "old.xls", f.opts()); !errors.Is(err, ErrRejected) ||
		!strings.Contains(r.Errors[0].Zh, ".xlsx") {
		t.Errorf("an .xls: %v %+v", err, r.Errors)
	}
}

// TestTemplate: the template's header is the column table, its example row
// imports as it stands, and docs/import-template.xlsx is what WriteTemplate
// writes (go test ./internal/ledger -update rewrites it).
func TestTemplate(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTemplate(&buf); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(templatePath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gen := sheetRows(t, buf.Bytes())
	var want []string
	for _, c := range columns {
		want = append(want, c.Zh)
	}
	if !slices.Equal(gen[0], want) {
		t.Errorf("template header %v\nwant %v", gen[0], want)
	}
	shipped := sheetRows(t, readFile(t, templatePath))
	if !slices.EqualFunc(gen, shipped, slices.Equal[[]string]) {
		t.Errorf("docs/import-template.xlsx is out of date; run go test ./internal/ledger -run TestTemplate -update")
	}

	// Left in by a clerk, the example row imports nothing: it is marked.
	f := newFixture(t)
	r, err := f.importBytes(buf.Bytes(), "import-template.xlsx", f.opts())
	if r.Sheet != TemplateSheet || r.New != 0 || len(r.Notices) != 1 || !strings.Contains(r.Notices[0].Zh, "示例行") {
		t.Errorf("the template as it stands: %v\n%s", err, r.String())
	}
	// Unmarked, the example row is a project that imports as it stands.
	var header, example []string
	for _, c := range columns {
		header, example = append(header, c.Zh), append(example, c.Example)
		if c.Key == colNote {
			example[len(example)-1] = ""
		}
	}
	csv := strings.Join(header, ",") + "\r\n" + strings.Join(example, ",") + "\r\n"
	r, err = f.importBytes([]byte(csv), "example.csv", f.opts())
	if err != nil {
		t.Fatalf("%v\n%s", err, r.String())
	}
	if r.New != 1 || !slices.Equal(r.Projects[0].Steps, []string{"report", "negotiation", "signing", "registration", "start", "funds"}) {
		t.Errorf("template example: %s %+v", r.String(), r.Projects)
	}
}

func sheetRows(t *testing.T, data []byte) [][]string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(TemplateSheet)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestParseWan(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1", 10_000, true}, {"12,345.6789", 123_456_789, true}, {"０.５", 5_000, true}, {"1.2E+2", 1_200_000, true},
		{"0.00001", 0, false}, {"-3", 0, false}, {"1.2亿", 0, false}, {"", 0, false}, {"1e13", 0, false},
	} {
		got, err := parseWan(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseWan(%q) = %d, %v", c.in, got, err)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in     string
		serial bool
		want   string
	}{
		{"2025-03-12", false, "2025-03-12"}, {"2025/3/2", false, "2025-03-02"}, {"2025.3.2", false, "2025-03-02"},
		{"2025年3月2日", false, "2025-03-02"}, {"20250302", false, "2025-03-02"}, {"2025-03-02 00:00:00", false, "2025-03-02"},
		{"２０２５-０３-０２", false, "2025-03-02"}, {"45718", true, "2025-03-02"}, {"45718.5", true, "2025-03-02"},
		{"45718", false, ""}, {"2025-02-30", false, ""}, {"3/2/2025", false, ""},
	} {
		d, ok := parseDate(c.in, c.serial, false)
		if got := d.String(); ok != (c.want != "") || got != c.want {
			t.Errorf("parseDate(%q, %v) = %q, %v; want %q", c.in, c.serial, got, ok, c.want)
		}
	}
}

func TestHeaderNames(t *testing.T) {
	for in, want := range map[string]string{
		"计划投资（万元）": colPlanned, "计划投资(万元)": colPlanned, " 计划投资 ": colPlanned, "*项目名称": colName,
		"planned_investment": colPlanned, "SIGNED_ON": colSignedOn, "注册（备案）日期": colRegisteredOn,
	} {
		if c, ok := headerIndex[normHeader(in)]; !ok || c.Key != want {
			t.Errorf("header %q: %v", in, c)
		}
	}
}

// TestDocsListEveryColumn keeps docs/import.md and the column table in
// step: every header and alias the importer reads is documented.
func TestDocsListEveryColumn(t *testing.T) {
	doc := string(readFile(t, "../../docs/import.md"))
	for _, c := range columns {
		if !strings.Contains(doc, "| "+c.Zh+" |") && !strings.Contains(doc, "| **"+c.Zh+"** |") {
			t.Errorf("docs/import.md has no row for %s", c.Zh)
		}
		if !strings.Contains(doc, "`"+c.Key+"`") {
			t.Errorf("docs/import.md does not name the alias %s", c.Key)
		}
		if c.Required != strings.Contains(doc, "| **"+c.Zh+"** |") {
			t.Errorf("docs/import.md marks %s required: %v, the table says %v", c.Zh, !c.Required, c.Required)
		}
	}
}

// TestSampleImportsIntoDemo: docs/import-sample.csv imports cleanly into the
// ledger `zhaoshang demo` builds, as docs/import.md promises.
func TestSampleImportsIntoDemo(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := demo.Load(ctx, st, demo.Options{Seed: 1, Now: testNow, Years: 1, Location: testZone}); err != nil {
		t.Fatal(err)
	}
	r, err := Import(ctx, st, bytes.NewReader(readFile(t, samplePath)), "import-sample.csv",
		Options{Clock: func() time.Time { return testNow }, Location: testZone})
	if err != nil || r.New != 10 {
		t.Fatalf("%v\n%s", err, r.String())
	}
}

// TestImportEntryAfterTheFacts: 入库日期 dates the project's entry in the
// ledger, which often follows its first meeting or even its signing
// (docs/import.md); such rows import with their dates as written.
func TestImportEntryAfterTheFacts(t *testing.T) {
	f := newFixture(t)
	lines := strings.Split(string(readFile(t, samplePath)), "\r\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "NH-2025-003,"): // talks on 01-20, entered 02-10
			lines[i] = strings.Replace(l, ",2025-02-10,2025-02-18,", ",2025-02-10,2025-01-20,", 1)
		case strings.HasPrefix(l, "XZ-2025-011,"): // signed 11-06, entered 12-01, no talks recorded
			lines[i] = strings.Replace(l, ",2025-08-05,2025-08-12,分管领导,", ",2025-12-01,,,", 1)
		}
	}
	r, err := f.importBytes([]byte(strings.Join(lines, "\r\n")), "entered-late.csv", f.opts())
	if err != nil {
		t.Fatalf("%v\n%s", err, r.String())
	}
	nh := f.project(byExternalID(r, "NH-2025-003").ProjectID)
	if len(nh.Negotiations) == 0 || !nh.Negotiations[0].OccurredAt.Before(nh.ReportedAt) {
		t.Errorf("NH-2025-003: negotiations %+v, reported %s; want the talks before the entry", nh.Negotiations, nh.ReportedAt)
	}
	xz := f.project(byExternalID(r, "XZ-2025-011").ProjectID)
	if xz.Stage != domain.StageSigned || !xz.SignedAt.Before(xz.ReportedAt) {
		t.Errorf("XZ-2025-011: %s signed %s, reported %s; want signed before the entry", xz.Stage, xz.SignedAt, xz.ReportedAt)
	}
}

// TestImportRefusesAProjectAlreadyInTheLedger: a row this subject never
// imported, naming a project its unit already holds (same name and
// investor), is refused; the same name with another investor is another
// project and imports.
func TestImportRefusesAProjectAlreadyInTheLedger(t *testing.T) {
	const name, investor = "年产5万吨高端聚烯烃项目", "浙江恒越新材料股份有限公司"
	for _, tc := range []struct {
		held   string // the investor of the project the ledger holds
		errors int
	}{{investor, 1}, {"另一家投资方有限公司", 0}} {
		f := newFixture(t)
		o := f.opts()
		o.DryRun = true
		o.Existing = func(u domain.UnitCode, n, inv string) (string, bool) {
			return "held-project", u == "nanhu" && domain.NormaliseName(n) == domain.NormaliseName(name) &&
				domain.NormaliseName(inv) == domain.NormaliseName(tc.held)
		}
		r, err := f.importBytes(readFile(t, samplePath), "sample.csv", o)
		if len(r.Errors) != tc.errors || (tc.errors > 0) != errors.Is(err, ErrRejected) {
			t.Errorf("ledger holding %s by %s: %d errors (%v), want %d\n%s", name, tc.held, len(r.Errors), err, tc.errors, r.String())
		}
		if tc.errors > 0 && !strings.Contains(r.Errors[0].Zh, "held-project") {
			t.Errorf("the error does not name the project held: %+v", r.Errors[0])
		}
	}
}
