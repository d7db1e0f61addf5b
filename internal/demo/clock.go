package demo

import (
	"sync"
	"time"
)

// Clock is the clock of a store and an App that a demo load drives: while
// Load runs it reads the simulated moment of the batch being recorded, and
// the real time otherwise. The zero value is ready and follows time.Now.
//
// Handing Now to the store (backend.WithClock(clock.Now), or each
// backend's own WithClock) makes recorded_at follow the simulation too, so
// the dataset looks like two years of use — facts entered the day they
// happened, a few weeks late, filings a week ahead — rather than like
// everything typed in at once: a store stamping the load's real time would
// make nearly every fact a late record.
type Clock struct {
	mu  sync.RWMutex
	sim time.Time
}

// Now is the simulated moment during a load, time.Now() otherwise.
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.sim.IsZero() {
		return time.Now()
	}
	return c.sim
}

// set moves the simulated moment; the zero time returns to real time.
func (c *Clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sim = t
}
