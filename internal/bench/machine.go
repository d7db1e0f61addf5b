package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the figures were measured. The absolute figures
// mean little without it; the ratios are meant to travel.
type Machine struct {
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
	// CPU is the model name from /proc/cpuinfo ("" where there is none).
	CPU       string `json:"cpu,omitempty"`
	GoVersion string `json:"go_version"`
}

func thisMachine() Machine {
	return Machine{
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
		CPU:        cpuModel(),
		GoVersion:  runtime.Version(),
	}
}

func (m Machine) String() string {
	cpu := m.CPU
	if cpu == "" {
		cpu = "CPU model unknown"
	}
	return fmt.Sprintf("%s/%s, GOMAXPROCS %d (%d CPUs), %s, %s", m.OS, m.Arch, m.GOMAXPROCS, m.NumCPU, cpu, m.GoVersion)
}

// cpuModel reads the first "model name" of /proc/cpuinfo (Linux x86; ARM
// kernels often have none, and other systems no such file).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// LoadAvg is the system's load average over 1, 5 and 15 minutes. On a
// shared machine it says how much else was running: a load above
// GOMAXPROCS means the figures were taken while competing for the cores.
type LoadAvg struct {
	One     float64 `json:"one"`
	Five    float64 `json:"five"`
	Fifteen float64 `json:"fifteen"`
	// Known is false where /proc/loadavg cannot be read.
	Known bool `json:"known"`
}

func loadAvg() LoadAvg {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return LoadAvg{}
	}
	return parseLoadAvg(string(b))
}

func parseLoadAvg(s string) LoadAvg {
	f := strings.Fields(s)
	if len(f) < 3 {
		return LoadAvg{}
	}
	var v [3]float64
	for i := range v {
		x, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return LoadAvg{}
		}
		v[i] = x
	}
	return LoadAvg{One: v[0], Five: v[1], Fifteen: v[2], Known: true}
}

func (l LoadAvg) String() string {
	if !l.Known {
		return "unknown"
	}
	return fmt.Sprintf("%.2f %.2f %.2f", l.One, l.Five, l.Fifteen)
}
