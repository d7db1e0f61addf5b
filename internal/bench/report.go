package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Phases of the run, in the order the report lists them.
const (
	PhaseWrite   = "write"
	PhaseRead    = "read"
	PhaseRebuild = "rebuild"
)

// Units of Figure.Value.
const (
	UnitOpsPerSec    = "ops/s"
	UnitReqPerSec    = "req/s"
	UnitEventsPerSec = "events/s"
	UnitSeconds      = "s"
)

// Figure is one measured figure. Every figure but a baseline names the
// baseline it is compared with, measured in the same run.
type Figure struct {
	Phase string `json:"phase"`
	Name  string `json:"name"`
	// Value is a rate (Unit …/s: Ops ÷ Seconds) or, for the cold start and
	// its baseline, a duration in seconds (the median run).
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Ops operations (or events) took Seconds of wall time.
	Ops     int64   `json:"ops"`
	Seconds float64 `json:"seconds"`
	// P50Ms and P99Ms are the latencies of one operation in milliseconds
	// (write and read paths: every operation is timed) or of one pass
	// (rebuild).
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	// Baseline is the Name of the figure this one is compared with; empty
	// for a baseline.
	Baseline string `json:"baseline,omitempty"`
	// Ratio is this figure's throughput (Ops ÷ Seconds) over its
	// baseline's: below 1 is the price paid over the baseline. For the
	// cold start, equal work, it is the baseline's seconds over the cold
	// start's.
	Ratio float64 `json:"ratio,omitempty"`
	// Note says what one operation is.
	Note string `json:"note,omitempty"`
}

// Throughput is Ops per second of Seconds.
func (f Figure) Throughput() float64 {
	if f.Seconds <= 0 {
		return 0
	}
	return float64(f.Ops) / f.Seconds
}

// Settings are the run's parameters as applied (defaults filled in).
type Settings struct {
	Events      int     `json:"events"`
	Duration    float64 `json:"duration_seconds"`
	Rounds      int     `json:"rounds"`
	Concurrency int     `json:"concurrency"`
	MaxOps      int64   `json:"max_ops"`
	ColdStarts  int     `json:"cold_starts"`
	Seed        uint64  `json:"seed"`
}

// LogInfo describes the generated log the read and rebuild figures are
// measured on.
type LogInfo struct {
	Events   int `json:"events"`
	Projects int `json:"projects"`
	Streams  int `json:"streams"`
	Units    int `json:"units"`
	// Year is the year the read path's rankings and assessment ask for.
	Year            int     `json:"year"`
	GenerateSeconds float64 `json:"generate_seconds"`
	// WriteSeconds is how long writing it into the store took, in Appends
	// appends (informational: this is a bulk load, not a figure).
	WriteSeconds float64 `json:"write_seconds"`
	Appends      int     `json:"appends"`
}

// Report is the outcome of Run.
type Report struct {
	Started   time.Time `json:"started"`
	Seconds   float64   `json:"seconds"`
	Machine   Machine   `json:"machine"`
	LoadStart LoadAvg   `json:"load_start"`
	LoadEnd   LoadAvg   `json:"load_end"`
	Store     string    `json:"store"`
	Settings  Settings  `json:"settings"`
	Log       LogInfo   `json:"log"`
	Figures   []Figure  `json:"figures"`
}

// Figure finds a figure by name.
func (r *Report) Figure(name string) (Figure, bool) {
	for _, f := range r.Figures {
		if f.Name == name {
			return f, true
		}
	}
	return Figure{}, false
}

// WriteText prints the report as a table, each figure beside its baseline
// and the ratio, under the facts needed to judge it.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	s := r.Settings
	fmt.Fprintf(&b, "zhaoshang bench, %s, took %s\n", r.Started.Format("2006-01-02 15:04:05 -07:00"), seconds(r.Seconds))
	fmt.Fprintf(&b, "machine    %s\n", r.Machine)
	fmt.Fprintf(&b, "load avg   %s at start, %s at end (1, 5, 15 min)\n", r.LoadStart, r.LoadEnd)
	fmt.Fprintf(&b, "store      %s\n", r.Store)
	fmt.Fprintf(&b, "settings   --events %d --duration %s (per figure, in %d interleaved rounds) --concurrency %d\n",
		s.Events, seconds(s.Duration), s.Rounds, s.Concurrency)
	l := r.Log
	fmt.Fprintf(&b, "log        %d events, %d projects, %d streams, %d units; generated in %s, written into the store in %s (%d appends)\n",
		l.Events, l.Projects, l.Streams, l.Units, seconds(l.GenerateSeconds), seconds(l.WriteSeconds), l.Appends)

	heads := map[string]string{
		PhaseWrite:   fmt.Sprintf("write path, %d concurrent callers", s.Concurrency),
		PhaseRead:    fmt.Sprintf("read path over HTTP, %d concurrent clients, views holding the log (year %d)", s.Concurrency, l.Year),
		PhaseRebuild: fmt.Sprintf("rebuild of the %d-event log", l.Events),
	}
	// One table for every phase, so the columns line up from one to the
	// next; names and baselines flush left, numbers flush right.
	rows := [][]string{{"", "value", "p50", "p99", "ratio", "baseline"}}
	sections := map[int]string{}
	for _, ph := range []string{PhaseWrite, PhaseRead, PhaseRebuild} {
		first := len(rows)
		for _, f := range r.Figures {
			if f.Phase != ph {
				continue
			}
			if len(rows) == first {
				sections[first] = heads[ph]
			}
			ratio, vs := "", "(baseline)"
			if f.Baseline != "" {
				ratio, vs = fmt.Sprintf("%.2f", f.Ratio), "of "+f.Baseline
			}
			rows = append(rows, []string{f.Name, value(f), millis(f.P50Ms), millis(f.P99Ms), ratio, vs})
		}
	}
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(row []string) {
		out := "  " + pad(row[0], width[0], false)
		for i := 1; i < len(row)-1; i++ {
			out += "  " + pad(row[i], width[i], true)
		}
		out += "  " + row[len(row)-1]
		b.WriteString(strings.TrimRight(out, " ") + "\n")
	}
	for n := 1; n < len(rows); n++ {
		if h, ok := sections[n]; ok {
			fmt.Fprintf(&b, "\n%s\n", h)
			line(rows[0])
		}
		line(rows[n])
	}
	b.WriteString("\nratio: throughput ÷ the baseline's, both measured in this run (below 1: the cost over the baseline).\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func pad(s string, w int, right bool) string {
	fill := strings.Repeat(" ", max(0, w-utf8.RuneCountInString(s)))
	if right {
		return fill + s
	}
	return s + fill
}

func value(f Figure) string {
	if f.Unit == UnitSeconds {
		return seconds(f.Value)
	}
	return fmt.Sprintf("%s %s", count(f.Value), f.Unit)
}

// count renders a rate with the precision it deserves.
func count(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", math.Round(v))
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func seconds(s float64) string {
	switch {
	case s >= 60:
		return time.Duration(s * float64(time.Second)).Round(time.Second).String()
	case s >= 1:
		return fmt.Sprintf("%.2fs", s)
	}
	return fmt.Sprintf("%.3fs", s)
}

func millis(ms float64) string {
	switch {
	case ms <= 0:
		return "-"
	case ms < 1:
		return fmt.Sprintf("%.0fµs", ms*1000)
	case ms < 10:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.1fms", ms)
	}
	return seconds(ms / 1000)
}
