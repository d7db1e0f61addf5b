package ledger

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/zhaoshang/zhaoshang/domain"
)

// Template sheet names.
const (
	TemplateSheet     = "项目台账"
	TemplateHelpSheet = "填写说明"
)

// templateRows is how many rows the template prepares (drop-down lists,
// formats) below its header.
const templateRows = 2000

// WriteTemplate writes the import template (docs/import-template.xlsx): the
// 项目台账 sheet with the header, one example row, a drop-down list on
// every column with a vocabulary, dates formatted as dates and the code
// columns as text (so Excel never turns an 18-digit code into 9.1E+17),
// and the 填写说明 sheet describing every column.
func WriteTemplate(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", TemplateSheet); err != nil {
		return err
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: "招商引资项目台账导入模板", Subject: "zhaoshang ledger import",
		Creator: "zhaoshang", Created: "2025-01-01T00:00:00Z", Modified: "2025-01-01T00:00:00Z", Language: "zh-CN"}); err != nil {
		return err
	}
	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Border: []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}}})
	if err != nil {
		return err
	}
	required, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "C00000"}, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FCE4D6"}},
		Border: []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}}})
	if err != nil {
		return err
	}
	dateFmt := "yyyy-mm-dd"
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@"
	if err != nil {
		return err
	}
	amountFmt := "#,##0.####"
	amount, err := f.NewStyle(&excelize.Style{CustomNumFmt: &amountFmt})
	if err != nil {
		return err
	}

	for i, c := range columns {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		cell := col + "1"
		if err := f.SetCellStr(TemplateSheet, cell, c.Zh); err != nil {
			return err
		}
		st := header
		if c.Required {
			st = required
		}
		if err := f.SetCellStyle(TemplateSheet, cell, cell, st); err != nil {
			return err
		}
		width := float64(max(utf8.RuneCountInString(c.Zh)*2+2, 12))
		if c.kind == kindText && c.Key != colExternalID {
			width = max(width, 24)
		}
		if err := f.SetColWidth(TemplateSheet, col, col, width); err != nil {
			return err
		}
		// Column styles reach every row a clerk types into without
		// materialising the cells; the header keeps its own style.
		body := col + "2:" + col + strconv.Itoa(templateRows+1)
		colStyle := -1
		switch c.kind {
		case kindDate:
			colStyle = date
		case kindAmount:
			colStyle = amount
		case kindUSCC:
			colStyle = text
		case kindText:
			if c.Key == colExternalID || c.Key == colPermitNo {
				colStyle = text
			}
		}
		if colStyle >= 0 {
			if err := f.SetColStyle(TemplateSheet, col, colStyle); err != nil {
				return err
			}
			if err := f.SetCellStyle(TemplateSheet, cell, cell, st); err != nil {
				return err
			}
		}
		if len(c.Values) > 0 && c.kind == kindChoice {
			dv := excelize.NewDataValidation(true)
			dv.SetSqref(body)
			if err := dv.SetDropList(c.Values); err != nil {
				return err
			}
			dv.SetError(excelize.DataValidationErrorStyleWarning, c.Zh, "请从下拉列表中选择："+strings.Join(c.Values, "、"))
			if err := f.AddDataValidation(TemplateSheet, dv); err != nil {
				return err
			}
		}
		if err := setExample(f, c, col+"2", date); err != nil {
			return err
		}
	}
	if err := f.SetRowHeight(TemplateSheet, 1, 32); err != nil {
		return err
	}
	if err := f.SetPanes(TemplateSheet, &excelize.Panes{Freeze: true, XSplit: 2, YSplit: 1, TopLeftCell: "C2", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	if err := writeHelp(f, header); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	_, err = f.WriteTo(w)
	return err
}

// setExample writes the example row's cell as a clerk typing it into Excel
// would leave it: a date, a number, or text.
func setExample(f *excelize.File, c *Column, cell string, date int) error {
	v := c.Example
	if v == "" {
		return nil
	}
	switch c.kind {
	case kindDate:
		if err := f.SetCellValue(TemplateSheet, cell, domain.MustDate(v).Start(nil)); err != nil {
			return err
		}
		return f.SetCellStyle(TemplateSheet, cell, cell, date)
	case kindAmount:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		return f.SetCellFloat(TemplateSheet, cell, n, -1, 64)
	}
	return f.SetCellStr(TemplateSheet, cell, v)
}

func writeHelp(f *excelize.File, header int) error {
	if _, err := f.NewSheet(TemplateHelpSheet); err != nil {
		return err
	}
	rows := [][]string{{"列名", "English", "必需的列", "取值", "说明", "Notes"}}
	for _, c := range columns {
		req := ""
		if c.Required {
			req = "是 required"
		}
		rows = append(rows, []string{c.Zh, c.Key, req, strings.Join(c.Values, "、"), c.HelpZh, c.HelpEn})
	}
	rows = append(rows, nil,
		[]string{"规则", "Rules"},
		[]string{"1", "表头所在行可在前20行内，上方可有标题行；列的顺序不限，未识别的列不导入。", "The header may be anywhere in the first 20 rows, under a title; columns may come in any order; unknown columns are not imported."},
		[]string{"2", "当前阶段决定导入哪些事实：入库→在谈→签约→注册→开工→投产，终止项目按已填日期导入其经历的阶段。", "The stage decides which facts are imported: reported → negotiating → signed → registered → started → producing; a terminated row imports the stages its dates show."},
		[]string{"3", "日期按 服务器时区 当日 00:00 记入，不得晚于今天；各阶段日期不得早于前一阶段。", "Dates are recorded as 00:00 of the day in the server's zone, never after today, each stage no earlier than the one before."},
		[]string{"4", "任何一行有错误，整个文件都不导入，错误报告列出行、列和原因。", "If any row has an error, nothing in the file is imported; the report lists row, column and reason."},
		[]string{"5", "重复导入同一文件不会重复记录；导入更新后的台账只补记新增的阶段和资金。", "Importing the same file again records nothing twice; a newer ledger records only the stages and funds that are new."},
	)
	for i, r := range rows {
		for j, v := range r {
			cell, err := excelize.CoordinatesToCellName(j+1, i+1)
			if err != nil {
				return err
			}
			if err := f.SetCellStr(TemplateHelpSheet, cell, v); err != nil {
				return err
			}
		}
	}
	if err := f.SetCellStyle(TemplateHelpSheet, "A1", "F1", header); err != nil {
		return err
	}
	for col, width := range map[string]float64{"A": 26, "B": 24, "C": 12, "D": 36, "E": 60, "F": 70} {
		if err := f.SetColWidth(TemplateHelpSheet, col, col, width); err != nil {
			return err
		}
	}
	return f.SetCellStyle(TemplateHelpSheet, "A"+fmt.Sprint(len(columns)+3), "B"+fmt.Sprint(len(columns)+3), header)
}
