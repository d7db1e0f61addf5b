package domain

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// claimsFrom folds the claim events of a sequence of decided reports.
func claimsFrom(t *testing.T, reports ...ReportProject) *ExclusivityClaims {
	t.Helper()
	c := &ExclusivityClaims{}
	for _, r := range reports {
		d, err := DecideReport(r, c, DefaultPolicy(), r.OccurredAt)
		if err != nil {
			t.Fatalf("setup report: %v", err)
		}
		for _, e := range d.ClaimEvents() {
			c.Apply(e)
		}
	}
	return c
}

func TestExclusivity(t *testing.T) {
	held := now.Add(-day(10)) // holder reported 10 days ago: window open 20 more days
	major := Yuan(1_000_000_000)
	small := Yuan(200_000_000)
	holder := reportCmd(pid1, "nanhu", major, held)
	withUSCC := func(r ReportProject, u string) ReportProject { r.Investor.USCC = u; return r }
	withName := func(r ReportProject, n string) ReportProject { r.Investor.Name = n; return r }
	withChain := func(r ReportProject, c string) ReportProject { r.IndustryChain = c; return r }
	competitor := func(at time.Time) ReportProject { return reportCmd(pid2, "xiuzhou", major, at) }
	const (
		byName = "name"
		byCode = "uscc"
	)

	tests := []struct {
		name      string
		setup     []ReportProject
		report    ReportProject
		at        time.Time
		conflict  bool
		key       string // the key kind the conflict names (where the rejection is kept)
		wantClaim bool
	}{
		{"Jiaxing 二(一)3 首报首谈: ¥10亿 report claims first negotiation", nil,
			reportCmd(pid2, "nanhu", major, now), now, false, "", true},
		{"Jiaxing 二(一)3 首报首谈: US$1亿 report claims (超亿美元)", nil,
			reportCmd(pid2, "nanhu", Dollars(100_000_000), now), now, false, "", true},
		{"Jiaxing 二(一)3: below ¥10亿 creates no claim", nil,
			reportCmd(pid2, "nanhu", Yuan(999_999_999), now), now, false, "", false},
		{"Jiaxing 二(一)3: another unit within the window is rejected", []ReportProject{holder},
			competitor(now), now, true, byName, false},
		{"Jiaxing 二(一)3: a non-major report of another unit is also blocked", []ReportProject{holder},
			reportCmd(pid2, "xiuzhou", small, now), now, true, byName, false},
		{"Jiaxing 二(一)3: same investor by normalised name (full-width, spaces, brackets)", []ReportProject{holder},
			withName(competitor(now), " 宁德时代新能源科技股份有限公司（ ）"), now, true, byName, false},
		{"Jiaxing 二(一)3: a different industry chain is another claim", []ReportProject{holder},
			withChain(competitor(now), "储能"), now, false, "", true},
		{"Jiaxing 二(一)3: a different chain is another claim with codes too", []ReportProject{withUSCC(holder, usccA)},
			withChain(withUSCC(competitor(now), usccA), "储能"), now, false, "", true},
		{"Jiaxing 二(一)3: window ends exactly exclusivity_days after the report", []ReportProject{holder},
			competitor(held.Add(day(30))), held.Add(day(30)), false, "", true},
		{"Jiaxing 二(一)3: window ended, code vs no code claims too", []ReportProject{withUSCC(holder, usccA)},
			competitor(held.Add(day(31))), held.Add(day(31)), false, "", true},
		{"Jiaxing 二(一)3: one second before the end still conflicts", []ReportProject{holder},
			competitor(held.Add(day(30) - time.Second)), held.Add(day(30) - time.Second), true, byName, false},
		{"Jiaxing 二(一)3: judged when the competing report is recorded, not by its date", []ReportProject{holder},
			competitor(held.Add(-day(40))), now, true, byName, false},
		{"Jiaxing 二(一)3: the holder's unit may report again, no new claim", []ReportProject{holder},
			reportCmd(pid2, "nanhu", major, now), now, false, "", false},
		{"Jiaxing 二(一)3: the holder's unit may report again with the code, no new claim", []ReportProject{holder},
			withUSCC(reportCmd(pid2, "nanhu", major, now), usccA), now, false, "", false},
		{"Jiaxing 二(一)3: backdated report whose window already ended gets no claim", nil,
			reportCmd(pid2, "nanhu", major, now.Add(-day(31))), now, false, "", false},

		// DOMAIN.md "same uscc, or same normalised name when no code":
		{"Jiaxing 二(一)3 same investor: code vs the same code conflicts", []ReportProject{withUSCC(holder, usccA)},
			withUSCC(competitor(now), usccA), now, true, byCode, false},
		{"Jiaxing 二(一)3 same investor: same code under another name conflicts", []ReportProject{withUSCC(holder, usccA)},
			withName(withUSCC(competitor(now), usccA), "CATL"), now, true, byCode, false},
		{"Jiaxing 二(一)3 same investor: same code, code spelt with spaces and lower case", []ReportProject{withUSCC(holder, usccA)},
			withUSCC(competitor(now), " "+strings.ToLower(usccA[:9])+" "+usccA[9:]), now, true, byCode, false},
		{"Jiaxing 二(一)3 other investor: a different valid code under the same name does not conflict", []ReportProject{withUSCC(holder, usccA)},
			withUSCC(competitor(now), usccB), now, false, "", true},
		{"Jiaxing 二(一)3 same investor: holder with code, competitor without it, same name conflicts", []ReportProject{withUSCC(holder, usccA)},
			competitor(now), now, true, byName, false},
		{"Jiaxing 二(一)3 same investor: holder without code, competitor with a code, same name conflicts", []ReportProject{holder},
			withUSCC(competitor(now), usccA), now, true, byName, false},
		{"Jiaxing 二(一)3 same investor: no code vs no code, same normalised name conflicts", []ReportProject{holder},
			withName(competitor(now), "宁德时代新能源科技股份有限公司 "), now, true, byName, false},
		{"Jiaxing 二(一)3 other investor: holder without code, competitor with a code under another name", []ReportProject{holder},
			withName(withUSCC(competitor(now), usccA), "CATL"), now, false, "", true},
		{"Jiaxing 二(一)3 other investor: holder with code, competitor without code under another name", []ReportProject{withUSCC(holder, usccA)},
			withName(competitor(now), "CATL"), now, false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := claimsFrom(t, tt.setup...)
			d, err := DecideReport(tt.report, claims, DefaultPolicy(), tt.at)
			if tt.conflict {
				var ce *ExclusivityConflictError
				if !errors.As(err, &ce) || !errors.Is(err, ErrExclusivityConflict) {
					t.Fatalf("err = %v, want *ExclusivityConflictError", err)
				}
				if ce.HolderUnit != "nanhu" || ce.HolderProject != pid1 || !ce.Until.Equal(held.Add(day(30))) {
					t.Fatalf("conflict = %+v", ce)
				}
				if !strings.HasPrefix(ce.Key, tt.key+":") || !slices.Contains(tt.report.ExclusivityKeys(), ce.Key) {
					t.Fatalf("conflict key = %q, want the report's %s key (of %q)", ce.Key, tt.key, tt.report.ExclusivityKeys())
				}
				rec := RejectionRecord(tt.report, ce)
				if rec.Unit != tt.report.Unit || rec.HolderUnit != "nanhu" || rec.Key != ce.Key {
					t.Fatalf("rejection record = %+v", rec)
				}
				claims.Apply(rec)
				if len(claims.Rejections()) != 1 {
					t.Fatal("the rejected attempt must be kept on record")
				}
				if _, err := DecideReport(tt.report, claims, DefaultPolicy(), tt.at); !errors.Is(err, ErrExclusivityConflict) {
					t.Fatalf("the record of a rejection must not void the holder: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if (d.Claim != nil) != tt.wantClaim || len(d.Claims) != len(d.ClaimEvents()) {
				t.Fatalf("claim = %+v, want claim %v", d.Claim, tt.wantClaim)
			}
			if d.Claim != nil {
				if !d.Claim.Until.Equal(tt.report.OccurredAt.Add(day(30))) || d.Reported.ExclusiveUntil == nil {
					t.Fatalf("until = %v", d.Claim.Until)
				}
				if d.Claim.Key != d.Reported.ExclusivityKey {
					t.Fatal("claim and report keys differ")
				}
				keys := tt.report.ExclusivityKeys()
				if len(d.Claims) != len(keys) {
					t.Fatalf("%d claims for keys %q", len(d.Claims), keys)
				}
				for i, cl := range d.Claims {
					if cl.Key != keys[i] || cl.ProjectID != pid2 || !cl.Until.Equal(d.Claim.Until) {
						t.Fatalf("claim %d = %+v, want key %q", i, cl, keys[i])
					}
				}
			} else if len(d.Claims) != 0 || d.Reported.ExclusiveUntil != nil {
				t.Fatalf("no claim expected: %+v", d)
			}
		})
	}
}

// TestExclusivityKeys: a report is judged and claims under its name key and,
// with a code, its uscc key, sorted; the primary key is the code's.
func TestExclusivityKeys(t *testing.T) {
	inv := Investor{Name: "宁德时代（嘉兴）有限公司", USCC: strings.ToLower(usccA)}
	keys := ExclusivityKeysOf(inv, " 新能源 ")
	want := []string{"name:宁德时代嘉兴有限公司|chain:新能源", "uscc:" + usccA + "|chain:新能源"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %q, want %q", keys, want)
	}
	if k := ExclusivityKeyOf(inv, "新能源"); k != want[1] {
		t.Fatalf("primary key = %q", k)
	}
	inv.USCC = ""
	if keys := ExclusivityKeysOf(inv, "新能源"); !slices.Equal(keys, want[:1]) || ExclusivityKeyOf(inv, "新能源") != want[0] {
		t.Fatalf("keys without a code = %q", keys)
	}
}

func TestSameInvestor(t *testing.T) {
	named := func(n, u string) Investor { return Investor{Name: n, USCC: u} }
	tests := []struct {
		name string
		a, b Investor
		same bool
	}{
		{"DOMAIN same uscc: same code", named("甲公司", usccA), named("甲公司", usccA), true},
		{"DOMAIN same uscc: same code, different names", named("甲公司", usccA), named("Jia Co", usccA), true},
		{"DOMAIN same uscc: different codes, same name are two companies", named("甲公司", usccA), named("甲公司", usccB), false},
		{"DOMAIN no code: code vs none, same name", named("甲公司", usccA), named("甲 公司", ""), true},
		{"DOMAIN no code: none vs code, same name", named("甲公司", ""), named("甲公司", usccA), true},
		{"DOMAIN no code: none vs none, same normalised name", named("ＡＢＣ公司", ""), named("abc公司", ""), true},
		{"DOMAIN no code: code vs none, different names", named("甲公司", usccA), named("乙公司", ""), false},
		{"DOMAIN no code: a name of punctuation only matches nothing", named("（）", ""), named("（）", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameInvestor(tt.a, tt.b); got != tt.same {
				t.Fatalf("SameInvestor = %v, want %v", got, tt.same)
			}
			if got := SameInvestor(tt.b, tt.a); got != tt.same {
				t.Fatalf("SameInvestor is not symmetric")
			}
		})
	}
}

// TestExclusivityHalfMadeClaimIsVoid: a report that claimed one of its keys
// and was then rejected (it lost the race for the other) has its rejection
// recorded where it had claimed; the half-made claim then blocks no one.
func TestExclusivityHalfMadeClaimIsVoid(t *testing.T) {
	major := Yuan(1_000_000_000)
	// Holder: nanhu with code A under another name (claims its name and code).
	holder := reportCmd(pid1, "nanhu", major, now.Add(-day(1)))
	holder.Investor = Investor{Name: "CATL", USCC: usccA}
	// Loser: xiuzhou with code A under the usual name; it claimed its name
	// key, then found the holder under the code key.
	loser := reportCmd(pid2, "xiuzhou", major, now.Add(-day(1)))
	loser.Investor.USCC = usccA
	hd, err := DecideReport(holder, nil, DefaultPolicy(), now)
	if err != nil {
		t.Fatal(err)
	}
	claims := &ExclusivityClaims{}
	ld, err := DecideReport(loser, claims, DefaultPolicy(), now) // decided before the holder's claim
	if err != nil || len(ld.Claims) != 2 {
		t.Fatalf("loser's first decision: %+v, %v", ld, err)
	}
	half := ld.Claims[0] // its name key, appended first
	for _, e := range hd.ClaimEvents() {
		claims.Apply(e)
	}
	_, err = DecideReport(loser, claims, DefaultPolicy(), now)
	var ce *ExclusivityConflictError
	if !errors.As(err, &ce) || ce.HolderProject != pid1 || !strings.HasPrefix(ce.Key, "uscc:") {
		t.Fatalf("loser decided again: %v", err)
	}
	// The loser's name stream: its half-made claim, then its rejection.
	nameStream := &ExclusivityClaims{}
	nameStream.Apply(half)
	third := reportCmd(pid3, "haiyan", major, now) // no code, the loser's name
	if _, err := DecideReport(third, nameStream, DefaultPolicy(), now); !errors.Is(err, ErrExclusivityConflict) {
		t.Fatalf("a half-made claim without its rejection holds (it cannot tell a crash from a slow report): %v", err)
	}
	nameStream.Apply(RejectionRecord(loser, ce))
	if !nameStream.Void(half) {
		t.Fatal("the rejection must void the half-made claim")
	}
	if _, ok := nameStream.ActiveAt(now); ok {
		t.Fatal("a void claim is not active")
	}
	d, err := DecideReport(third, nameStream, DefaultPolicy(), now)
	if err != nil || d.Claim == nil {
		t.Fatalf("third report after the void: %+v, %v", d, err)
	}
	if n := len(nameStream.Claims()); n != 1 {
		t.Fatalf("the void claim stays on record: %d claims", n)
	}
}

func TestExclusivityValidation(t *testing.T) {
	r := reportCmd(pid1, "nanhu", Yuan(1), now)
	r.Investor.USCC = "123"
	r.SourceChannel = "carrier_pigeon"
	r.Investor.Categories = []Category{"famous"}
	r.ProjectID = "not-a-uuid"
	r.IndustryChain = "（）"
	_, err := DecideReport(r, nil, DefaultPolicy(), now)
	for _, f := range []string{"investor.uscc", "source_channel", "investor.categories[0]", "id", "industry_chain"} {
		wantErr(t, err, ErrValidation, f)
	}
}

// TestExclusivityRace shows the decision side of the concurrency guarantee:
// many reports decided against the same claim-stream state all want to claim;
// the store's expected-version append lets exactly one through, and every
// retry, decided against the stream with that claim, is rejected.
func TestExclusivityRace(t *testing.T) {
	major := Yuan(5_000_000_000)
	units := []UnitCode{"nanhu", "xiuzhou", "haiyan", "pinghu", "tongxiang", "jiashan", "haining", "gangqu"}
	var mu sync.Mutex
	var stream []Event // the claim stream, appended under an expected version
	var wg sync.WaitGroup
	winners := 0
	for i, u := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				state := &ExclusivityClaims{}
				for _, e := range stream {
					state.Apply(e)
				}
				version := len(stream)
				mu.Unlock()
				d, err := DecideReport(reportCmd(validUUID(i), u, major, now), state, DefaultPolicy(), now)
				if err != nil {
					if !errors.Is(err, ErrExclusivityConflict) {
						t.Errorf("unit %s: %v", u, err)
					}
					return
				}
				mu.Lock()
				if len(stream) != version { // expected version mismatch: reload and retry
					mu.Unlock()
					continue
				}
				stream = append(stream, d.ClaimEvents()...)
				winners++
				mu.Unlock()
				return
			}
		}()
	}
	wg.Wait()
	if winners != 1 || len(stream) != 1 {
		t.Fatalf("winners = %d, claims = %d; want exactly one holder", winners, len(stream))
	}
}

func validUUID(i int) string {
	const hex = "0123456789abcdef"
	c := string(hex[i%16])
	s := ""
	for j := 0; j < 32; j++ {
		s += c
	}
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
