package projections

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// decoded is one event of the log as the views see it: the envelope as the
// store returned it and its data decoded into the domain's event struct.
// Data is nil for event types the domain does not register (the store's own
// LedgerSealed seals, or types written by a newer version): views skip them,
// but the runner still counts them and chains their hashes, so a view's
// position and digest always cover the whole log.
type decoded struct {
	*eventstore.Event
	Data domain.Event
	pre  precomputed
	// en is the project's entry when it existed before the batch, looked
	// up by projectsState.resolve just before the batch is applied.
	en *projectEntry
}

// precomputed is what the decode workers derive from one event alone, so
// the sequential apply does not have to: the stream's id, the civil day of
// occurred_at, the type's index, and for project events the fold-ready
// event (see foldable).
type precomputed struct {
	id    string
	key   uuid.UUID
	keyOK bool
	day   int32
	month int32
	typ   uint8
	cat   uint8
}

// Unmarshal is a JSON decoding function with encoding/json's signature.
type Unmarshal func([]byte, any) error

// FastUnmarshal decodes with github.com/goccy/go-json, a drop-in for
// encoding/json that is several times faster on event data (see the
// decode benchmarks). Decoding is the floor cost of every rebuild.
func FastUnmarshal(data []byte, v any) error { return gojson.Unmarshal(data, v) }

// StdUnmarshal is encoding/json, the baseline the benchmarks compare with.
func StdUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// DecodeError is an event whose type is registered but whose data does not
// decode: a fact the views cannot read. The runner stops on it rather than
// silently skipping a fact every view would then be wrong about.
type DecodeError struct {
	Position eventstore.Position
	Stream   string
	Version  uint64
	Type     string
	Err      error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("projections: event %s at %s (%s v%d) does not decode: %v", e.Type, e.Position, e.Stream, e.Version, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Categories of streams, as small codes.
const (
	catOther uint8 = iota
	catProject
	catExclusivity
	catSupervision
	catTolerance
	catTargets
	catUnits
	catPolicy
	catAssessment
)

// typeTable numbers the registered event types from 1 (0: not registered).
type typeTable struct {
	names []string
	index map[string]uint8
	cats  []uint8
}

func newTypeTable() *typeTable {
	tt := &typeTable{names: []string{""}, index: map[string]uint8{}, cats: []uint8{catOther}}
	catCode := map[string]uint8{domain.CategoryProject: catProject, domain.CategoryExclusivity: catExclusivity,
		domain.CategorySupervision: catSupervision, domain.CategoryTolerance: catTolerance, domain.CategoryTargets: catTargets,
		domain.CategoryUnits: catUnits, domain.CategoryPolicy: catPolicy, domain.CategoryAssessment: catAssessment}
	for _, t := range domain.EventTypes() {
		tt.index[t.Name] = uint8(len(tt.names))
		tt.names = append(tt.names, t.Name)
		tt.cats = append(tt.cats, catCode[t.Category])
	}
	return tt
}

// registered is read-only after construction and shared by every decoder.
var registered = newTypeTable()

// decoder decodes event data into domain structs.
type decoder struct {
	reg       *domain.Registry
	unmarshal Unmarshal
	loc       *time.Location
}

func newDecoder(u Unmarshal, loc *time.Location) *decoder {
	if u == nil {
		u = FastUnmarshal
	}
	if loc == nil {
		loc = Shanghai()
	}
	return &decoder{reg: domain.NewRegistry(), unmarshal: u, loc: loc}
}

// decode fills out[i] for each ev[i]. It returns the first failure.
func (d *decoder) decode(evs []eventstore.Event, out []decoded) error {
	for i := range evs {
		e := &evs[i]
		o := &out[i]
		o.Event = e
		o.Data = nil
		o.en = nil
		o.pre = precomputed{}
		ti, ok := registered.index[e.Type]
		if !ok {
			continue
		}
		v, err := d.reg.Decode(d.unmarshal, e.Type, e.Data)
		if err != nil {
			if errors.Is(err, domain.ErrUnknownEventType) {
				continue
			}
			return &DecodeError{Position: e.Position, Stream: e.Stream, Version: e.Version, Type: e.Type, Err: err}
		}
		o.pre.typ, o.pre.cat = ti, registered.cats[ti]
		_, o.pre.id, _ = strings.Cut(e.Stream, "-")
		if o.pre.cat == catProject {
			o.pre.key, err = uuid.Parse(o.pre.id)
			o.pre.keyOK = err == nil
			v = foldable(v)
		}
		date := domain.DateOf(v.Occurred(), d.loc)
		o.pre.day, o.pre.month = dayNumber(date), monthKey(date)
		o.Data = v
	}
	return nil
}
