package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/zhaoshang/zhaoshang/domain"
)

// sheet is a table whose header has been recognised.
type sheet struct {
	t       *table
	header  int            // index of the header row in t.rows
	index   map[string]int // column key → cell index
	written map[string]string
	ignored []string
}

// problems collects the errors of a file.
type problems struct{ errs []RowError }

func (p *problems) add(row int, c *Column, value, zh, en string) {
	col := ""
	if c != nil {
		col = c.Label()
	}
	p.errs = append(p.errs, RowError{Row: row, Column: col, Value: value, Zh: zh, En: en})
}

func (p *problems) file(zh, en string) { p.add(0, nil, "", zh, en) }

// mapHeader recognises the header row and its columns.
func mapHeader(t *table, p *problems) *sheet {
	h, ok := findHeader(t.rows)
	if !ok {
		p.file("找不到表头：前20行中没有一行包含至少3个可识别的列名（如项目名称、投资方、当前阶段），请使用导入模板的表头",
			"no header found: none of the first 20 rows names at least 3 known columns (such as 项目名称, 投资方, 当前阶段); use the template's header")
		return nil
	}
	s := &sheet{t: t, header: h, index: map[string]int{}, written: map[string]string{}}
	for i, cell := range t.rows[h] {
		name := strings.TrimSpace(cell)
		if name == "" {
			continue
		}
		c, ok := headerIndex[normHeader(name)]
		if !ok {
			s.ignored = append(s.ignored, name)
			continue
		}
		if prev, dup := s.written[c.Key]; dup {
			p.add(t.lines[h], c, name, fmt.Sprintf("列“%s”与“%s”重复", name, prev),
				fmt.Sprintf("column %q repeats %q", name, prev))
			continue
		}
		s.index[c.Key] = i
		s.written[c.Key] = name
	}
	var missing []string
	for _, c := range columns {
		if _, ok := s.index[c.Key]; c.Required && !ok {
			missing = append(missing, c.Label())
		}
	}
	if len(missing) > 0 {
		p.file("缺少必需的列："+strings.Join(missing, "、"), "required columns missing: "+strings.Join(missing, ", "))
	}
	return s
}

// entry is one row of the sheet, read and checked.
type entry struct {
	row   int // the sheet's row number
	extID string
	// ident identifies the project across imports: a hash of the unit and
	// the external id (or, without one, of the project's name and
	// investor).
	ident    string
	name     string
	inv      domain.Investor
	chain    string
	currency domain.Currency
	planned  domain.Money
	unit     domain.Unit
	channel  domain.SourceChannel
	referrer string
	lead     string
	stage    domain.Stage

	reportedOn, negotiatedOn, signedOn, registeredOn, startedOn, producingOn, fundsOn, terminatedOn domain.Date

	leader      domain.LeaderLevel
	contract    domain.Money
	agreement   domain.AgreementKind
	companyUSCC string
	permitNo    string
	funds       domain.Money
	fundsSource domain.FundSource
	termKind    domain.TerminationKind
	termCause   domain.TerminationCause
	termNote    string
}

// blank cells: what ledgers write for "nothing".
var blanks = []string{"", "-", "—", "－", "--", "/", "／", "无", "n/a", "N/A", "NA"}

// rowReader reads one row's cells.
type rowReader struct {
	s     *sheet
	cells []string
	line  int
	p     *problems
	today domain.Date
	bad   bool
}

func (r *rowReader) raw(key string) string {
	i, ok := r.s.index[key]
	if !ok || i >= len(r.cells) {
		return ""
	}
	v := strings.TrimSpace(r.cells[i])
	if slices.Contains(blanks, v) {
		return ""
	}
	return v
}

func (r *rowReader) fail(key, value, zh, en string) {
	r.bad = true
	r.p.add(r.line, columnByKey[key], value, zh, en)
}

func (r *rowReader) required(key string) string {
	v := r.raw(key)
	if v == "" {
		r.fail(key, "", "必填", "is required")
	}
	return v
}

// text checks free text the way the domain will: valid characters, a
// bounded length.
func (r *rowReader) text(key string, max int) string {
	v := r.raw(key)
	if v == "" {
		return ""
	}
	if utf8.RuneCountInString(v) > max {
		r.fail(key, v, fmt.Sprintf("超过%d个字", max), fmt.Sprintf("longer than %d characters", max))
		return ""
	}
	for _, c := range v {
		if unicode.IsControl(c) && c != '\n' && c != '\t' && c != '\r' {
			r.fail(key, v, "包含控制字符", "contains a control character")
			return ""
		}
	}
	return v
}

func (r *rowReader) requiredText(key string, max int) string {
	if r.required(key) == "" {
		return ""
	}
	return r.text(key, max)
}

// foldDigits turns full-width digits and punctuation into ASCII.
func foldDigits(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= '\uFF01' && c <= '\uFF5E' {
			return c - 0xFEE0
		}
		return c
	}, s)
}

func (r *rowReader) date(key string) domain.Date {
	v := r.raw(key)
	if v == "" {
		return domain.Date{}
	}
	d, ok := parseDate(v, r.s.t.serialDates, r.s.t.date1904)
	switch {
	case !ok:
		r.fail(key, v, "不是有效日期（应为 2025-03-12、2025/3/12 或 2025年3月12日）",
			"not a valid date (write 2025-03-12, 2025/3/12 or 2025年3月12日)")
	case d.Year < 1980 || d.Year > 2100:
		r.fail(key, v, "年份不在1980年至2100年之间", "the year is not between 1980 and 2100")
	case d.After(r.today):
		r.fail(key, v, "日期晚于今天", "the date is in the future")
	default:
		return d
	}
	return domain.Date{}
}

var dateLayouts = []string{"2006-1-2", "2006/1/2", "2006.1.2", "2006年1月2日", "20060102"}

// parseDate reads the ways ledgers write dates; a workbook's date cells
// arrive as serial day numbers.
func parseDate(s string, serial, date1904 bool) (domain.Date, bool) {
	s = foldDigits(strings.TrimSpace(s))
	if serial {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 1 && f < 2958466 && !strings.ContainsAny(s, "-/") {
			t, err := excelize.ExcelDateToTime(math.Floor(f), date1904)
			if err == nil {
				return domain.NewDate(t.Year(), t.Month(), t.Day()), true
			}
		}
	}
	// A time part ("2025-03-12 00:00:00", "2025-03-12T00:00") is dropped.
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i]
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return domain.NewDate(t.Year(), t.Month(), t.Day()), true
		}
	}
	return domain.Date{}, false
}

// amount reads a number of 万 (ten thousand) of currency into whole units.
func (r *rowReader) amount(key string, cur domain.Currency) (domain.Money, bool) {
	v := r.raw(key)
	if v == "" {
		return domain.Money{}, false
	}
	n, err := parseWan(v)
	if err != nil {
		r.fail(key, v, err.zh, err.en)
		return domain.Money{}, false
	}
	return domain.Money{Amount: n, Currency: cur}, true
}

// parseWan reads "12,345.6789" 万 into 123456789 whole units exactly (no
// floats), or says what is wrong.
func parseWan(s string) (int64, *fileError) {
	s = foldDigits(s)
	s = strings.NewReplacer(",", "", "，", "", " ", "", "\u00a0", "").Replace(s)
	q, ok := new(big.Rat).SetString(s)
	switch {
	case !ok:
		return 0, &fileError{"应为以万为单位的数字", "must be a number in 万 (10,000)"}
	case q.Sign() < 0:
		return 0, &fileError{"不能为负数", "must not be negative"}
	}
	q.Mul(q, big.NewRat(10_000, 1))
	switch {
	case !q.IsInt():
		return 0, &fileError{"最多4位小数（精确到元）", "at most 4 decimals (whole units)"}
	case q.Num().Cmp(big.NewInt(1e16)) > 0:
		return 0, &fileError{"金额过大", "the amount is too large"}
	}
	return q.Num().Int64(), nil
}

func (r *rowReader) uscc(key string) string {
	v := r.raw(key)
	if v == "" {
		return ""
	}
	u := domain.NormaliseUSCC(v)
	if domain.ValidUSCC(u) {
		return u
	}
	if len(u) == 18 {
		if c, ok := domain.USCCCheckChar(u[:17]); ok {
			r.fail(key, v, fmt.Sprintf("统一社会信用代码校验位错误（应为 %c）", c),
				fmt.Sprintf("wrong check character of the unified social credit code (should be %c)", c))
			return ""
		}
	}
	r.fail(key, v, "不是有效的18位统一社会信用代码", "not a valid 18-character unified social credit code")
	return ""
}

// choice reads a word of a column's vocabulary.
func choice[T any](r *rowReader, key string, words map[string]T, def T) T {
	v := r.raw(key)
	if v == "" {
		return def
	}
	if x, ok := words[normHeader(v)]; ok {
		return x
	}
	allowed := strings.Join(columnByKey[key].Values, "、")
	r.fail(key, v, "应为以下之一："+allowed, "must be one of: "+allowed)
	return def
}

func (r *rowReader) categories() []domain.Category {
	v := r.raw(colCategories)
	if v == "" {
		return nil
	}
	var out []domain.Category
	for _, w := range strings.FieldsFunc(v, func(c rune) bool { return strings.ContainsRune("、,，;；/／ \n", c) }) {
		c, ok := categoryWords[normHeader(w)]
		if !ok {
			allowed := strings.Join(columnByKey[colCategories].Values, "、")
			r.fail(colCategories, v, fmt.Sprintf("“%s”不是已知类别（可填：%s）", w, allowed),
				fmt.Sprintf("%q is not a known category (known: %s)", w, allowed))
			return nil
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// unit resolves a unit by code or by registered name.
func (r *rowReader) unit(units []domain.Unit) domain.Unit {
	v := r.required(colUnit)
	if v == "" {
		return domain.Unit{}
	}
	for _, u := range units {
		if string(u.Code) == v {
			return u
		}
	}
	var found []domain.Unit
	for _, u := range units {
		if strings.EqualFold(string(u.Code), v) || domain.NormaliseName(u.Name) == domain.NormaliseName(v) {
			found = append(found, u)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	var known []string
	for _, u := range units {
		if u.Kind != domain.UnitCentre {
			known = append(known, string(u.Code)+" "+u.Name)
		}
	}
	r.fail(colUnit, v, "不是已登记的单位（可填代码或名称："+strings.Join(known, "、")+"）",
		"not a registered unit (write a code or name: "+strings.Join(known, ", ")+")")
	return domain.Unit{}
}

// totalRow reports whether the row is a total line (合计), which ledgers
// put under the projects.
func totalRow(name string) bool {
	n := normHeader(name)
	return n == "合计" || n == "总计" || n == "小计" || n == "total"
}

// rowKind says what readEntry found.
type rowKind uint8

const (
	rowEntry rowKind = iota // a project, possibly with errors
	rowEmpty
	rowTotal   // a total line (合计), which ledgers put under the projects
	rowExample // the template's example row, left in by the clerk
)

// exampleNote marks the template's example row (its 备注): a clerk who
// fills the template below it without deleting it imports no fake project.
const exampleNote = "示例行：导入时跳过，可删除"

// readEntry reads and checks one data row; bad is true when it has errors
// (recorded in p).
func readEntry(s *sheet, i int, units []domain.Unit, today domain.Date, p *problems) (e entry, kind rowKind, bad bool) {
	r := &rowReader{s: s, cells: s.t.rows[i], line: s.t.lines[i], p: p, today: today}
	empty := true
	for _, c := range r.cells {
		if strings.TrimSpace(c) != "" {
			empty = false
			break
		}
	}
	switch {
	case empty:
		return entry{}, rowEmpty, false
	case totalRow(r.raw(colName)):
		return entry{row: r.line}, rowTotal, false
	case strings.HasPrefix(strings.TrimSpace(r.raw(colNote)), "示例行"):
		return entry{row: r.line}, rowExample, false
	}
	e.row = r.line
	e.extID = r.text(colExternalID, 64)
	e.name = r.requiredText(colName, 200)
	e.inv.Name = r.requiredText(colInvestor, 200)
	e.inv.USCC = r.uscc(colUSCC)
	e.inv.Categories = r.categories()
	e.inv.Origin = r.text(colOrigin, 200)
	e.chain = r.requiredText(colChain, 200)
	e.currency = choice(r, colCurrency, currencyWords, domain.CNY)
	if r.required(colPlanned) != "" {
		if m, ok := r.amount(colPlanned, e.currency); ok {
			if m.Amount == 0 {
				r.fail(colPlanned, r.raw(colPlanned), "必须大于0", "must be more than 0")
			}
			e.planned = m
		}
	}
	e.unit = r.unit(units)
	e.channel = choice(r, colChannel, channelWords, "")
	e.referrer = r.text(colReferrer, 200)
	e.lead = r.text(colLead, 200)
	if r.required(colStage) != "" {
		e.stage = choice(r, colStage, stageWords, "")
	}
	if r.required(colReportedOn) != "" {
		e.reportedOn = r.date(colReportedOn)
	}
	e.negotiatedOn = r.date(colNegotiatedOn)
	e.leader = choice(r, colLeaderLevel, leaderWords, domain.LeaderDepartment)
	e.signedOn = r.date(colSignedOn)
	var hasContract bool
	e.contract, hasContract = r.amount(colContract, e.currency)
	e.agreement = choice(r, colAgreement, agreementWords, domain.AgreementFormal)
	e.registeredOn = r.date(colRegisteredOn)
	e.companyUSCC = r.uscc(colCompanyUSCC)
	e.startedOn = r.date(colStartedOn)
	e.permitNo = r.text(colPermitNo, 200)
	e.producingOn = r.date(colProducingOn)
	e.funds, _ = r.amount(colFunds, e.currency)
	e.fundsOn = r.date(colFundsOn)
	def := domain.FundsDomestic
	if e.currency == domain.USD {
		def = domain.FundsForeign
	}
	e.fundsSource = choice(r, colFundsSource, sourceWords, def)
	e.terminatedOn = r.date(colTerminatedOn)
	e.termKind = choice(r, colTerminationKind, termKindWords, "")
	e.termCause = choice(r, colTerminationCause, termCauseWords, "")
	e.termNote = r.text(colTerminationNote, 10000)
	if r.bad {
		return e, rowEntry, true
	}
	checkStage(r, &e, hasContract)
	e.ident = identity(e)
	return e, rowEntry, r.bad
}

// checkStage applies the sheet's rules between columns: the dates the stage
// needs, no date of a stage not reached, dates in lifecycle order.
func checkStage(r *rowReader, e *entry, hasContract bool) {
	st := e.stage
	reached := func(s domain.Stage) bool {
		if st == domain.StageTerminated {
			return true // a terminated row says how far it got by its dates
		}
		return st.Order() >= s.Order()
	}
	need := func(key string, d domain.Date, s domain.Stage) {
		if d.IsZero() && st == s {
			r.fail(key, "", "当前阶段为"+stageZh[st]+"，必须填写", "required when the stage is "+string(st))
		}
	}
	beyond := func(key string, d domain.Date, s domain.Stage) {
		if !d.IsZero() && !reached(s) {
			r.fail(key, d.String(), "已填写，但当前阶段为"+stageZh[st]+"（未到"+stageZh[s]+"）",
				"is filled but the stage is "+string(st)+", before "+string(s))
		}
	}
	if st == domain.StageNegotiating && e.negotiatedOn.IsZero() {
		e.negotiatedOn = e.reportedOn
	}
	beyond(colNegotiatedOn, e.negotiatedOn, domain.StageNegotiating)
	beyond(colSignedOn, e.signedOn, domain.StageSigned)
	beyond(colRegisteredOn, e.registeredOn, domain.StageRegistered)
	beyond(colStartedOn, e.startedOn, domain.StageStarted)
	beyond(colProducingOn, e.producingOn, domain.StageProducing)
	if st.Signed() && e.signedOn.IsZero() {
		r.fail(colSignedOn, "", "当前阶段为"+stageZh[st]+"，必须填写签约日期", "required when the stage is "+string(st))
	}
	need(colRegisteredOn, e.registeredOn, domain.StageRegistered)
	need(colStartedOn, e.startedOn, domain.StageStarted)
	need(colProducingOn, e.producingOn, domain.StageProducing)
	switch {
	case !e.signedOn.IsZero() && !hasContract:
		r.fail(colContract, "", "已签约，必须填写合同投资", "required once signed")
	case hasContract && e.signedOn.IsZero():
		r.fail(colContract, r.raw(colContract), "填写了合同投资，但没有签约日期", "is filled but there is no signing date")
	case hasContract && e.contract.Amount == 0:
		r.fail(colContract, "0", "必须大于0", "must be more than 0")
	}
	if !e.registeredOn.IsZero() && e.companyUSCC == "" {
		r.fail(colCompanyUSCC, "", "填写了注册日期，必须填写项目公司统一社会信用代码", "required with a registration date")
	}
	if e.funds.Amount > 0 {
		switch {
		case e.signedOn.IsZero():
			r.fail(colFunds, r.raw(colFunds), "项目未签约，不能填写到位资金", "funds arrive only under a signed contract")
		case e.fundsOn.IsZero():
			e.fundsOn = latest(e.signedOn, e.registeredOn, e.startedOn, e.producingOn)
		}
	} else if !e.fundsOn.IsZero() {
		r.fail(colFundsOn, e.fundsOn.String(), "填写了资金到位日期，但没有到位资金", "is filled but no funds are")
	}
	if st == domain.StageTerminated {
		if e.terminatedOn.IsZero() {
			r.fail(colTerminatedOn, "", "当前阶段为终止，必须填写", "required when the stage is terminated")
		}
		if e.termKind == "" {
			r.fail(colTerminationKind, "", "当前阶段为终止，必须填写", "required when the stage is terminated")
		}
		if e.termCause == "" {
			r.fail(colTerminationCause, "", "当前阶段为终止，必须填写", "required when the stage is terminated")
		}
		if e.termNote == "" {
			r.fail(colTerminationNote, "", "当前阶段为终止，必须填写", "required when the stage is terminated")
		}
	} else {
		for _, k := range []string{colTerminatedOn, colTerminationKind, colTerminationCause, colTerminationNote} {
			if v := r.raw(k); v != "" {
				r.fail(k, v, "已填写，但当前阶段不是终止", "is filled but the stage is not terminated")
			}
		}
	}
	// Lifecycle order: each date no earlier than the dates of the stages
	// before it (DOMAIN.md: stages never move backwards, in business time
	// too). The report date is not ordered: ledgers often enter a project
	// after its first meeting, or even after it was signed.
	order := []struct {
		key string
		d   domain.Date
	}{{colNegotiatedOn, e.negotiatedOn}, {colSignedOn, e.signedOn}, {colRegisteredOn, e.registeredOn},
		{colStartedOn, e.startedOn}, {colProducingOn, e.producingOn}, {colTerminatedOn, e.terminatedOn}}
	for i, x := range order {
		for _, y := range order[:i] {
			if !x.d.IsZero() && !y.d.IsZero() && x.d.Before(y.d) {
				r.fail(x.key, x.d.String(), "早于"+columnByKey[y.key].Zh+"（"+y.d.String()+"）",
					"is before "+y.key+" ("+y.d.String()+")")
				break
			}
		}
	}
	if !e.fundsOn.IsZero() && !e.signedOn.IsZero() && e.fundsOn.Before(e.signedOn) {
		r.fail(colFundsOn, e.fundsOn.String(), "早于签约日期（"+e.signedOn.String()+"）", "is before the signing ("+e.signedOn.String()+")")
	}
	if !e.fundsOn.IsZero() && !e.terminatedOn.IsZero() && e.fundsOn.After(e.terminatedOn) {
		r.fail(colFundsOn, e.fundsOn.String(), "晚于终止日期（"+e.terminatedOn.String()+"）", "is after the termination ("+e.terminatedOn.String()+")")
	}
}

func latest(ds ...domain.Date) domain.Date {
	var l domain.Date
	for _, d := range ds {
		if !d.IsZero() && d.After(l) {
			l = d
		}
	}
	return l
}

// identity is the hash naming the row's project across imports: the unit
// and the external id, or without one the normalised project and investor
// names.
func identity(e entry) string {
	id := "id:" + e.extID
	if e.extID == "" {
		id = "name:" + domain.NormaliseName(e.name) + "|investor:" + domain.NormaliseName(e.inv.Name)
	}
	sum := sha256.Sum256([]byte(string(e.unit.Code) + "\x00" + id))
	return hex.EncodeToString(sum[:12])
}

func itoa(n int) string { return strconv.Itoa(n) }
