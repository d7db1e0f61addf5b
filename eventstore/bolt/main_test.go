package bolt_test

import (
	"os"
	"testing"
)

// TestMain lets the crash test re-execute this test binary as the child
// process that appends until it is killed.
func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(runCrashChild(path))
	}
	os.Exit(m.Run())
}
