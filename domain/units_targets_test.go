package domain

import (
	"errors"
	"testing"
)

func TestUnits(t *testing.T) {
	var u Units
	decide := func(c RegisterUnit) ([]Event, error) {
		evs, err := u.Decide(c, now)
		for _, e := range evs {
			u.Apply(e)
		}
		return evs, err
	}
	evs, err := decide(RegisterUnit{Code: "nanhu", Name: "南湖区", Kind: UnitCounty})
	if err != nil || evs[0].EventType() != TypeUnitRegistered {
		t.Fatalf("%v %v", evs, err)
	}
	if evs, err := decide(RegisterUnit{Code: "nanhu", Name: "南湖区", Kind: UnitCounty}); err != nil || len(evs) != 0 {
		t.Fatalf("an identical re-PUT records nothing: %v %v", evs, err)
	}
	evs, err = decide(RegisterUnit{Code: "nanhu", Name: "嘉兴市南湖区", Kind: UnitCounty})
	if err != nil || evs[0].EventType() != TypeUnitUpdated {
		t.Fatalf("%v %v", evs, err)
	}
	if x, _ := u.Get("nanhu"); x.Name != "嘉兴市南湖区" {
		t.Fatal(x)
	}
	// A founding date is part of the unit: setting it records an update,
	// sending it again records nothing, leaving it out (a PUT replaces)
	// clears it.
	founded := DateOf(now, now.Location())
	for i, c := range []struct {
		on   Date
		want int
	}{{founded, 1}, {founded, 0}, {Date{}, 1}} {
		evs, err := decide(RegisterUnit{Code: "nanhu", Name: "嘉兴市南湖区", Kind: UnitCounty, EstablishedOn: c.on})
		if x, _ := u.Get("nanhu"); err != nil || len(evs) != c.want || x.EstablishedOn != c.on {
			t.Fatalf("step %d: %v %v, unit %+v", i, evs, err, x)
		}
	}
	for _, c := range []struct {
		name  string
		cmd   RegisterUnit
		field string
	}{
		{"unit code syntax", RegisterUnit{Code: "南湖", Name: "南湖区", Kind: UnitCounty}, "code"},
		{"name required", RegisterUnit{Code: "x", Name: " ", Kind: UnitCounty}, "name"},
		{"kind known (Suzhou 一: 县区 / 市管园区)", RegisterUnit{Code: "x", Name: "x", Kind: "province"}, "kind"},
		{"DOMAIN Assessment: a founding date is a real date", RegisterUnit{Code: "x", Name: "x", Kind: UnitPark, EstablishedOn: Date{Year: 2024, Month: 2, Day: 30}}, "established_on"},
		{"DOMAIN Assessment: a unit is registered once it exists, not before", RegisterUnit{Code: "x", Name: "x", Kind: UnitPark, EstablishedOn: DateOf(now, now.Location()).AddDays(1)}, "established_on"},
	} {
		_, err := u.Decide(c.cmd, now)
		wantErr(t, err, ErrValidation, c.field)
	}
	if err := u.Require("unit", "nanhu"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, u.Require("to_unit", "haiyan"), ErrValidation, "to_unit")
	decide(RegisterUnit{Code: "jxic", Name: "嘉兴市投资促进中心", Kind: UnitCentre})
	for _, c := range []struct {
		name string
		code UnitCode
		err  error
	}{
		{"Jiaxing 二(一)3: a county takes a transferred project", "nanhu", nil},
		{"Jiaxing 二(一)3: the centre coordinates transfers, it does not receive them", "jxic", ErrValidation},
		{"DOMAIN: an unregistered unit cannot take a project", "haiyan", ErrValidation},
	} {
		wantErr(t, u.RequireHost("to_unit", c.code), c.err, "to_unit")
	}
	decide(RegisterUnit{Code: "jxetdz", Name: "嘉兴经济技术开发区", Kind: UnitPark})
	decide(RegisterUnit{Code: "centre", Name: "市投促中心", Kind: UnitCentre})
	all := u.All()
	if len(all) != 4 || all[0].Kind != UnitCounty || all[3].Kind != UnitCentre {
		t.Fatalf("%v", all)
	}
}

// The Jiaxing 2024 targets (一(二)): 80 projects ≥ ¥10亿, 15 ≥ ¥50亿, 5 ≥ ¥100亿,
// 25 Fortune-500 projects, 50 above US$1亿; and Suzhou 一 per county: 30 ≥ ¥1亿
// of which 3 ≥ ¥10亿.
var (
	jiaxing2024  = map[Indicator]float64{IndSigned1b: 80, IndSigned5b: 15, IndSigned10b: 5, IndFortune500Projects: 25, IndSignedUSD100m: 50}
	suzhouCounty = map[Indicator]float64{IndSigned100m: 30, IndSigned1b: 3}
)

func TestTargets(t *testing.T) {
	var tg AnnualTargets
	evs, err := tg.Decide(SetTargets{Year: 2024, Unit: "jiaxing", Indicators: jiaxing2024}, now)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Jiaxing 一(二) targets: %v", err)
	}
	tg.Apply(evs[0])
	if tg.Of("jiaxing")[IndSigned5b] != 15 || tg.Year() != 2024 {
		t.Fatal("targets not folded")
	}
	if evs, err := tg.Decide(SetTargets{Year: 2024, Unit: "jiaxing", Indicators: jiaxing2024}, now); err != nil || len(evs) != 0 {
		t.Fatal("identical targets record nothing")
	}
	if _, err := tg.Decide(SetTargets{Year: 2024, Unit: "yongqiao", Indicators: suzhouCounty}, now); err != nil {
		t.Fatalf("Suzhou 一 targets: %v", err)
	}
	tests := []struct {
		name  string
		cmd   SetTargets
		field string
	}{
		{"Jiaxing 一(二): unknown indicator", SetTargets{Year: 2024, Unit: "x", Indicators: map[Indicator]float64{"gdp": 5}}, "indicators.gdp"},
		{"Jiaxing 一(二): values positive", SetTargets{Year: 2024, Unit: "x", Indicators: map[Indicator]float64{IndSigned1b: 0}}, "indicators.signed_1b"},
		{"Jiaxing 一(二): counts are whole", SetTargets{Year: 2024, Unit: "x", Indicators: map[Indicator]float64{IndSigned1b: 2.5}}, "indicators.signed_1b"},
		{"Jiaxing 一(二): at least one indicator", SetTargets{Year: 2024, Unit: "x"}, "indicators"},
		{"year in range", SetTargets{Year: 24, Unit: "x", Indicators: jiaxing2024}, "year"},
		{"year matches the stream", SetTargets{Year: 2025, Unit: "x", Indicators: jiaxing2024}, "year"},
		{"unit code", SetTargets{Year: 2024, Unit: "", Indicators: jiaxing2024}, "unit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tg.Decide(tt.cmd, now)
			wantErr(t, err, ErrValidation, tt.field)
		})
	}
	if !errors.Is(ValidationErrors{}, ErrValidation) {
		t.Fatal("ValidationErrors must match ErrValidation")
	}
}
