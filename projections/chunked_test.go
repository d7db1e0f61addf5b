package projections

import "testing"

func TestChunked(t *testing.T) {
	var c chunked[int]
	for i := range 3*chunkSize + 7 {
		c.Append(i)
	}
	if c.Len() != 3*chunkSize+7 {
		t.Fatalf("Len = %d", c.Len())
	}
	for _, i := range []int{0, 1, chunkSize - 1, chunkSize, 2*chunkSize + 3, 3*chunkSize + 6} {
		if got := *c.At(i); got != i {
			t.Errorf("At(%d) = %d", i, got)
		}
	}
	if *c.Last() != 3*chunkSize+6 {
		t.Errorf("Last = %d", *c.Last())
	}
	p := c.At(5)
	for range chunkSize {
		c.Append(-1)
	}
	if p != c.At(5) || *p != 5 {
		t.Error("an element moved when the sequence grew")
	}
}

func TestChunkedRuns(t *testing.T) {
	var c chunked[int]
	cases := []struct {
		name string
		n    int
	}{
		{"empty", 0}, {"one", 1}, {"fills most of the chunk", chunkSize - 3}, {"does not fit: new chunk", 10},
		{"a whole chunk", chunkSize}, {"after a whole chunk", 2},
	}
	type run struct{ off, n, base int }
	var runs []run
	for k, tc := range cases {
		xs := make([]int, tc.n)
		for i := range xs {
			xs[i] = k*100000 + i
		}
		off := c.AppendRun(xs)
		if tc.n > 0 && off>>chunkBits != (off+tc.n-1)>>chunkBits {
			t.Errorf("%s: run at %d of %d straddles two chunks", tc.name, off, tc.n)
		}
		runs = append(runs, run{off, tc.n, k * 100000})
	}
	for k, r := range runs {
		got := c.Run(r.off, r.n)
		if len(got) != r.n {
			t.Fatalf("%s: Run length %d, want %d", cases[k].name, len(got), r.n)
		}
		for i, x := range got {
			if x != r.base+i {
				t.Fatalf("%s: element %d = %d, want %d", cases[k].name, i, x, r.base+i)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a run longer than a chunk was accepted")
		}
	}()
	c.AppendRun(make([]int, chunkSize+1))
}
