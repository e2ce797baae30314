package main

// Where the CPU went during a window: machine-wide from /proc/stat, the
// harness's own (the load generator) from getrusage, and, from
// /proc/<pid>/stat, the user processes that are not part of the bench:
// anything but the harness, its children (each in a process group of its
// own), Postgres and Redis. Those are foreign: another build or test run
// sharing the machine, which makes that window's numbers low and noisy. The
// estimate is a lower bound: a process that starts and ends inside the
// window is not seen, and neither are other clients' Postgres backends.

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchGroups returns the process groups of the harness's children; set by
// bench once it has a procSet.
var benchGroups = func() map[int]bool { return nil }

// group is the process group of p, for driveConfig.server.
func group(p *proc) map[int]bool {
	if p == nil {
		return nil
	}
	return map[int]bool{p.pid(): true}
}

type cpuSnap struct {
	at      time.Time
	all     float64 // every CPU's ticks, idle included (/proc/stat)
	busy    float64 // ticks not idle or waiting for I/O
	self    time.Duration
	foreign map[int]float64 // ticks of each user process outside the bench
	server  float64         // ticks of the processes of the server under test
	ok      bool
}

// takeCPU reads the counters; server is the process groups of the server
// under test (nil: none).
func takeCPU(server map[int]bool) cpuSnap {
	s := cpuSnap{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, _ := strconv.ParseFloat(v, 64)
		s.all += n
		if i != 3 && i != 4 {
			s.busy += n
		}
	}
	s.foreign, s.server = scanProcs(server)
	s.ok = true
	return s
}

// scanProcs returns the CPU ticks (utime+stime) of every user process that
// is not part of the bench, and the sum of those of the processes in the
// groups of server.
func scanProcs(server map[int]bool) (foreign map[int]float64, serverTicks float64) {
	groups := benchGroups()
	self := os.Getpid()
	out := map[int]float64{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		st := string(b)
		open, end := strings.IndexByte(st, '('), strings.LastIndexByte(st, ')')
		if open < 0 || end < open {
			continue
		}
		comm := st[open+1 : end]
		f := strings.Fields(st[end+1:]) // f[0] is field 3 (state)
		if len(f) < 13 {
			continue
		}
		pgrp, _ := strconv.Atoi(f[2])
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseFloat(f[11], 64)
		stt, _ := strconv.ParseFloat(f[12], 64)
		if server[pgrp] {
			serverTicks += ut + stt
		}
		switch {
		case pgrp == 0 || ppid == 2 || pid == 1: // kernel threads, init
			continue
		case groups[pgrp], ppid == self: // the harness's children (pgbench too)
			continue
		case comm == "postgres", strings.HasPrefix(comm, "redis-server"):
			continue
		}
		out[pid] = ut + stt
	}
	return out, serverTicks
}

type cpuUse struct {
	busy    float64       // cores busy machine-wide
	self    float64       // cores used by the harness
	foreign float64       // cores used by processes outside the bench (a lower bound)
	server  time.Duration // CPU time of the server under test
}

// since is the CPU used between a and s, in cores.
func (s cpuSnap) since(a cpuSnap) cpuUse {
	var u cpuUse
	wall := s.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return u
	}
	u.self = (s.self - a.self).Seconds() / wall
	if !s.ok || !a.ok || s.all <= a.all {
		return u
	}
	cores := float64(runtime.NumCPU())
	perTick := cores / (s.all - a.all) // cores for one tick over the interval
	u.server = time.Duration((s.server - a.server) * perTick * wall * float64(time.Second))
	u.busy = (s.busy - a.busy) * perTick
	var foreign float64
	for pid, t := range s.foreign {
		foreign += t - a.foreign[pid] // a process started meanwhile counts whole
	}
	u.foreign = max(0, foreign*perTick)
	return u
}
