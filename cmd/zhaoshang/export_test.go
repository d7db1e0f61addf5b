package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var exportWrote = regexp.MustCompile(`^wrote (.+) \((\d+) bytes\) at position (\S+)\n$`)

// TestExport: the signed list of the demo as CSV (UTF-8 with a BOM, so
// Excel shows the Chinese) and as xlsx, the same rows in both.
func TestExport(t *testing.T) {
	data := demoData(t)
	out := t.TempDir()
	pos := head(t, data).String()

	csvPath := filepath.Join(out, "signed.csv")
	r := mustZS(t, "export", "--data", data, "--format", "csv", "--out", csvPath, "lists/signed")
	if m := exportWrote.FindStringSubmatch(r.out); m == nil || m[1] != csvPath || m[3] != pos {
		t.Errorf("export says %q, want the file and position %s", r.out, pos)
	}
	raw, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	body, ok := bytes.CutPrefix(raw, []byte("\xef\xbb\xbf"))
	if !ok {
		t.Fatalf("the CSV does not start with a UTF-8 BOM: % x", raw[:min(len(raw), 8)])
	}
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) < 2 {
		t.Fatalf("the signed list has no rows: %q", body)
	}
	header := records[0]
	name, stage := slices.Index(header, "项目名称"), slices.Index(header, "阶段")
	if name < 0 || stage < 0 {
		t.Fatalf("the CSV header is not the Chinese one: %q", header)
	}
	var csvNames []string
	for _, rec := range records[1:] {
		if rec[stage] != "签约" {
			t.Errorf("a %q project on the signed list: %q", rec[stage], rec)
		}
		csvNames = append(csvNames, rec[name])
	}
	if !slices.ContainsFunc(csvNames, func(s string) bool { return strings.HasSuffix(s, "项目") }) {
		t.Errorf("no Chinese project names in the CSV: %q", csvNames)
	}

	xlsxPath := filepath.Join(out, "签约项目.xlsx")
	mustZS(t, "export", "--data", data, "--format", "xlsx", "--out", xlsxPath, "lists/signed")
	f, err := excelize.OpenFile(xlsxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	hi := slices.IndexFunc(rows, func(row []string) bool { return slices.Contains(row, "项目名称") })
	if hi < 0 {
		t.Fatalf("no Chinese header in the workbook: %q", rows[:min(len(rows), 3)])
	}
	xname := slices.Index(rows[hi], "项目名称")
	var xlsxNames []string
	for _, row := range rows[hi+1:] {
		if xname < len(row) && row[xname] != "" {
			xlsxNames = append(xlsxNames, row[xname])
		}
	}
	if !slices.Equal(xlsxNames, csvNames) {
		t.Errorf("the workbook's projects differ from the CSV's:\nxlsx %q\ncsv  %q", xlsxNames, csvNames)
	}
}

// TestExportSuggestedName: without --out the file takes the name the API
// suggests, in the current directory.
func TestExportSuggestedName(t *testing.T) {
	data := demoData(t)
	t.Chdir(t.TempDir())
	r := mustZS(t, "export", "--data", data, "rankings?period=2025&kind=county")
	m := exportWrote.FindStringSubmatch(r.out)
	if m == nil || strings.ContainsAny(m[1], `/\`) || !strings.HasSuffix(m[1], ".xlsx") {
		t.Fatalf("export without --out: %q", r.out)
	}
	if _, err := os.Stat(m[1]); err != nil {
		t.Fatal(err)
	}
}

// TestExportBadRead: a read that is no export is refused — a usage error
// when it can be told from the command line, else the API's answer.
func TestExportBadRead(t *testing.T) {
	data := demoData(t)
	out := filepath.Join(t.TempDir(), "x.csv")
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"/"}, 2, "want an API read"},
		{[]string{"lists/signed", "lists/started"}, 2, "exactly one READ"},
		{[]string{}, 2, "exactly one READ"},
		{[]string{"--format", "pdf", "lists/signed"}, 2, `--format "pdf"`},
		{[]string{"lists/signed?format=xlsx"}, 2, "--format is csv"},
		{[]string{"no/such/read"}, 2, "no such route"}, // the READ is the operator's mistake
		{[]string{"rankings?period=someday&kind=county"}, 2, "period must be"},
	} {
		args := append([]string{"export", "--data", data, "--format", "csv", "--out", out}, c.args...)
		r := zs(t, args...)
		if r.code != c.code || !strings.Contains(r.errOut, c.says) {
			t.Errorf("%v: want exit %d saying %q; %s", c.args, c.code, c.says, r)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("%v wrote the file", c.args)
		}
	}
}

// TestMissingStore: the commands that read a log refuse a data directory
// without one rather than create an empty log and report on it.
func TestMissingStore(t *testing.T) {
	for _, args := range [][]string{
		{"export", "--format", "csv", "--out", filepath.Join(t.TempDir(), "x.csv"), "lists/signed"},
		{"rebuild"},
		{"verify"},
		{"seal"},
	} {
		data := filepath.Join(t.TempDir(), "typo")
		r := zs(t, append([]string{args[0], "--data", data}, args[1:]...)...)
		if r.code != 1 || !strings.Contains(r.errOut, "no event store at "+storePath(data)) {
			t.Errorf("%s on a missing store: %s", args[0], r)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%s created %s", args[0], data)
		}
	}
}
