//go:build !linux

package projections

import "time"

// threadCPU is not measured on this platform.
func threadCPU() (time.Duration, bool) { return 0, false }

// processCPU is not measured on this platform.
func processCPU() (time.Duration, bool) { return 0, false }
