package projections

import (
	"encoding/base64"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// The timeline is one compact entry per event of the log: its position,
// when it was recorded and occurred, its type and the subject (project,
// order or case) it belongs to. It answers "what changed this week/month"
// (Changsha 十三 周调度、月通报) and finds the position of "as known at T".
//
// recorded holds the running maximum of recorded_at along the log, so it is
// sorted even if a backend's clock stepped back, and a binary search finds
// the prefix of the log recorded by T.

const (
	subjNone    = 0
	subjProject = 1 << 30
	subjOrder   = 2 << 30
	subjCase    = 3 << 30
	subjMask    = 3 << 30
)

type tlEntry struct {
	pos      eventstore.Position
	recorded int64 // running max of recorded_at, Unix ns
	occurred int64
	subj     uint32
	typ      uint8
}

type timeline struct {
	entries chunked[tlEntry]
	// types extends the registered types with those the domain does not
	// know (the store's seals), numbered after them.
	types   []string
	typeIdx map[string]uint8
}

func (t *timeline) typeName(i uint8) string {
	if int(i) < len(registered.names) {
		return registered.names[i]
	}
	return t.types[int(i)-len(registered.names)]
}

func (t *timeline) add(d *decoded, subj uint32) {
	ti := d.pre.typ
	if ti == 0 {
		if t.typeIdx == nil {
			t.typeIdx = map[string]uint8{}
		}
		var ok bool
		ti, ok = t.typeIdx[d.Type]
		if !ok && len(registered.names)+len(t.types) < 255 {
			ti = uint8(len(registered.names) + len(t.types))
			t.types = append(t.types, d.Type)
			t.typeIdx[d.Type] = ti
		}
	}
	rec := d.RecordedAt.UnixNano()
	if t.entries.Len() > 0 && t.entries.Last().recorded > rec {
		rec = t.entries.Last().recorded
	}
	t.entries.Append(tlEntry{pos: d.Position, recorded: rec, occurred: d.OccurredAt.UnixNano(), subj: subj, typ: ti})
}

// upTo is the number of events recorded at or before at.
func (t *timeline) upTo(at time.Time) int {
	ns := at.UnixNano()
	lo, hi := 0, t.entries.Len()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.entries.At(m).recorded <= ns {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// positionAt is the position of the last event recorded at or before at.
func (t *timeline) positionAt(at time.Time) eventstore.Position {
	if n := t.upTo(at); n > 0 {
		return t.entries.At(n - 1).pos
	}
	return eventstore.Start
}

// ChangeQuery selects the changes recorded in [From, To).
type ChangeQuery struct {
	From, To time.Time
	// Unit keeps changes of subjects owned by (projects) or assigned to
	// (orders) that unit now.
	Unit domain.UnitCode
	// Subject keeps one kind of subject: "project", "order" or "case".
	Subject string
	Limit   int
	Cursor  string
}

// ChangeItem is one recorded change.
type ChangeItem struct {
	Position   eventstore.Position `json:"position"`
	Type       string              `json:"type"`
	Stream     string              `json:"stream"`
	ProjectID  string              `json:"project_id,omitempty"`
	OrderID    string              `json:"order_id,omitempty"`
	CaseID     string              `json:"case_id,omitempty"`
	Unit       domain.UnitCode     `json:"unit,omitempty"`
	OccurredAt time.Time           `json:"occurred_at"`
	RecordedAt time.Time           `json:"recorded_at"`
}

// ChangesResult answers a change query: a page of changes, and the count of
// every change in the window by type and by unit.
type ChangesResult struct {
	Position   eventstore.Position     `json:"position"`
	From       time.Time               `json:"from"`
	To         time.Time               `json:"to"`
	Total      int                     `json:"total"`
	ByType     map[string]int          `json:"by_type"`
	ByUnit     map[domain.UnitCode]int `json:"by_unit"`
	Items      []ChangeItem            `json:"items"`
	NextCursor string                  `json:"next_cursor,omitempty"`
}

// ThisWeek and ThisMonth are the usual windows, in the views' zone: the ISO
// week (Monday 00:00) and the calendar month containing now, up to now.
func (v *Views) ThisWeek(now time.Time) (from, to time.Time) {
	n := now.In(v.loc)
	d := (int(n.Weekday()) + 6) % 7
	return time.Date(n.Year(), n.Month(), n.Day()-d, 0, 0, 0, 0, v.loc), now
}

// ThisMonth is the calendar month containing now, up to now.
func (v *Views) ThisMonth(now time.Time) (from, to time.Time) {
	n := now.In(v.loc)
	return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, v.loc), now
}

// Changes lists what was recorded in [q.From, q.To): every event about a
// project, a supervision order or a tolerance case, oldest first.
func (v *Views) Changes(q ChangeQuery) (ChangesResult, error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return ChangesResult{}, err
	}
	var subjKind uint32
	switch q.Subject {
	case "":
	case "project":
		subjKind = subjProject
	case "order":
		subjKind = subjOrder
	case "case":
		subjKind = subjCase
	default:
		return ChangesResult{}, queryError("subject must be project, order or case")
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	tl := &v.tl
	start := tl.upTo(q.From.Add(-time.Nanosecond))
	end := tl.upTo(q.To.Add(-time.Nanosecond))
	from := start
	if q.Cursor != "" {
		n, err := decodeCursor(q.Cursor, cursorTag("c", q.From.String(), string(q.Unit), q.Subject))
		if err != nil {
			return ChangesResult{}, err
		}
		from = max(from, int(n))
	}
	res := ChangesResult{Position: v.pos, From: q.From, To: q.To, ByType: map[string]int{}, ByUnit: map[domain.UnitCode]int{}, Items: []ChangeItem{}}
	for i := start; i < end; i++ {
		en := tl.entries.At(i)
		if en.subj == subjNone || (subjKind != 0 && en.subj&subjMask != subjKind) {
			continue
		}
		unit := v.subjectUnit(en.subj)
		if q.Unit != "" && unit != q.Unit {
			continue
		}
		res.Total++
		res.ByType[tl.typeName(en.typ)]++
		if unit != "" {
			res.ByUnit[unit]++
		}
		if i < from {
			continue
		}
		if len(res.Items) == limit {
			if res.NextCursor == "" {
				res.NextCursor = encodeCursor(cursorTag("c", q.From.String(), string(q.Unit), q.Subject), uint64(i))
			}
			continue
		}
		res.Items = append(res.Items, v.changeItem(en))
	}
	return res, nil
}

func (v *Views) subjectUnit(subj uint32) domain.UnitCode {
	seq := subj &^ subjMask
	switch subj & subjMask {
	case subjProject:
		if int(seq) < len(v.proj.bySeq) {
			return v.proj.bySeq[seq].p.Unit()
		}
	case subjOrder:
		if int(seq) < len(v.sup.orders) {
			return v.sup.orders[seq].unit
		}
	case subjCase:
		if int(seq) < len(v.tol.bySeq) {
			return v.tol.bySeq[seq].unit
		}
	}
	return ""
}

func (v *Views) changeItem(en *tlEntry) ChangeItem {
	it := ChangeItem{Position: en.pos, Type: v.tl.typeName(en.typ), OccurredAt: time.Unix(0, en.occurred).UTC(), RecordedAt: time.Unix(0, en.recorded).UTC()}
	seq := en.subj &^ subjMask
	switch en.subj & subjMask {
	case subjProject:
		p := v.proj.bySeq[seq]
		it.ProjectID, it.Stream, it.Unit = p.id, domain.ProjectStream(p.id), p.p.Unit()
	case subjOrder:
		o := v.sup.orders[seq]
		it.OrderID, it.ProjectID, it.Stream, it.Unit = o.id, o.projectID, domain.SupervisionStream(o.id), o.unit
	case subjCase:
		c := v.tol.bySeq[seq]
		it.CaseID, it.ProjectID, it.Stream, it.Unit = c.id, c.projectID, domain.ToleranceStream(c.id), c.unit
	}
	return it
}

// ---- pagination ----

// DefaultLimit and MaxLimit bound list pages (API.md "Lists").
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func pageLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 0 || n > MaxLimit:
		return 0, queryError("limit must be between 1 and " + strconv.Itoa(MaxLimit))
	}
	return n, nil
}

// Cursors are opaque to clients: "<list tag>.<decimal>" in unpadded
// base64url. The tag stops a cursor of one list being used on another.
// cursorTag is a cursor's kind together with the query it was given for: a
// cursor from one list or filter is refused by another (ErrInvalidCursor,
// 422) instead of silently starting that list at an unrelated place.
// Cursors point just after the last item a page returned, so an item that
// joins the list before that point between two pages is not skipped past.
func cursorTag(kind string, scope ...string) string {
	h := fnv.New32a()
	for _, s := range scope {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return kind + strconv.FormatUint(uint64(h.Sum32()), 36)
}

func encodeCursor(tag string, n uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tag + "." + strconv.FormatUint(n, 10)))
}

func decodeCursor(c, tag string) (uint64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, ErrInvalidCursor
	}
	s := string(b)
	if len(s) < len(tag)+2 || s[:len(tag)] != tag || s[len(tag)] != '.' {
		return 0, ErrInvalidCursor
	}
	n, err := strconv.ParseUint(s[len(tag)+1:], 10, 64)
	if err != nil {
		return 0, ErrInvalidCursor
	}
	return n, nil
}

type queryErr struct{ msg string }

func (e *queryErr) Error() string        { return "projections: " + e.msg }
func (e *queryErr) Is(target error) bool { return target == ErrInvalidQuery }

func queryError(msg string) error { return &queryErr{msg: msg} }
