package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// ErrCheckpointTarget is matched by the error of a relay whose checkpoint
// file was written for another destination (publisher kind, NATS stream or
// topic) than the one configured.
var ErrCheckpointTarget = errors.New("relay: checkpoint belongs to another destination")

// ErrCheckpointAhead is matched by the error of a relay whose checkpoint
// names a position past the end of the log: it refuses to start rather
// than skip the events recorded up to that position.
var ErrCheckpointAhead = errors.New("relay: checkpoint is ahead of the log")

// checkpointRecord is the checkpoint file: the position of the last event
// published and the destination it was published to.
type checkpointRecord struct {
	Position eventstore.Position `json:"position"`
	Target   string              `json:"target"`
}

// ReadCheckpoint reads a relay checkpoint file: the position of the last
// event published and the destination it names. ok is false when the file
// does not exist.
func ReadCheckpoint(path string) (pos eventstore.Position, target string, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return eventstore.Start, "", false, nil
	}
	if err != nil {
		return eventstore.Start, "", false, fmt.Errorf("relay: read checkpoint: %w", err)
	}
	var rec checkpointRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return eventstore.Start, "", false, fmt.Errorf("relay: checkpoint %s is corrupt: %w", path, err)
	}
	return rec.Position, rec.Target, true, nil
}

// writeCheckpoint replaces the checkpoint file atomically: a crash leaves
// either the old file or the new one, never a torn write, because the new
// content is made durable under a temporary name before the rename, and the
// rename itself is made durable by syncing the directory.
func writeCheckpoint(path string, rec checkpointRecord) (err error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("relay: write checkpoint: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err != nil {
		_ = f.Close()
		return fmt.Errorf("relay: write checkpoint: %w", err)
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("relay: sync checkpoint: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("relay: write checkpoint: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("relay: replace checkpoint: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("relay: sync checkpoint directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("relay: sync checkpoint directory: %w", err)
	}
	return nil
}

// checkpointer remembers the last published position and writes it every
// `every` events or when flushed (by the interval ticker and at the end of a
// run), so that a steady stream costs one fsync per batch rather than one
// per event. Saving only positions already published is what makes the
// relay at-least-once: a crash loses at most the record of a batch, never an
// event.
type checkpointer struct {
	path   string
	target string
	every  int

	mu        sync.Mutex
	published eventstore.Position
	saved     eventstore.Position
	pending   int
	writes    uint64
}

func newCheckpointer(path, target string, every int, at eventstore.Position) *checkpointer {
	return &checkpointer{path: path, target: target, every: every, published: at, saved: at}
}

// advance records that the event at p was published.
func (c *checkpointer) advance(p eventstore.Position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.published = p
	c.pending++
	if c.pending >= c.every {
		return c.saveLocked()
	}
	return nil
}

// flush writes the last published position if it was not written yet.
func (c *checkpointer) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.published == c.saved {
		return nil
	}
	return c.saveLocked()
}

// save writes the current position whether or not it changed.
func (c *checkpointer) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saveLocked()
}

func (c *checkpointer) saveLocked() error {
	if err := writeCheckpoint(c.path, checkpointRecord{Position: c.published, Target: c.target}); err != nil {
		return err
	}
	c.saved = c.published
	c.pending = 0
	c.writes++
	return nil
}

func (c *checkpointer) state() (published, saved eventstore.Position, writes uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.published, c.saved, c.writes
}
