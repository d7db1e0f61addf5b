package ledger

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// RowError is one reason a file is rejected.
type RowError struct {
	// Row is the row number as the spreadsheet shows it (the header is
	// usually row 1); 0 is the file as a whole.
	Row int `json:"row"`
	// Column is the column as "签约日期 (signed_on)"; empty for the file or
	// the row as a whole.
	Column string `json:"column,omitempty"`
	// Value is the cell as written, when it is the problem.
	Value string `json:"value,omitempty"`
	Zh    string `json:"zh"`
	En    string `json:"en"`
}

// Notice is something worth knowing that does not stop the import: the
// ledger already holds a fact the sheet states differently, a total line
// skipped.
type Notice struct {
	Row    int    `json:"row"`
	Column string `json:"column,omitempty"`
	Zh     string `json:"zh"`
	En     string `json:"en"`
}

// RowResult is what a row did (or, in a dry run, would do).
type RowResult struct {
	Row        int    `json:"row"`
	ExternalID string `json:"external_id,omitempty"`
	Name       string `json:"name"`
	// ProjectID is the ledger's project: the one imported before, or the
	// one this import created (empty in a dry run).
	ProjectID string `json:"project_id,omitempty"`
	// Steps are the facts recorded: report, negotiation, signing,
	// registration, start, production, funds, termination.
	Steps    []string `json:"steps"`
	Commands int      `json:"commands"`
	Events   int      `json:"events"`
}

// Report is the outcome of an Import.
type Report struct {
	File     string `json:"file"`
	Format   string `json:"format"`             // xlsx or csv
	Encoding string `json:"encoding,omitempty"` // csv: UTF-8, UTF-8 with BOM, UTF-16LE/BE, GB18030
	Sheet    string `json:"sheet,omitempty"`    // xlsx
	// Batch is the correlation id of the imported events.
	Batch  string `json:"batch"`
	DryRun bool   `json:"dry_run"`
	// Rows is the number of data rows (empty rows and total lines are not
	// counted).
	Rows    int        `json:"rows"`
	Errors  []RowError `json:"errors"`
	Notices []Notice   `json:"notices"`
	// Ignored are the header cells no column answers to; their cells are
	// not imported.
	Ignored  []string    `json:"ignored,omitempty"`
	Projects []RowResult `json:"projects"`
	// New rows created a project, Updated rows added facts to one imported
	// before, Unchanged rows had nothing to add.
	New       int `json:"new"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Commands sent (planned, in a dry run) and domain events appended.
	Commands int `json:"commands"`
	Events   int `json:"events"`
}

// OK reports whether the file was accepted.
func (r *Report) OK() bool { return len(r.Errors) == 0 }

func (r *Report) tally() {
	r.New, r.Updated, r.Unchanged, r.Commands, r.Events = 0, 0, 0, 0, 0
	for _, p := range r.Projects {
		switch {
		case len(p.Steps) == 0:
			r.Unchanged++
		case p.Steps[0] == "report":
			r.New++
		default:
			r.Updated++
		}
		if r.DryRun {
			r.Commands += len(p.Steps)
		} else {
			r.Commands += p.Commands
		}
		r.Events += p.Events
	}
}

// WriteTo writes the report for people, each line in Chinese and English.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	format := strings.ToUpper(r.Format)
	switch {
	case r.Encoding != "":
		format += ", " + r.Encoding
	case r.Sheet != "":
		format += ", 工作表 sheet " + r.Sheet
	}
	fmt.Fprintf(&b, "导入 import: %s (%s)\n", r.File, format)
	if r.Batch != "" {
		fmt.Fprintf(&b, "批次 batch: %s\n", r.Batch)
	}
	fmt.Fprintf(&b, "数据行 rows: %d\n", r.Rows)
	if len(r.Ignored) > 0 {
		fmt.Fprintf(&b, "未识别的列（未导入） columns not recognised (not imported): %s\n", strings.Join(r.Ignored, ", "))
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "错误 %d 处，未导入任何数据 / %d errors, nothing was imported:\n", len(r.Errors), len(r.Errors))
		for _, e := range r.Errors {
			b.WriteString("  ")
			if e.Row > 0 {
				fmt.Fprintf(&b, "第%d行 row %d", e.Row, e.Row)
			} else {
				b.WriteString("文件 file")
			}
			if e.Column != "" {
				fmt.Fprintf(&b, " · %s", e.Column)
			}
			if e.Value != "" {
				fmt.Fprintf(&b, " = %q", e.Value)
			}
			fmt.Fprintf(&b, ": %s / %s\n", e.Zh, e.En)
		}
	} else {
		verb := "已导入 imported"
		if r.DryRun {
			verb = "试运行，未写入 dry run, nothing written"
		}
		fmt.Fprintf(&b, "%s: 新增 new %d, 更新 updated %d, 无变化 unchanged %d; 命令 commands %d, 事件 events %d\n",
			verb, r.New, r.Updated, r.Unchanged, r.Commands, r.Events)
		for _, p := range r.Projects {
			if len(p.Steps) == 0 {
				continue
			}
			fmt.Fprintf(&b, "  第%d行 row %d", p.Row, p.Row)
			if p.ExternalID != "" {
				fmt.Fprintf(&b, " %s", p.ExternalID)
			}
			fmt.Fprintf(&b, " %s: %s", p.Name, strings.Join(p.Steps, ", "))
			if p.ProjectID != "" {
				fmt.Fprintf(&b, " → %s", p.ProjectID)
			}
			b.WriteString("\n")
		}
	}
	if len(r.Notices) > 0 {
		fmt.Fprintf(&b, "提示 notices (%d):\n", len(r.Notices))
		for _, n := range r.Notices {
			b.WriteString("  ")
			if n.Row > 0 {
				fmt.Fprintf(&b, "第%d行 row %d", n.Row, n.Row)
			}
			if n.Column != "" {
				fmt.Fprintf(&b, " · %s", n.Column)
			}
			fmt.Fprintf(&b, ": %s / %s\n", n.Zh, n.En)
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// String is the report as WriteTo writes it.
func (r *Report) String() string {
	var b strings.Builder
	r.WriteTo(&b)
	return b.String()
}

// shanghai is Asia/Shanghai, or the +08:00 it has kept since 1991 when the
// machine has no zone database.
func shanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Shanghai", 8*3600)
}
