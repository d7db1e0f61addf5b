package postgres

import (
	"fmt"
	"testing"
)

func TestHeadCacheKeepsTheLatestHead(t *testing.T) {
	c := newHeadCache(8)
	c.put("s", head{version: 3, hash: "c"})
	c.put("s", head{version: 2, hash: "b"}) // an older append finishing late
	if h, ok := c.get("s"); !ok || h.version != 3 || h.hash != "c" {
		t.Fatalf("get = %+v, %v; want version 3", h, ok)
	}
	c.forget("s")
	if _, ok := c.get("s"); ok {
		t.Fatal("forgotten stream still cached")
	}
}

func TestHeadCacheIsBounded(t *testing.T) {
	c := newHeadCache(100)
	for i := range 1000 {
		c.put(fmt.Sprint(i), head{version: 1, hash: "h"})
		if n := len(c.m); n > 100 {
			t.Fatalf("cache holds %d heads, bound 100", n)
		}
	}
	if _, ok := c.get("999"); !ok {
		t.Fatal("the latest head was evicted")
	}
}

func TestDisabledHeadCache(t *testing.T) {
	c := newHeadCache(0)
	c.put("s", head{version: 1, hash: "h"})
	if _, ok := c.get("s"); ok {
		t.Fatal("a disabled cache answered")
	}
}
