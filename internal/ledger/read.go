package ledger

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// MaxFileSize bounds what Import reads: a district's ledger is a few
// hundred rows, far below it.
const MaxFileSize = 32 << 20

// table is a sheet as read: its rows of cells and where they came from.
type table struct {
	format   string // "xlsx" or "csv"
	encoding string // csv: UTF-8, UTF-8 with BOM, UTF-16LE, UTF-16BE, GB18030
	sheet    string // xlsx: the sheet read
	rows     [][]string
	lines    []int // the sheet row (csv: line) of rows[i], 1-based
	// xlsx dates are serial numbers (days since 1900, or 1904).
	serialDates, date1904 bool
}

// fileError is a problem with the file as a whole, in both languages.
type fileError struct{ zh, en string }

func (e *fileError) Error() string { return e.en }

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// readTable reads a .xlsx workbook or a delimited text file (csv, tsv),
// recognised by content first and by name second.
func readTable(data []byte, filename, sheet string) (*table, error) {
	ext := strings.ToLower(filepath.Ext(filename))
	switch {
	case bytes.HasPrefix(data, zipMagic):
		return readXLSX(data, sheet)
	case bytes.HasPrefix(data, oleMagic) || ext == ".xls":
		return nil, &fileError{"不支持旧版 Excel（.xls）格式，请在 Excel 中另存为 .xlsx 或 CSV（UTF-8）后导入",
			"the old Excel format (.xls) is not supported: save the sheet as .xlsx or CSV (UTF-8) and import that"}
	case ext == ".xlsx" || ext == ".xlsm":
		return nil, &fileError{"文件扩展名为 .xlsx，但内容不是 Excel 工作簿", "the file is named .xlsx but is not an Excel workbook"}
	}
	return readCSV(data)
}

func readXLSX(data []byte, want string) (*table, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, &fileError{"无法读取 Excel 工作簿：" + err.Error(), "cannot read the Excel workbook: " + err.Error()}
	}
	defer f.Close()
	t := &table{format: "xlsx", serialDates: true}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		t.date1904 = *props.Date1904
	}
	sheets := f.GetSheetList()
	if want != "" {
		found := false
		for _, s := range sheets {
			found = found || s == want
		}
		if !found {
			return nil, &fileError{"工作簿中没有名为“" + want + "”的工作表（有：" + strings.Join(sheets, "、") + "）",
				"the workbook has no sheet named " + want + " (it has: " + strings.Join(sheets, ", ") + ")"}
		}
		sheets = []string{want}
	}
	// The first visible sheet with a recognisable header is the ledger; a
	// workbook often carries instructions or pivot sheets beside it.
	var first *table
	for _, s := range sheets {
		if visible, err := f.GetSheetVisible(s); err == nil && !visible && want == "" {
			continue
		}
		rows, err := f.GetRows(s, excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, &fileError{"无法读取工作表“" + s + "”：" + err.Error(), "cannot read sheet " + s + ": " + err.Error()}
		}
		st := *t
		st.sheet, st.rows = s, rows
		st.lines = make([]int, len(rows))
		for i := range rows {
			st.lines[i] = i + 1
		}
		if first == nil {
			first = &st
		}
		if _, ok := findHeader(st.rows); ok {
			return &st, nil
		}
	}
	if first == nil {
		return nil, &fileError{"工作簿中没有可读的工作表", "the workbook has no readable sheet"}
	}
	return first, nil // findHeader reports the missing header
}

// decodeText turns the bytes of a text file into UTF-8, naming the encoding
// it found: UTF-8 with or without a byte-order mark, UTF-16 with one (what
// Excel writes as "Unicode text"), else GB18030 — the superset of GBK and
// GB2312 in which many district sheets are saved — when that decodes
// cleanly.
func decodeText(data []byte) (string, string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return string(data[3:]), "UTF-8 with BOM", nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		name := "UTF-16LE"
		if data[0] == 0xFE {
			name = "UTF-16BE"
		}
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		out, _, err := transform.Bytes(dec, data)
		if err != nil {
			return "", "", &fileError{"文件不是有效的 UTF-16 文本", "the file is not valid UTF-16 text"}
		}
		return string(out), name, nil
	case utf8.Valid(data):
		return string(data), "UTF-8", nil
	}
	out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), data)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", "", &fileError{"无法识别文件编码：既不是 UTF-8 也不是 GB18030（GBK）", "unknown text encoding: neither UTF-8 nor GB18030 (GBK)"}
	}
	return string(out), "GB18030", nil
}

func readCSV(data []byte) (*table, error) {
	text, enc, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = delimiter(text)
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	t := &table{format: "csv", encoding: enc}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, &fileError{"第" + itoa(line) + "行无法解析：" + err.Error(), "line " + itoa(line) + " cannot be parsed: " + err.Error()}
		}
		line, _ := r.FieldPos(0)
		t.rows = append(t.rows, rec)
		t.lines = append(t.lines, line)
	}
	return t, nil
}

// delimiter guesses the separator from the first non-empty line: comma,
// tab or semicolon, whichever occurs most (Excel writes semicolons in some
// locales and tabs as "Unicode text").
func delimiter(text string) rune {
	line := text
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "" {
			line = l
			break
		}
	}
	best, n := ',', strings.Count(line, ",")
	for _, c := range []rune{'\t', ';'} {
		if k := strings.Count(line, string(c)); k > n {
			best, n = c, k
		}
	}
	return best
}

// findHeader finds the header row among the first rows: a sheet often
// starts with a title ("2025年南湖区招商引资项目台账") above it. The header
// is the first row naming at least three known columns.
func findHeader(rows [][]string) (int, bool) {
	for i := 0; i < len(rows) && i < 20; i++ {
		n := 0
		for _, cell := range rows[i] {
			if _, ok := headerIndex[normHeader(cell)]; ok {
				n++
			}
		}
		if n >= 3 {
			return i, true
		}
	}
	return 0, false
}
