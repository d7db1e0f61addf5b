package domain

import (
	"errors"
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

	tests := []struct {
		name      string
		setup     []ReportProject
		report    ReportProject
		at        time.Time
		conflict  bool
		wantClaim bool
	}{
		{"Jiaxing 二(一)3 首报首谈: ¥10亿 report claims first negotiation", nil,
			reportCmd(pid2, "nanhu", major, now), now, false, true},
		{"Jiaxing 二(一)3 首报首谈: US$1亿 report claims (超亿美元)", nil,
			reportCmd(pid2, "nanhu", Dollars(100_000_000), now), now, false, true},
		{"Jiaxing 二(一)3: below ¥10亿 creates no claim", nil,
			reportCmd(pid2, "nanhu", Yuan(999_999_999), now), now, false, false},
		{"Jiaxing 二(一)3: another unit within the window is rejected", []ReportProject{holder},
			reportCmd(pid2, "xiuzhou", major, now), now, true, false},
		{"Jiaxing 二(一)3: a non-major report of another unit is also blocked", []ReportProject{holder},
			reportCmd(pid2, "xiuzhou", small, now), now, true, false},
		{"Jiaxing 二(一)3: same investor by normalised name (full-width, spaces, brackets)", []ReportProject{holder},
			withName(reportCmd(pid2, "xiuzhou", major, now), " 宁德时代新能源科技股份有限公司（ ）"), now, true, false},
		{"Jiaxing 二(一)3: a different industry chain is another claim", []ReportProject{holder},
			withChain(reportCmd(pid2, "xiuzhou", major, now), "储能"), now, false, true},
		{"Jiaxing 二(一)3: window ends exactly exclusivity_days after the report", []ReportProject{holder},
			reportCmd(pid2, "xiuzhou", major, held.Add(day(30))), held.Add(day(30)), false, true},
		{"Jiaxing 二(一)3: one second before the end still conflicts", []ReportProject{holder},
			reportCmd(pid2, "xiuzhou", major, held.Add(day(30)-time.Second)), held.Add(day(30) - time.Second), true, false},
		{"Jiaxing 二(一)3: judged when the competing report is recorded, not by its date", []ReportProject{holder},
			reportCmd(pid2, "xiuzhou", major, held.Add(-day(40))), now, true, false},
		{"Jiaxing 二(一)3: the holder's unit may report again, no new claim", []ReportProject{holder},
			reportCmd(pid2, "nanhu", major, now), now, false, false},
		{"Jiaxing 二(一)3: same uscc, different names conflict", []ReportProject{withUSCC(holder, usccA)},
			withName(withUSCC(reportCmd(pid2, "xiuzhou", major, now), usccA), "CATL"), now, true, false},
		{"Jiaxing 二(一)3: backdated report whose window already ended gets no claim", nil,
			reportCmd(pid2, "nanhu", major, now.Add(-day(31))), now, false, false},
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
				rec := RejectionRecord(tt.report, ce)
				if rec.Unit != tt.report.Unit || rec.HolderUnit != "nanhu" || rec.Key != tt.report.ExclusivityKey() {
					t.Fatalf("rejection record = %+v", rec)
				}
				claims.Apply(rec)
				if len(claims.Rejections()) != 1 {
					t.Fatal("the rejected attempt must be kept on record")
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if (d.Claim != nil) != tt.wantClaim {
				t.Fatalf("claim = %+v, want claim %v", d.Claim, tt.wantClaim)
			}
			if d.Claim != nil {
				if !d.Claim.Until.Equal(tt.report.OccurredAt.Add(day(30))) || d.Reported.ExclusiveUntil == nil {
					t.Fatalf("until = %v", d.Claim.Until)
				}
				if d.Claim.Key != d.Reported.ExclusivityKey {
					t.Fatal("claim and report keys differ")
				}
			}
		})
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
