package projections

// chunked is an append-only sequence kept in fixed-size chunks. The views'
// per-event records (the timeline, the ranking's contribution records) grow
// to millions of entries during a replay; a plain slice would copy all of
// them every time it doubled and zero a fresh allocation twice the size,
// which profiling showed was a fifth of the whole apply. Chunks are never
// copied, and an element's address is stable once appended.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

// Len is the number of elements appended (with the slots AppendRun
// skipped, when runs are used).
func (c *chunked[T]) Len() int { return c.n }

// At is the i-th element (0 ≤ i < Len).
func (c *chunked[T]) At(i int) *T { return &c.chunks[i>>chunkBits][i&chunkMask] }

// Last is the last element; Len must be positive.
func (c *chunked[T]) Last() *T { return c.At(c.n - 1) }

// Append adds x at the end.
func (c *chunked[T]) Append(x T) {
	if c.n&chunkMask == 0 {
		c.chunks = append(c.chunks, make([]T, chunkSize))
	}
	c.chunks[c.n>>chunkBits][c.n&chunkMask] = x
	c.n++
}

// AppendRun adds xs (at most chunkSize of them) contiguously, starting a
// new chunk when they would not fit in the current one, and returns the
// index of the first; Run(off, len(xs)) gives them back as one slice.
func (c *chunked[T]) AppendRun(xs []T) int {
	if len(xs) == 0 {
		return c.n
	}
	if len(xs) > chunkSize {
		panic("projections: run longer than a chunk")
	}
	if room := chunkSize - c.n&chunkMask; c.n&chunkMask != 0 && room < len(xs) {
		c.n += room // the rest of this chunk stays unused
	}
	off := c.n
	for _, x := range xs {
		c.Append(x)
	}
	return off
}

// Run is the n elements appended by AppendRun at off.
func (c *chunked[T]) Run(off, n int) []T {
	if n == 0 {
		return nil
	}
	i := off & chunkMask
	return c.chunks[off>>chunkBits][i : i+n]
}
