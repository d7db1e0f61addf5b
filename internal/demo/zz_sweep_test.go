package demo

import (
	"context"
	"testing"
	"time"
)

func TestSweep(t *testing.T) {
	for seed := int64(10); seed < 40; seed++ {
		now := time.Date(2025, 3, 1, 11, 0, 0, 0, testZone).Add(time.Duration(seed*1237) * time.Hour)
		clk := &Clock{}
		st := openStore(t, clk)
		_, err := Load(context.Background(), st, Options{Seed: seed*7919 - 3, Now: now, Years: 2, Location: testZone, Clock: clk, Workers: 64})
		if err != nil {
			t.Errorf("seed %d now %s: %v", seed, now, err)
		}
	}
}
