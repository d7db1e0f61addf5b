package esdbtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
)

// DefaultMaxAppendSize is EventStoreDB's default limit on the total data of
// one append, in bytes.
const DefaultMaxAppendSize = 1 << 20

// maxMessageSize matches the client's inbound limit (17 MiB), which is what
// the largest record a server accepts needs.
const maxMessageSize = 17 << 20

// Option configures a Server.
type Option func(*Server)

// WithMaxAppendSize sets the largest total data size of one append.
func WithMaxAppendSize(n int) Option { return func(s *Server) { s.maxAppend = n } }

// WithServerVersion sets the version the server reports to the client's
// feature discovery ("24.10.0" by default).
func WithServerVersion(v string) Option { return func(s *Server) { s.version = v } }

// Server is the in-process protocol server. Its log lives as long as the
// Server value, across Stop and Restart, like a real node's data directory.
type Server struct {
	version   string
	maxAppend int
	log       *eventLog

	mu      sync.Mutex
	addr    string
	grpc    *grpc.Server
	subs    map[*subscription]struct{}
	started bool
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(opts ...Option) (*Server, error) {
	s := &Server{
		version:   "24.10.0",
		maxAppend: DefaultMaxAppendSize,
		log:       newEventLog(),
		subs:      map[*subscription]struct{}{},
	}
	for _, o := range opts {
		o(s)
	}
	s.seed()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("esdbtest: listen: %w", err)
	}
	s.addr = lis.Addr().String()
	s.serve(lis)
	return s, nil
}

// seed writes what a fresh single node writes before any client does, so
// that readers of $all meet system events first, as they would.
func (s *Server) seed() {
	now := time.Now()
	sys := func(stream, eventType, data string) {
		s.log.append(stream, expectation{kind: expectAny}, []proposal{{
			id: uuid.New(), eventType: eventType, contentType: "application/json", data: []byte(data), meta: []byte{},
		}}, now)
	}
	sys("$$$stats-127.0.0.1:2113", "$metadata", `{"$maxAge":86400}`)
	sys("$epochs", "$epoch-information", `{"epochNumber":0}`)
	sys("$$$scavenges", "$metadata", `{"$maxAge":2592000}`)
}

func (s *Server) serve(lis net.Listener) {
	// WaitForHandlers: Stop returns only once every call has ended, so a
	// stopped server has no subscription left behind.
	g := grpc.NewServer(grpc.MaxRecvMsgSize(maxMessageSize), grpc.MaxSendMsgSize(maxMessageSize), grpc.WaitForHandlers(true))
	streams.RegisterStreamsServer(g, &streamsService{srv: s})
	serverfeatures.RegisterServerFeaturesServer(g, &featuresService{srv: s})
	gossip.RegisterGossipServer(g, &gossipService{srv: s})
	s.mu.Lock()
	s.grpc = g
	s.started = true
	s.mu.Unlock()
	go func() { _ = g.Serve(lis) }()
}

// Addr is the host:port the server listens on; it stays the same across
// Restart.
func (s *Server) Addr() string { return s.addr }

// URL is the connection string for a single insecure node.
func (s *Server) URL() string { return "esdb://" + s.addr + "?tls=false" }

// Stop stops serving: the listener closes, every connection and stream is
// cut, as when a node goes down. The log is kept.
func (s *Server) Stop() {
	s.mu.Lock()
	g := s.grpc
	s.grpc = nil
	s.started = false
	s.mu.Unlock()
	if g != nil {
		g.Stop()
	}
}

// Restart serves again on the same address after Stop.
func (s *Server) Restart() error {
	s.mu.Lock()
	running := s.started
	s.mu.Unlock()
	if running {
		return errors.New("esdbtest: restart: the server is running")
	}
	lis, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("esdbtest: restart on %s: %w", s.addr, err)
	}
	s.serve(lis)
	return nil
}

// Close stops the server for good.
func (s *Server) Close() { s.Stop() }

// DropSubscriptions ends every active subscription with the error a client
// sees when its subscription is dropped (gRPC Unavailable), leaving the
// connection itself up. It reports how many it dropped.
func (s *Server) DropSubscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for sub := range s.subs {
		sub.drop()
		delete(s.subs, sub)
		n++
	}
	return n
}

// Subscriptions is the number of active subscriptions, for tests that wait
// until one is established.
func (s *Server) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Tamper flips one bit of the data of the event at stream/revision in place,
// behind every client's back (EventStoreDB itself never changes a recorded
// event; this models an attacker with access to the files). It reports
// whether the event exists.
func (s *Server) Tamper(stream string, revision uint64) bool {
	return s.log.replace(stream, revision, func(r *record) {
		if len(r.data) > 0 {
			r.data[len(r.data)/2] ^= 0x01
		}
	})
}

func (s *Server) addSub(sub *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs[sub] = struct{}{}
}

func (s *Server) removeSub(sub *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, sub)
}

// featuresService answers the client's feature discovery with the methods
// this server implements, named as EventStoreDB names them (lower case).
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
	srv *Server
}

func (f *featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: f.srv.version,
		Methods: []*serverfeatures.SupportedMethod{
			{ServiceName: "event_store.client.streams.streams", MethodName: "read", Features: []string{"position", "events"}},
			{ServiceName: "event_store.client.streams.streams", MethodName: "append"},
			{ServiceName: "event_store.client.gossip.gossip", MethodName: "read"},
			{ServiceName: "event_store.client.server_features.serverfeatures", MethodName: "getsupportedmethods"},
		},
	}, nil
}

// gossipService describes a one-node cluster whose leader is this server,
// so cluster connection strings (several seeds, esdb+discover) work too.
type gossipService struct {
	gossip.UnimplementedGossipServer
	srv *Server
}

func (g *gossipService) Read(context.Context, *shared.Empty) (*gossip.ClusterInfo, error) {
	host, port, err := net.SplitHostPort(g.srv.addr)
	if err != nil {
		return nil, err
	}
	var p uint32
	if _, err := fmt.Sscanf(port, "%d", &p); err != nil {
		return nil, err
	}
	return &gossip.ClusterInfo{Members: []*gossip.MemberInfo{{
		InstanceId:   protoUUID(uuid.NewSHA1(uuid.NameSpaceURL, []byte(g.srv.addr)), true),
		TimeStamp:    time.Now().UnixNano() / 100,
		State:        gossip.MemberInfo_Leader,
		IsAlive:      true,
		HttpEndPoint: &gossip.EndPoint{Address: host, Port: p},
	}}}, nil
}
