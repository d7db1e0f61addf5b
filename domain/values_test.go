package domain

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestMoneyArithmetic(t *testing.T) {
	tests := []struct {
		name string
		op   func() (Money, error)
		want Money
		err  error
	}{
		{"add", func() (Money, error) { return Yuan(1).Add(Yuan(2)) }, Yuan(3), nil},
		{"sub to negative", func() (Money, error) { return Yuan(1).Sub(Yuan(3)) }, Yuan(-2), nil},
		{"add overflow", func() (Money, error) { return Yuan(math.MaxInt64).Add(Yuan(1)) }, Money{}, ErrOverflow},
		{"add negative overflow", func() (Money, error) { return Yuan(math.MinInt64).Add(Yuan(-1)) }, Money{}, ErrOverflow},
		{"sub overflow", func() (Money, error) { return Yuan(math.MinInt64).Sub(Yuan(1)) }, Money{}, ErrOverflow},
		{"sub overflow upward", func() (Money, error) { return Yuan(math.MaxInt64).Sub(Yuan(-1)) }, Money{}, ErrOverflow},
		{"currency mismatch", func() (Money, error) { return Yuan(1).Add(Dollars(1)) }, Money{}, ErrCurrencyMismatch},
		{"DOMAIN Money: US$1亿 at 7.1 is ¥7.1亿 exactly", func() (Money, error) { return Dollars(100_000_000).ToCNY(DefaultPolicy().USDCNYRate) },
			Yuan(710_000_000), nil},
		{"conversion rounds half away from zero", func() (Money, error) { return Dollars(1).ToCNY(Rate(1_500_000)) }, Yuan(2), nil},
		{"negative conversion rounds symmetrically", func() (Money, error) { return Dollars(-1).ToCNY(Rate(1_500_000)) }, Yuan(-2), nil},
		{"conversion overflow", func() (Money, error) { return Dollars(math.MaxInt64).ToCNY(Rate(7_100_000)) }, Money{}, ErrOverflow},
		{"MinInt64 conversion overflow", func() (Money, error) { return Dollars(math.MinInt64).ToCNY(Rate(7_100_000)) }, Money{}, ErrOverflow},
		{"CNY passes through", func() (Money, error) { return Yuan(5).ToCNY(Rate(1)) }, Yuan(5), nil},
		{"sum of mixed currencies", func() (Money, error) { return SumCNY(Rate(7_100_000), Yuan(1), Dollars(10)) }, Yuan(72), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.op()
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestRateJSON(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Rate
		err  bool
	}{
		{`7.1`, 7_100_000, false},
		{`"7.0851"`, 7_085_100, false},
		{`7`, 7_000_000, false},
		{`7.1234567`, 0, true},
		{`-7.1`, 0, true},
		{`"abc"`, 0, true},
	} {
		var r Rate
		err := json.Unmarshal([]byte(tt.in), &r)
		if (err != nil) != tt.err || (!tt.err && r != tt.want) {
			t.Fatalf("%s → %d, %v", tt.in, r, err)
		}
		if !tt.err {
			b, _ := json.Marshal(r)
			var back Rate
			if json.Unmarshal(b, &back); back != r {
				t.Fatalf("round trip %s → %s", tt.in, b)
			}
		}
	}
	if b, _ := json.Marshal(Rate(7_100_000)); string(b) != "7.1" {
		t.Fatalf("7.1 marshals as %s", b)
	}
}

func TestClassify(t *testing.T) {
	pol := DefaultPolicy()
	cnyUSD := DefaultPolicy()
	cnyUSD.USD100mIncludesCNY = true
	tests := []struct {
		name    string
		m       Money
		pol     Policy
		tier    Tier
		usd     bool
		major   bool
		reached int
	}{
		{"Suzhou 一 亿元以上: ¥1亿 is 100m", Yuan(100_000_000), pol, Tier100m, false, false, 1},
		{"below ¥1亿 has no tier", Yuan(99_999_999), pol, TierNone, false, false, 0},
		{"Jiaxing 一(二) 10亿元以上: ¥10亿 is 1b and major", Yuan(1_000_000_000), pol, Tier1b, false, true, 2},
		{"Jiaxing 一(二) 50亿元以上", Yuan(5_000_000_000), pol, Tier5b, false, true, 3},
		{"Jiaxing 一(二) 100亿元以上", Yuan(10_000_000_000), pol, Tier10b, false, true, 4},
		{"Jiaxing 一(二) 超亿美元: US$1亿 is usd100m and major, CNY tier 100m", Dollars(100_000_000), pol, Tier100m, true, true, 1},
		{"Jiaxing 二(一)3: US$2亿 converts to ¥14.2亿, tier 1b", Dollars(200_000_000), pol, Tier1b, true, true, 2},
		{"DOMAIN tiers: a CNY project never counts as usd100m by default", Yuan(900_000_000), pol, Tier100m, false, false, 1},
		{"DOMAIN tiers: unless the policy says so", Yuan(900_000_000), cnyUSD, Tier100m, true, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Classify(tt.m, tt.pol)
			if err != nil {
				t.Fatal(err)
			}
			if c.Tier != tt.tier || c.USD100m != tt.usd || c.Major != tt.major || len(c.Reached()) != tt.reached {
				t.Fatalf("%+v reached %v", c, c.Reached())
			}
		})
	}
}

func TestDate(t *testing.T) {
	d := MustDate("2024-02-29")
	if !d.Valid() || d.AddDays(1) != MustDate("2024-03-01") || d.String() != "2024-02-29" {
		t.Fatalf("date %v", d)
	}
	if _, err := ParseDate("2023-02-29"); err == nil {
		t.Fatal("2023-02-29 parsed")
	}
	var x struct {
		D  Date  `json:"d"`
		P  *Date `json:"p,omitempty"`
		Z  Date  `json:"z"`
		Dz Date  `json:"dz"`
	}
	if err := json.Unmarshal([]byte(`{"d":"2024-05-01","z":""}`), &x); err != nil || x.D != MustDate("2024-05-01") || !x.Z.IsZero() {
		t.Fatalf("%+v %v", x, err)
	}
	b, _ := json.Marshal(x)
	if string(b) != `{"d":"2024-05-01","z":"","dz":""}` {
		t.Fatalf("%s", b)
	}
	if err := json.Unmarshal([]byte(`{"d":"2024-5-1"}`), &x); err == nil {
		t.Fatal("loose date accepted")
	}
	// API.md: a date means 00:00 in the configured zone.
	start := MustDate("2024-05-01").Start(shanghai)
	if !start.Equal(at("2024-04-30T16:00:00Z")) {
		t.Fatalf("start %v", start)
	}
	if DateOf(at("2024-04-30T16:30:00Z"), shanghai) != MustDate("2024-05-01") {
		t.Fatal("DateOf ignores the zone")
	}
	if MustDate("2024-01-01").DaysUntil(MustDate("2024-03-01")) != 60 {
		t.Fatal("DaysUntil")
	}
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in, from, to, prev string
	}{
		{"2024", "2024-01-01T00:00:00+08:00", "2025-01-01T00:00:00+08:00", "2023"},
		{"2024-Q2", "2024-04-01T00:00:00+08:00", "2024-07-01T00:00:00+08:00", "2024-Q1"},
		{"2024-Q1", "2024-01-01T00:00:00+08:00", "2024-04-01T00:00:00+08:00", "2023-Q4"},
		{"2024-05", "2024-05-01T00:00:00+08:00", "2024-06-01T00:00:00+08:00", "2024-04"},
		{"2024-01", "2024-01-01T00:00:00+08:00", "2024-02-01T00:00:00+08:00", "2023-12"},
		{"2024-W18", "2024-04-29T00:00:00+08:00", "2024-05-06T00:00:00+08:00", "2024-W17"},
		{"2021-W01", "2021-01-04T00:00:00+08:00", "2021-01-11T00:00:00+08:00", "2020-W53"},
		{"2026-W01", "2025-12-29T00:00:00+08:00", "2026-01-05T00:00:00+08:00", "2025-W52"},
	}
	for _, tt := range tests {
		p, err := ParsePeriod(tt.in, shanghai)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if !p.From.Equal(at(tt.from)) || !p.To.Equal(at(tt.to)) || p.String() != tt.in || p.Previous().String() != tt.prev {
			t.Fatalf("%s: %v – %v, prev %s", tt.in, p.From, p.To, p.Previous())
		}
	}
	for _, bad := range []string{"24", "2024-Q5", "2024-13", "2024-W54", "2023-W53", "2024-W1", "2024-5", "x", "2024-Q+1"} {
		if _, err := ParsePeriod(bad, shanghai); err == nil {
			t.Fatalf("%s parsed", bad)
		}
	}
	if _, err := ParsePeriod("2020-W53", shanghai); err != nil {
		t.Fatal("2020 has 53 ISO weeks")
	}
	p, _ := ParsePeriod("2024-05", shanghai)
	if !p.Contains(at("2024-05-31T23:59:59+08:00")) || p.Contains(at("2024-06-01T00:00:00+08:00")) {
		t.Fatal("period must be half-open")
	}
}

func TestNormaliseName(t *testing.T) {
	// Jiaxing 二(一)3 首报首谈: trivial spelling differences must not dodge the window.
	same := [][2]string{
		{"宁德时代新能源科技股份有限公司", " 宁德时代 新能源科技股份有限公司 "},
		{"比亚迪（深圳）有限公司", "比亚迪(深圳)有限公司"},
		{"ＢＹＤ　Ａｕｔｏ", "byd auto"},
		{"Tesla, Inc.", "TESLA INC"},
		{"《华为》技术·有限公司", "华为技术有限公司"},
		{"中芯国际\u200b集成电路", "中芯国际集成电路"},
		{"【特斯拉】上海", "特斯拉上海"},
	}
	for _, p := range same {
		if NormaliseName(p[0]) != NormaliseName(p[1]) {
			t.Fatalf("%q and %q normalise to %q and %q", p[0], p[1], NormaliseName(p[0]), NormaliseName(p[1]))
		}
	}
	different := [][2]string{
		{"华为技术有限公司", "华为终端有限公司"},
		{"宁德时代", "宁德时代集团"},
		{"A1", "A2"},
	}
	for _, p := range different {
		if NormaliseName(p[0]) == NormaliseName(p[1]) {
			t.Fatalf("%q and %q must differ", p[0], p[1])
		}
	}
	if NormaliseName("ＡＢＣ１２３") != "abc123" {
		t.Fatal(NormaliseName("ＡＢＣ１２３"))
	}
}

func TestUSCC(t *testing.T) {
	for _, ok := range []string{"914403001922038216", "9144030071526726XG", "91330100799655058B", usccA} {
		if !ValidUSCC(ok) {
			t.Fatalf("%s should be valid", ok)
		}
	}
	for _, bad := range []string{"914403001922038217", "91440300192203821", "9144030019220382I6", ""} {
		if ValidUSCC(bad) {
			t.Fatalf("%s should be invalid", bad)
		}
	}
	if NormaliseUSCC(" 9144-0300 7152 6726xg") != "9144030071526726XG" {
		t.Fatal(NormaliseUSCC(" 9144-0300 7152 6726xg"))
	}
	a := ExclusivityKeyOf(Investor{Name: "腾讯", USCC: "9144030071526726xg"}, "数字经济")
	b := ExclusivityKeyOf(Investor{Name: "深圳市腾讯计算机系统有限公司", USCC: "9144030071526726XG"}, " 数字经济 ")
	if a != b {
		t.Fatalf("same uscc and chain: %q vs %q", a, b)
	}
}

func TestUnitCode(t *testing.T) {
	for _, ok := range []UnitCode{"nanhu", "330402", "JX-ETDZ", "a_b"} {
		if ok.Validate("unit") != nil {
			t.Fatalf("%s should be valid", ok)
		}
	}
	for _, bad := range []UnitCode{"", "-x", "南湖", "a b", "a/b", UnitCode(make([]byte, 33))} {
		if bad.Validate("unit") == nil {
			t.Fatalf("%q should be invalid", bad)
		}
	}
}

func TestStageOrder(t *testing.T) {
	prev := 0
	for _, s := range Stages() {
		if s.Order() <= prev {
			t.Fatalf("%s out of order", s)
		}
		prev = s.Order()
	}
	if !StageStarted.InFourLists() || StageReported.InFourLists() || StageProducing.InFourLists() {
		t.Fatal("Jiaxing 二(一)1 four lists: negotiating, signed, registered, started")
	}
	if StageTerminated.Signed() || !StageProducing.Signed() || StageNone.Valid() {
		t.Fatal("stage predicates")
	}
}
