package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/zhaoshang/zhaoshang/commands"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// The auditor's routes: the raw global log, its verification, and the
// read-access log. They read the event store itself, not the views, so an
// auditor sees exactly what is recorded.

// auditEvents answers the global log in order: events after ?after= (a
// position, exclusive), at most limit. next_cursor is the position of the
// last item when more follow, to pass as after.
func (h *handlers) auditEvents(c echo.Context) error {
	v := h.s.Validator()
	page, err := ParsePage(c)
	v.Merge(err)
	after := eventstore.Start
	if s := param(c, v, "after"); s != "" {
		p, err := eventstore.ParsePosition(s)
		if err != nil {
			v.Add("after", "format", "must be a position (N or C-P) as an earlier answer gave it")
		}
		after = p
	}
	if err := v.Err(); err != nil {
		return err
	}
	evs, err := h.d.Log.ReadAll(c.Request().Context(), after, page.Limit+1)
	if err != nil {
		return err
	}
	out := List[eventstore.Event]{Items: evs}
	if len(evs) > page.Limit {
		out.Items = evs[:page.Limit]
		next := out.Items[page.Limit-1].Position.String()
		out.NextCursor = &next
	}
	if out.Items == nil {
		out.Items = []eventstore.Event{}
	}
	return c.JSON(http.StatusOK, out)
}

// auditVerify recomputes every hash, checks every stream's chain and every
// seal (eventstore.Verify). A fault in the data is an answer (ok false,
// first_bad), not an error.
func (h *handlers) auditVerify(c echo.Context) error {
	rep, err := h.d.Verify(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// auditReads answers the read-access log, newest first: the ReadRecorded
// events of the monthly access streams (commands.AccessStream), from the
// current month back to the month of the log's first event, filtered by
// subject, resource and id. The cursor is "<month>/<version>": the stream
// and the version to continue below.
func (h *handlers) auditReads(c echo.Context) error {
	v := h.s.Validator()
	page, err := ParsePage(c)
	v.Merge(err)
	subject := v.Text("subject", param(c, v, "subject"), false, 200)
	resource := v.Text("resource", param(c, v, "resource"), false, 64)
	id := v.Text("id", param(c, v, "id"), false, 200)
	month, below := "", eventstore.End
	if page.Cursor != "" {
		m, ver, ok := strings.Cut(page.Cursor, "/")
		n, err := strconv.ParseUint(ver, 10, 64)
		if _, perr := time.Parse("2006-01", m); !ok || err != nil || perr != nil || n == 0 {
			v.Add("cursor", "format", "is not a cursor this server gave out")
		}
		month, below = m, n
	}
	if err := v.Err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	first, err := h.d.Log.ReadAll(ctx, eventstore.Start, 1)
	if err != nil {
		return err
	}
	items := []ReadAccess{}
	if len(first) == 0 {
		return c.JSON(http.StatusOK, NewList(items, ""))
	}
	loc := h.s.Location()
	const batch = 256
	for _, m := range monthsBack(first[0].RecordedAt, h.s.Now(), loc) {
		if month != "" && m > month {
			continue // newer than the cursor: already answered
		}
		from := eventstore.End
		if m == month {
			if below <= 1 {
				continue
			}
			from = below - 1
		}
		for from >= 1 {
			evs, err := h.d.Log.ReadStream(ctx, commands.AccessStream(m), from, eventstore.Backwards, batch)
			if errors.Is(err, eventstore.ErrStreamNotFound) {
				break
			}
			if err != nil {
				return err
			}
			for _, e := range evs {
				if len(items) == page.Limit {
					// More may match below e: resume at e.
					return c.JSON(http.StatusOK, NewList(items, m+"/"+strconv.FormatUint(e.Version+1, 10)))
				}
				ra, ok, err := readAccessOf(e)
				if err != nil {
					return err
				}
				if !ok || subject != "" && ra.Actor.Subject != subject || resource != "" && ra.Resource != resource ||
					id != "" && ra.ID != id {
					continue
				}
				items = append(items, ra)
			}
			if len(evs) < batch || evs[len(evs)-1].Version <= 1 {
				break
			}
			from = evs[len(evs)-1].Version - 1
		}
	}
	return c.JSON(http.StatusOK, NewList(items, ""))
}

func readAccessOf(e eventstore.Event) (ReadAccess, bool, error) {
	if e.Type != commands.TypeReadRecorded {
		return ReadAccess{}, false, nil
	}
	var d commands.ReadRecorded
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return ReadAccess{}, false, fmt.Errorf("api: read-access record at %s: %w", e.Position, err)
	}
	return ReadAccess{At: e.OccurredAt, Actor: e.Actor, Resource: d.Resource, ID: d.ID, RequestID: d.RequestID,
		Position: e.Position}, true, nil
}

// monthsBack lists the months (YYYY-MM in loc) from the month of to down to
// the month of from, newest first.
func monthsBack(from, to time.Time, loc *time.Location) []string {
	from, to = from.In(loc), to.In(loc)
	first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, loc)
	var out []string
	for m := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, loc); !m.Before(first); m = m.AddDate(0, -1, 0) {
		out = append(out, m.Format("2006-01"))
	}
	return out
}
