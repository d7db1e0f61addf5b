package bolt_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zhaoshang/zhaoshang/eventstore"
	"github.com/zhaoshang/zhaoshang/eventstore/bolt"
)

const (
	crashChildEnv     = "ZHAOSHANG_BOLT_CRASH_CHILD"
	crashWriters      = 8
	crashChildMaxLife = 2 * time.Minute // a child whose parent died exits by itself
)

// runCrashChild appends to crashWriters streams concurrently, forever, and
// prints "ack STREAM VERSION ID" for every event of each acknowledged append.
// The parent kills it with SIGKILL at a random moment.
func runCrashChild(path string) int {
	s, err := bolt.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 2
	}
	var (
		out sync.Mutex
		wg  sync.WaitGroup
	)
	deadline := time.Now().Add(crashChildMaxLife)
	for w := range crashWriters {
		wg.Go(func() {
			ctx := context.Background()
			stream := fmt.Sprintf("crash-%d", w)
			var version uint64
			last, err := s.ReadStream(ctx, stream, eventstore.End, eventstore.Backwards, 1)
			switch {
			case err == nil:
				version = last[0].Version
			case !errors.Is(err, eventstore.ErrStreamNotFound):
				fmt.Fprintln(os.Stderr, "child read:", err)
				os.Exit(2)
			}
			for i := 0; time.Now().Before(deadline); i++ {
				evs := make([]eventstore.NewEvent, 1+i%3)
				for k := range evs {
					evs[k] = eventstore.NewEvent{
						ID:         uuid.New(),
						Type:       "CrashTested",
						Data:       []byte(fmt.Sprintf(`{"writer":%d,"i":%d,"单位":"嘉兴经济技术开发区"}`, w, i)),
						OccurredAt: time.Now(),
						Actor:      eventstore.Actor{Subject: "crash", Role: "test"},
					}
				}
				res, err := s.Append(ctx, stream, eventstore.Exact(version), evs)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(2)
				}
				var b strings.Builder
				for k := range evs {
					fmt.Fprintf(&b, "ack %s %d %s\n", stream, version+uint64(k)+1, evs[k].ID)
				}
				out.Lock()
				os.Stdout.WriteString(b.String())
				out.Unlock()
				version = res.Version
			}
		})
	}
	wg.Wait()
	return 0
}

type ack struct {
	version uint64
	id      uuid.UUID
}

// TestKill9 kills an appending child process with SIGKILL at random moments
// and checks after each kill that the file opens, verifies, and holds every
// acknowledged event at its acknowledged version, with no gaps.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "events.db")
	acked := map[string][]ack{}
	for round := range 3 {
		lines := crashRound(t, path, 20+rand.IntN(300))
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) != 4 || f[0] != "ack" {
				t.Fatalf("round %d: unexpected child output %q", round, l)
			}
			v, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			acked[f[1]] = append(acked[f[1]], ack{v, uuid.MustParse(f[3])})
		}

		s, err := bolt.Open(path)
		if err != nil {
			t.Fatalf("round %d: the killed child's file does not open: %v", round, err)
		}
		ctx := context.Background()
		rep, err := eventstore.Verify(ctx, s)
		if err != nil || !rep.OK {
			s.Close()
			t.Fatalf("round %d: Verify after kill -9: %+v, %v", round, rep, err)
		}
		total := 0
		for stream, acks := range acked {
			evs, err := s.ReadStream(ctx, stream, 1, eventstore.Forwards, 0)
			if err != nil {
				s.Close()
				t.Fatalf("round %d: %s: %v", round, stream, err)
			}
			for i, e := range evs {
				if e.Version != uint64(i+1) {
					s.Close()
					t.Fatalf("round %d: %s: version %d at index %d", round, stream, e.Version, i)
				}
			}
			for _, a := range acks {
				if a.version > uint64(len(evs)) || evs[a.version-1].ID != a.id {
					s.Close()
					t.Fatalf("round %d: acknowledged event %s v%d (%s) is missing after kill -9 (stream has %d events)", round, stream, a.version, a.id, len(evs))
				}
			}
			total += len(evs)
		}
		t.Logf("round %d: killed after %d acknowledged events; file holds %d events in %d streams, all acknowledged ones present, Verify OK", round, len(lines), rep.EventsChecked, rep.Streams)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if uint64(total) != rep.EventsChecked {
			t.Fatalf("round %d: streams hold %d events, the log %d", round, total, rep.EventsChecked)
		}
	}
}

// crashRound runs the child until it has acknowledged at least minAcks
// events, kills it with SIGKILL a random moment later, and returns every ack
// line it printed before dying.
func crashRound(t *testing.T, path string, minAcks int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		lines   []string
		reached = make(chan struct{})
		eof     = make(chan struct{})
	)
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			if len(lines) == minAcks {
				close(reached)
			}
			mu.Unlock()
		}
	}()
	select {
	case <-reached:
	case <-eof:
		_ = cmd.Wait()
		t.Fatalf("the child exited before %d acknowledgements: %s", minAcks, stderr.String())
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the child acknowledged fewer than %d events within a minute: %s", minAcks, stderr.String())
	}
	time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-eof // everything the child wrote before it died is still in the pipe
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child did not die of SIGKILL: %v; stderr: %s", err, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	return lines
}
