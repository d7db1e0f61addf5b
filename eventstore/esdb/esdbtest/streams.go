package esdbtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Metadata keys of a recorded event, as EventStoreDB sends them.
const (
	metaType        = "type"
	metaContentType = "content-type"
	metaCreated     = "created"
)

// defaultSearchWindow is the server's read batch size, the filter window
// when a subscription asks for "count" instead of a maximum.
const defaultSearchWindow = 32

// streamsService implements the Read and Append calls of
// event_store.client.streams.Streams. Delete, Tombstone and BatchAppend
// answer Unimplemented: the adapter never calls them.
type streamsService struct {
	streams.UnimplementedStreamsServer
	srv *Server
}

func (x *streamsService) Append(call streams.Streams_AppendServer) error {
	first, err := call.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "the first append message must carry the options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	if name == "" {
		return status.Error(codes.InvalidArgument, "stream name is empty")
	}
	var exp expectation
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Any:
		exp.kind = expectAny
	case *streams.AppendReq_Options_NoStream:
		exp.kind = expectNoStream
	case *streams.AppendReq_Options_StreamExists:
		exp.kind = expectStreamExists
	case *streams.AppendReq_Options_Revision:
		exp = expectation{kind: expectRevision, revision: e.Revision}
	default:
		return status.Error(codes.InvalidArgument, "expected stream revision is missing")
	}

	var (
		props []proposal
		size  int
	)
	for {
		msg, err := call.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := msg.GetProposedMessage()
		if pm == nil {
			return status.Error(codes.InvalidArgument, "append messages after the first must be proposed messages")
		}
		size += len(pm.GetData())
		if size > x.srv.maxAppend {
			call.SetTrailer(metadata.Pairs("exception", "maximum-append-size-exceeded", "maximum-append-size", strconv.Itoa(x.srv.maxAppend)))
			return status.Errorf(codes.InvalidArgument, "Maximum Append Size of %d Exceeded.", x.srv.maxAppend)
		}
		for _, key := range []string{metaType, metaContentType} {
			if _, ok := pm.GetMetadata()[key]; !ok {
				call.SetTrailer(metadata.Pairs("exception", "missing-required-metadata-property", "required-metadata-properties", key))
				return status.Errorf(codes.InvalidArgument, "Required Metadata Property '%s' is missing", key)
			}
		}
		id, err := fromProtoUUID(pm.GetId())
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "event id: %v", err)
		}
		props = append(props, proposal{
			id:          id,
			eventType:   pm.GetMetadata()[metaType],
			contentType: pm.GetMetadata()[metaContentType],
			data:        pm.GetData(),
			meta:        pm.GetCustomMetadata(),
		})
	}

	out := x.srv.log.append(name, exp, props, time.Now())
	if out.wrong {
		return call.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{
			WrongExpectedVersion: wrongExpectedVersion(exp, out.current),
		}})
	}
	success := &streams.AppendResp_Success{
		PositionOption: &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{
			CommitPosition:  out.position.commit,
			PreparePosition: out.position.prepare,
		}},
	}
	if len(props) == 0 && out.current < 0 {
		success.CurrentRevisionOption = &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
		success.PositionOption = &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	} else {
		success.CurrentRevisionOption = &streams.AppendResp_Success_CurrentRevision{CurrentRevision: out.last}
	}
	return call.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_Success_{Success: success}})
}

// wrongExpectedVersion fills both the current fields and the 20.6.0 ones, as
// the server does for clients of either generation.
func wrongExpectedVersion(exp expectation, current int64) *streams.AppendResp_WrongExpectedVersion {
	w := &streams.AppendResp_WrongExpectedVersion{}
	switch exp.kind {
	case expectAny:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	case expectStreamExists:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	case expectNoStream:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: ^uint64(0)}
	case expectRevision:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: exp.revision}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: exp.revision}
	}
	if current < 0 {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current)}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(current)}
	}
	return w
}

func (x *streamsService) Read(req *streams.ReadReq, call streams.Streams_ReadServer) error {
	opts := req.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "read options are missing")
	}
	structured := opts.GetUuidOption().GetString_() == nil
	filter, err := newFilter(opts.GetFilter())
	if err != nil {
		return err
	}
	backwards := opts.GetReadDirection() == streams.ReadReq_Options_Backwards

	switch opts.GetCountOption().(type) {
	case *streams.ReadReq_Options_Subscription:
		all := opts.GetAll()
		if all == nil {
			return status.Error(codes.Unimplemented, "esdbtest: stream subscriptions are not part of this server")
		}
		if backwards {
			return status.Error(codes.InvalidArgument, "subscriptions read forwards")
		}
		return x.subscribeAll(call, all, filter, structured)
	case *streams.ReadReq_Options_Count:
	default:
		return status.Error(codes.InvalidArgument, "count or subscription is required")
	}

	count := opts.GetCount()
	if s := opts.GetStream(); s != nil {
		return x.readStream(call, s, backwards, count, structured)
	}
	if a := opts.GetAll(); a != nil {
		return x.readAll(call, a, backwards, count, filter, structured)
	}
	return status.Error(codes.InvalidArgument, "stream or $all is required")
}

// readStream answers a stream read: StreamNotFound when the stream has no
// events, else its events in the asked direction from the asked revision.
func (x *streamsService) readStream(call streams.Streams_ReadServer, opt *streams.ReadReq_Options_StreamOptions, backwards bool, count uint64, structured bool) error {
	name := string(opt.GetStreamIdentifier().GetStreamName())
	recs := x.srv.log.stream(name)
	if len(recs) == 0 {
		return call.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{
			StreamNotFound: &streams.ReadResp_StreamNotFound{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)}},
		}})
	}
	last := uint64(len(recs) - 1)
	var from uint64
	switch o := opt.GetRevisionOption().(type) {
	case *streams.ReadReq_Options_StreamOptions_Start:
		from = 0
	case *streams.ReadReq_Options_StreamOptions_End:
		from = last
		if !backwards {
			return nil
		}
	case *streams.ReadReq_Options_StreamOptions_Revision:
		from = o.Revision
	default:
		return status.Error(codes.InvalidArgument, "stream revision option is missing")
	}
	var sent uint64
	if backwards {
		from = min(from, last)
		for i := int64(from); i >= 0 && sent < count; i-- {
			if err := call.Send(eventMessage(recs[i], structured, false)); err != nil {
				return err
			}
			sent++
		}
		return nil
	}
	for i := from; i <= last && sent < count; i++ {
		if err := call.Send(eventMessage(recs[i], structured, false)); err != nil {
			return err
		}
		sent++
	}
	return nil
}

// readAll answers a read of $all: forwards from a position includes the
// event at that position, backwards from a position starts before it.
func (x *streamsService) readAll(call streams.Streams_ReadServer, opt *streams.ReadReq_Options_AllOptions, backwards bool, count uint64, filter *filter, structured bool) error {
	all, _ := x.srv.log.snapshot()
	var start int // forwards: first index; backwards: one past the first index
	switch o := opt.GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Start:
		start = 0
	case *streams.ReadReq_Options_AllOptions_End:
		start = len(all)
	case *streams.ReadReq_Options_AllOptions_Position:
		start = firstAtOrAfter(all, position{o.Position.GetCommitPosition(), o.Position.GetPreparePosition()})
	default:
		return status.Error(codes.InvalidArgument, "$all position option is missing")
	}
	var sent uint64
	send := func(r *record) error {
		if filter != nil && !filter.match(r) {
			return nil
		}
		sent++
		return call.Send(eventMessage(r, structured, true))
	}
	if backwards {
		for i := start - 1; i >= 0 && sent < count; i-- {
			if err := send(all[i]); err != nil {
				return err
			}
		}
		return nil
	}
	for i := start; i < len(all) && sent < count; i++ {
		if err := send(all[i]); err != nil {
			return err
		}
	}
	return nil
}

// subscription is one active $all subscription, which DropSubscriptions can
// end.
type subscription struct {
	once    sync.Once
	dropped chan struct{}
}

func (s *subscription) drop() { s.once.Do(func() { close(s.dropped) }) }

// subscribeAll serves a catch-up subscription to $all: the Confirmation,
// the recorded events after the start (exclusive), CaughtUp once, then live
// events; with a filter, a Checkpoint after every window×multiplier events
// considered.
func (x *streamsService) subscribeAll(call streams.Streams_ReadServer, opt *streams.ReadReq_Options_AllOptions, filter *filter, structured bool) error {
	var interval uint64
	if filter != nil {
		interval = uint64(filter.window) * uint64(filter.multiplier)
		if interval == 0 {
			return status.Error(codes.InvalidArgument, "checkpoint interval multiplier must be positive")
		}
	}
	all, changed := x.srv.log.snapshot()
	var cursor int
	switch o := opt.GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Start:
		cursor = 0
	case *streams.ReadReq_Options_AllOptions_End:
		cursor = len(all)
	case *streams.ReadReq_Options_AllOptions_Position:
		// Like the server: read one event forwards from the position and
		// start after it, so the subscription excludes the event there.
		cursor = firstAtOrAfter(all, position{o.Position.GetCommitPosition(), o.Position.GetPreparePosition()})
		if cursor < len(all) {
			cursor++
		}
	default:
		return status.Error(codes.InvalidArgument, "$all position option is missing")
	}

	sub := &subscription{dropped: make(chan struct{})}
	x.srv.addSub(sub)
	defer x.srv.removeSub(sub)
	if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{
		Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()},
	}}); err != nil {
		return err
	}

	var (
		considered uint64
		caughtUp   bool
	)
	for {
		for ; cursor < len(all); cursor++ {
			select {
			case <-sub.dropped:
				return status.Error(codes.Unavailable, "esdbtest: subscription dropped")
			default:
			}
			r := all[cursor]
			if filter == nil || filter.match(r) {
				if err := call.Send(eventMessage(r, structured, true)); err != nil {
					return err
				}
			}
			if filter != nil {
				considered++
				if considered >= interval {
					considered = 0
					if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{
						CommitPosition: r.pos.commit, PreparePosition: r.pos.prepare,
					}}}); err != nil {
						return err
					}
				}
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := call.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-sub.dropped:
			return status.Error(codes.Unavailable, "esdbtest: subscription dropped")
		case <-call.Context().Done():
			return status.FromContextError(call.Context().Err()).Err()
		}
		all, changed = x.srv.log.snapshot()
	}
}

// firstAtOrAfter is the index of the first record at or after p.
func firstAtOrAfter(all []*record, p position) int {
	return sort.Search(len(all), func(i int) bool { return !all[i].pos.less(p) })
}

func eventMessage(r *record, structured, withCommit bool) *streams.ReadResp {
	ev := &streams.ReadResp_ReadEvent{Event: &streams.ReadResp_ReadEvent_RecordedEvent{
		Id:               protoUUID(r.id, structured),
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
		StreamRevision:   r.revision,
		PreparePosition:  r.pos.prepare,
		CommitPosition:   r.pos.commit,
		Metadata: map[string]string{
			metaType:        r.eventType,
			metaContentType: r.contentType,
			metaCreated:     r.created,
		},
		CustomMetadata: r.meta,
		Data:           r.data,
	}}
	// $all reads carry the commit position of the original event; stream
	// reads carry the event's positions only inside the recorded event.
	if withCommit {
		ev.Position = &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.pos.commit}
	} else {
		ev.Position = &streams.ReadResp_ReadEvent_NoPosition{NoPosition: &shared.Empty{}}
	}
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: ev}}
}

// filter is a server-side $all filter on the event type or the stream name,
// by regular expression or by prefixes.
type filter struct {
	onType     bool
	re         *regexp.Regexp
	prefixes   []string
	window     uint32
	multiplier uint32
}

func newFilter(fo *streams.ReadReq_Options_FilterOptions) (*filter, error) {
	if fo == nil {
		return nil, nil
	}
	f := &filter{window: defaultSearchWindow, multiplier: fo.GetCheckpointIntervalMultiplier()}
	if m, ok := fo.GetWindow().(*streams.ReadReq_Options_FilterOptions_Max); ok {
		f.window = m.Max
	}
	var expr *streams.ReadReq_Options_FilterOptions_Expression
	switch e := fo.GetFilter().(type) {
	case *streams.ReadReq_Options_FilterOptions_EventType:
		f.onType, expr = true, e.EventType
	case *streams.ReadReq_Options_FilterOptions_StreamIdentifier:
		expr = e.StreamIdentifier
	default:
		return nil, status.Error(codes.InvalidArgument, "filter needs an event type or a stream identifier expression")
	}
	if r := expr.GetRegex(); r != "" {
		re, err := regexp.Compile(r)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "filter regex: %v", err)
		}
		f.re = re
		return f, nil
	}
	f.prefixes = expr.GetPrefix()
	if len(f.prefixes) == 0 {
		return nil, status.Error(codes.InvalidArgument, "filter needs a regex or prefixes")
	}
	return f, nil
}

func (f *filter) match(r *record) bool {
	s := r.stream
	if f.onType {
		s = r.eventType
	}
	if f.re != nil {
		return f.re.MatchString(s)
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// protoUUID encodes an id the way the client expects: structured as two
// big-endian halves, or as a string when the request asked for strings.
func protoUUID(id uuid.UUID, structured bool) *shared.UUID {
	if !structured {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

func fromProtoUUID(u *shared.UUID) (uuid.UUID, error) {
	if s := u.GetStructured(); s != nil {
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[:8], uint64(s.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:], uint64(s.GetLeastSignificantBits()))
		return id, nil
	}
	if s := u.GetString_(); s != "" {
		return uuid.Parse(s)
	}
	return uuid.Nil, fmt.Errorf("no id")
}
