package main

// Child processes: every process the harness starts (the two gateways, the
// fake upstream, the Go ReverseProxy, nginx) goes through procSet, which puts
// it in a process group of its own (so the terminal's Ctrl-C reaches only the
// harness, which then stops them in order) and asks the kernel to SIGKILL it
// should the harness die without cleaning up (Pdeathsig). stopAll sends
// SIGTERM to each group, waits a moment, then SIGKILLs what is left.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's error, once done is closed
}

// alive reports whether the process is still running.
func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// tail is the last n lines of the process's log, for error messages.
func (p *proc) tail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type procSet struct {
	mu    sync.Mutex
	procs []*proc
}

// start runs cmd with its stdout and stderr appended to logPath. When
// announce is true, the child's first stdout line must be "LISTEN <url>"
// (the harness's own child roles print it) and start returns that URL; the
// rest of its output goes to the log.
func (s *procSet) start(name string, cmd *exec.Cmd, logPath string, announce bool) (*proc, string, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, "", err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = logf
	var stdout io.ReadCloser
	if announce {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			_ = logf.Close()
			return nil, "", err
		}
	} else {
		cmd.Stdout = logf
	}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, "", fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()

	urlc := make(chan string, 1)
	copied := make(chan struct{})
	if announce {
		go func() {
			defer close(copied)
			r := bufio.NewReader(stdout)
			line, err := r.ReadString('\n')
			if err == nil && strings.HasPrefix(line, "LISTEN ") {
				urlc <- strings.TrimSpace(strings.TrimPrefix(line, "LISTEN "))
			} else {
				_, _ = logf.WriteString(line)
			}
			_, _ = io.Copy(logf, r)
		}()
	} else {
		close(copied)
	}
	go func() {
		<-copied // Wait closes the pipe: read it to the end first
		p.err = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	if !announce {
		return p, "", nil
	}
	select {
	case u := <-urlc:
		return p, u, nil
	case <-p.done:
		return p, "", fmt.Errorf("%s exited before listening: %v\n%s", name, p.err, p.tail(20)) //nolint:errorlint // p.err is nil after a clean exit, which %w cannot print; the message is for a person
	case <-time.After(15 * time.Second):
		return p, "", fmt.Errorf("%s did not announce its address within 15s", name)
	}
}

// groups is the process groups of the children (each leads its own).
func (s *procSet) groups() map[int]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]bool, len(s.procs))
	for _, p := range s.procs {
		out[p.pid()] = true
	}
	return out
}

// stopAll stops every process still running: SIGTERM to its group, up to
// grace to exit, then SIGKILL. Safe to call more than once.
func (s *procSet) stopAll(grace time.Duration) {
	s.mu.Lock()
	procs := append([]*proc(nil), s.procs...)
	s.mu.Unlock()
	for _, p := range procs {
		if p.alive() {
			_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
		}
	}
	deadline := time.After(grace)
	for _, p := range procs {
		select {
		case <-p.done:
		case <-deadline:
		}
	}
	for _, p := range procs {
		// The group may outlive its leader (nginx workers): kill the group
		// whether or not the leader is still there.
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(2 * time.Second):
		}
	}
}

// freeAddr is a loopback address with a port the kernel just handed out.
func freeAddr() (string, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// waitTCP waits until addr accepts a connection, p exits, or ctx ends.
func waitTCP(ctx context.Context, p *proc, addr string, limit time.Duration) error {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		c, err := (&net.Dialer{Timeout: 200 * time.Millisecond}).DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = c.Close()
			return nil
		}
		if !p.alive() {
			return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, p.tail(20)) //nolint:errorlint // p.err is nil after a clean exit, which %w cannot print; the message is for a person
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New(p.name + " did not listen on " + addr + " in time")
}

// memStatus reads VmHWM and VmRSS (bytes) of pid from /proc.
func memStatus(pid int) (hwm, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			hwm = kb << 10
		case "VmRSS:":
			rss = kb << 10
		}
	}
	if hwm == 0 {
		return 0, 0, errors.New("no VmHWM in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return hwm, rss, nil
}

// resetHWM resets pid's peak RSS to its current RSS (Linux clear_refs "5"),
// so the next VmHWM is the peak of what follows.
func resetHWM(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}
