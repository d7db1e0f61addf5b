package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"
)

// Format is a read's answer format (format query parameter).
type Format string

const (
	FormatJSON Format = "json"
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// Media types of the export formats.
const (
	MediaTypeCSV  = "text/csv; charset=utf-8"
	MediaTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// ParseFormat reads format: json (the default), csv or xlsx; anything else is
// 422 naming format.
func ParseFormat(c echo.Context) (Format, error) {
	v := &Validator{}
	s, ok := single(c, "format", v)
	if !ok {
		return FormatJSON, v.Err()
	}
	switch f := Format(s); f {
	case FormatJSON, FormatCSV, FormatXLSX:
		return f, nil
	}
	return "", Invalid("format", "unknown", "must be json, csv or xlsx")
}

// ColumnKind says how a column's values are written.
type ColumnKind int

const (
	// KindText: strings (or anything, printed with fmt).
	KindText ColumnKind = iota
	// KindInt: whole numbers (counts, ranks).
	KindInt
	// KindNumber: decimals (scores, points).
	KindNumber
	// KindMoneyWan: whole yuan (int64) written in 万元, exactly (up to four
	// decimals); the header carries the unit, e.g. 签约投资(万元).
	KindMoneyWan
	// KindRatio: a fraction (0.85) written as a number; spreadsheets show
	// it as a percentage.
	KindRatio
	// KindDate: a calendar date (time.Time, read in its own location, or a
	// "YYYY-MM-DD" string).
	KindDate
)

// Column is one column of an export.
type Column struct {
	// Header is the column's title, in Chinese for the people who open
	// the file (签约投资, 单位).
	Header string
	Kind   ColumnKind
	// Unit is appended to the header in parentheses; KindMoneyWan defaults
	// to 万元. Use e.g. 万美元 for a dollar column.
	Unit string
}

// Title is the header as written: Header(Unit).
func (col Column) Title() string {
	unit := col.Unit
	if unit == "" && col.Kind == KindMoneyWan {
		unit = "万元"
	}
	if unit == "" || strings.HasSuffix(col.Header, "("+unit+")") {
		return col.Header
	}
	return col.Header + "(" + unit + ")"
}

// Table is what a list, ranking or assessment read exports: one sheet, a
// header row, rows of values in column order. A nil value is an empty cell.
type Table struct {
	Sheet   string
	Columns []Column
	Rows    [][]any
}

func (t Table) check() error {
	for i, r := range t.Rows {
		if len(r) != len(t.Columns) {
			return fmt.Errorf("api: export row %d has %d values for %d columns", i, len(r), len(t.Columns))
		}
	}
	return nil
}

// utf8BOM makes Excel (which otherwise guesses the ANSI code page, GBK on a
// Chinese Windows) read the CSV as UTF-8.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// WriteCSV writes t as CSV: a UTF-8 byte order mark, CRLF line ends (what
// Excel writes), the header row, then the rows. Text cells that a
// spreadsheet would run as a formula (=, +, -, @, tab, CR first) are
// prefixed with an apostrophe (CSV injection).
func WriteCSV(w io.Writer, t Table) error {
	if err := t.check(); err != nil {
		return err
	}
	if _, err := w.Write(utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	rec := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		rec[i] = col.Title()
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for ri, row := range t.Rows {
		for i, col := range t.Columns {
			s, err := csvCell(col, row[i])
			if err != nil {
				return fmt.Errorf("api: export row %d column %q: %w", ri, col.Header, err)
			}
			rec[i] = s
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(col Column, v any) (string, error) {
	if isNil(v) {
		return "", nil
	}
	switch col.Kind {
	case KindInt:
		n, err := toInt(v)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(n, 10), nil
	case KindNumber, KindRatio:
		f, err := toFloat(v)
		if err != nil {
			return "", err
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case KindMoneyWan:
		n, err := toInt(v)
		if err != nil {
			return "", err
		}
		return wanString(n), nil
	case KindDate:
		d, err := toDate(v)
		if err != nil {
			return "", err
		}
		return d.Format(time.DateOnly), nil
	}
	s := fmt.Sprint(v)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		s = "'" + s
	}
	return s, nil
}

// wanString writes yuan as 万元 exactly: 1500000000 → "150000",
// 12345 → "1.2345", -5000 → "-0.5".
func wanString(yuan int64) string {
	neg := yuan < 0
	u := uint64(yuan)
	if neg {
		u = -u
	}
	whole, frac := u/10000, u%10000
	s := strconv.FormatUint(whole, 10)
	if frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%04d", frac), "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// wanFloat is the 万元 value as a spreadsheet number. Spreadsheets hold
// doubles; the decimal string round-trips to the nearest double, which is
// what a person typing the figure would get.
func wanFloat(yuan int64) float64 {
	f, _ := strconv.ParseFloat(wanString(yuan), 64)
	return f
}

// WriteXLSX writes t as an Excel workbook with one sheet: a bold, frozen
// header row and real numeric and date cells (so sums and sorting work), the
// amounts in 万元 with two decimals shown and every digit kept.
func WriteXLSX(w io.Writer, t Table) error {
	if err := t.check(); err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := sheetName(t.Sheet)
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	header, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Alignment: &excelize.Alignment{Vertical: "center"},
		Border:    []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}},
	})
	if err != nil {
		return err
	}
	numFmt := func(code string) (int, error) { return f.NewStyle(&excelize.Style{CustomNumFmt: &code}) }
	styles := map[ColumnKind]int{}
	for kind, code := range map[ColumnKind]string{
		KindMoneyWan: "#,##0.00",
		KindRatio:    "0.00%",
		KindDate:     "yyyy-mm-dd",
		// KindNumber stays General: a format such as 0.## would show
		// a whole score as "60." in Excel.
	} {
		id, err := numFmt(code)
		if err != nil {
			return err
		}
		styles[kind] = id
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}
	for i, col := range t.Columns {
		if err := sw.SetColWidth(i+1, i+1, columnWidth(col, t.Rows, i)); err != nil {
			return err
		}
	}
	cells := make([]any, len(t.Columns))
	for i, col := range t.Columns {
		cells[i] = excelize.Cell{StyleID: header, Value: col.Title()}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	for ri, row := range t.Rows {
		for i, col := range t.Columns {
			cell, err := xlsxCell(col, row[i], styles)
			if err != nil {
				return fmt.Errorf("api: export row %d column %q: %w", ri, col.Header, err)
			}
			cells[i] = cell
		}
		ref, err := excelize.CoordinatesToCellName(1, ri+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(ref, cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

func xlsxCell(col Column, v any, styles map[ColumnKind]int) (any, error) {
	if isNil(v) {
		return nil, nil
	}
	switch col.Kind {
	case KindInt:
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		return excelize.Cell{Value: n}, nil
	case KindNumber, KindRatio:
		f, err := toFloat(v)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nil
		}
		return excelize.Cell{StyleID: styles[col.Kind], Value: f}, nil
	case KindMoneyWan:
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		return excelize.Cell{StyleID: styles[KindMoneyWan], Value: wanFloat(n)}, nil
	case KindDate:
		d, err := toDate(v)
		if err != nil {
			return nil, err
		}
		// A date cell is a serial day number; write the calendar date as
		// UTC midnight so no zone shifts it to the day before.
		y, m, dd := d.Date()
		return excelize.Cell{StyleID: styles[KindDate], Value: time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)}, nil
	}
	return excelize.Cell{Value: fmt.Sprint(v)}, nil
}

// columnWidth sizes a column to its longest value, counting a Chinese
// character as two (they are drawn about twice as wide).
func columnWidth(col Column, rows [][]any, i int) float64 {
	width := func(s string) int {
		n := 0
		for _, r := range s {
			if r > 0x2E7F {
				n += 2
			} else {
				n++
			}
		}
		return n
	}
	w := width(col.Title())
	for j, row := range rows {
		if j >= 200 { // a sample is enough to size a column
			break
		}
		s, err := csvCell(col, row[i])
		if err == nil && width(s) > w {
			w = width(s)
		}
	}
	return math.Min(math.Max(float64(w)+2, 8), 60)
}

// sheetName makes a valid sheet name: at most 31 characters, none of : \ / ? * [ ].
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(s))
	s = strings.Trim(s, "'")
	if utf8.RuneCountInString(s) > 31 {
		s = string([]rune(s)[:31])
	}
	if s == "" {
		return "Sheet1"
	}
	return s
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch p := v.(type) {
	case *int64:
		return p == nil
	case *float64:
		return p == nil
	case *string:
		return p == nil
	case *time.Time:
		return p == nil
	case *int:
		return p == nil
	}
	return false
}

func toInt(v any) (int64, error) {
	switch n := v.(type) {
	case int:
		return int64(n), nil
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case *int64:
		return *n, nil
	case *int:
		return int64(*n), nil
	case uint:
		return uintToInt(uint64(n))
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	case uint64:
		return uintToInt(n)
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, fmt.Errorf("%v is not a whole number", n)
		}
		return int64(n), nil
	}
	return 0, fmt.Errorf("%T is not an integer", v)
}

func uintToInt(n uint64) (int64, error) {
	if n > math.MaxInt64 {
		return 0, fmt.Errorf("%d is out of range", n)
	}
	return int64(n), nil
}

func toFloat(v any) (float64, error) {
	switch n := v.(type) {
	case float64:
		return n, nil
	case float32:
		return float64(n), nil
	case *float64:
		return *n, nil
	case *big.Rat:
		f, _ := n.Float64()
		return f, nil
	}
	i, err := toInt(v)
	if err != nil {
		return 0, fmt.Errorf("%T is not a number", v)
	}
	return float64(i), nil
}

func toDate(v any) (time.Time, error) {
	switch d := v.(type) {
	case time.Time:
		return d, nil
	case *time.Time:
		return *d, nil
	case string:
		return time.Parse(time.DateOnly, d)
	case fmt.Stringer:
		return time.Parse(time.DateOnly, d.String())
	}
	return time.Time{}, fmt.Errorf("%T is not a date", v)
}

// ExportName names a download: Name in Chinese (签约项目-2024) and an ASCII
// Fallback (signed-projects-2024) for clients that do not read RFC 5987; the
// extension is added per format.
type ExportName struct {
	Name     string
	Fallback string
}

// ContentDisposition makes "attachment; filename=...; filename*=UTF-8”..."
// (RFC 6266 with RFC 5987 encoding) for name with extension ext.
func ContentDisposition(n ExportName, ext string) string {
	fallback := asciiFilename(n.Fallback)
	if fallback == "" {
		fallback = asciiFilename(n.Name)
	}
	if fallback == "" {
		fallback = "export"
	}
	name := strings.TrimSpace(n.Name)
	if name == "" {
		name = fallback
	}
	return fmt.Sprintf(`attachment; filename="%s.%s"; filename*=UTF-8''%s`, fallback, ext, rfc5987(name+"."+ext))
}

// asciiFilename keeps letters, digits, '-', '_' and '.', turning anything
// else into '_' and dropping leading dots.
func asciiFilename(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if strings.Trim(out, "_") == "" {
		return ""
	}
	return out
}

// rfc5987 percent-encodes every byte of s (UTF-8) but attr-char (RFC 5987
// 3.2.1).
func rfc5987(s string) string {
	const attr = "!#$&+-.^_`|~"
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attr, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// RespondExport writes t as a CSV or XLSX download named n. The body is built
// in memory first, so a failure is still a clean problem answer and the
// Content-Length is known.
func RespondExport(c echo.Context, f Format, n ExportName, t Table) error {
	var buf bytes.Buffer
	var media string
	switch f {
	case FormatCSV:
		if err := WriteCSV(&buf, t); err != nil {
			return err
		}
		media = MediaTypeCSV
	case FormatXLSX:
		if err := WriteXLSX(&buf, t); err != nil {
			return err
		}
		media = MediaTypeXLSX
	default:
		return fmt.Errorf("api: RespondExport: format %q is not an export", f)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, ContentDisposition(n, string(f)))
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, media, buf.Bytes())
}
