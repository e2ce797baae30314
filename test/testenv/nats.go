package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultNATSURL is the NATS server (JetStream on) tests use unless
// TEST_NATS_URL names another.
const DefaultNATSURL = "nats://127.0.0.1:4222"

// NATSURL is TEST_NATS_URL, or the local NATS server.
func NATSURL() string {
	if v := os.Getenv("TEST_NATS_URL"); v != "" {
		return v
	}
	return DefaultNATSURL
}

// NATS connects to the test NATS server and checks that JetStream answers;
// the connection is closed when the test ends. An unreachable server fails
// the test with how to start one: tests never skip.
func NATS(t testing.TB) (*natsgo.Conn, jetstream.JetStream) {
	t.Helper()
	return NATSAt(t, NATSURL())
}

// NATSAt is NATS for the server at url (a private one, see StartNATSServer).
func NATSAt(t testing.TB, url string) (*natsgo.Conn, jetstream.JetStream) {
	t.Helper()
	nc, js, err := connectJetStream(url)
	if err != nil {
		t.Fatalf("testenv: NATS with JetStream is not reachable at %s: %v\n"+
			"Start it with `make services`, or `nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server` "+
			"(Debian: apt-get install nats-server), or point TEST_NATS_URL at one.", redactURL(url), err)
	}
	t.Cleanup(nc.Close)
	return nc, js
}

func connectJetStream(url string) (*natsgo.Conn, jetstream.JetStream, error) {
	nc, err := natsgo.Connect(url, natsgo.Timeout(3*time.Second), natsgo.Name("ultramarket-tests"))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = js.AccountInfo(ctx)
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// NATSStream returns a stream name and a subject prefix no other test uses
// (UT_<hex> and ut_<hex>), for a stream the code under test creates with the
// subjects prefix+".>" (streams on one server may not share subjects). The
// stream is deleted, if it exists, when the test ends.
func NATSStream(t testing.TB, js jetstream.JetStream) (stream, prefix string) {
	t.Helper()
	id := randomHex(t, 6)
	stream, prefix = "UT_"+strings.ToUpper(id), "ut_"+id
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("testenv: delete stream %s: %v", stream, err)
		}
	})
	return stream, prefix
}

// NATSServer is a private nats-server process (JetStream on, its store in a
// directory of the test) for tests that stop and restart NATS. It listens on
// a free loopback port, the same one across restarts, and is killed when the
// test ends.
type NATSServer struct {
	t     testing.TB
	bin   string
	port  int
	store string
	log   string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// NATSServerBinary is NATS_SERVER_BIN, or nats-server on PATH, or Debian's
// /usr/sbin/nats-server.
func NATSServerBinary() (string, error) {
	if v := os.Getenv("NATS_SERVER_BIN"); v != "" {
		return v, nil
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/nats-server"
	if _, err := os.Stat(debian); err != nil {
		return "", err
	}
	return debian, nil
}

// StartNATSServer starts a private nats-server and waits until JetStream
// answers on it.
func StartNATSServer(t testing.TB) *NATSServer {
	t.Helper()
	bin, err := NATSServerBinary()
	if err != nil {
		t.Fatalf("testenv: no nats-server binary (%v): install it with `apt-get install nats-server` "+
			"or set NATS_SERVER_BIN", err)
	}
	dir := t.TempDir()
	s := &NATSServer{t: t, bin: bin, port: freePort(t), store: filepath.Join(dir, "store"), log: filepath.Join(dir, "nats.log")}
	t.Cleanup(func() { s.Kill() })
	s.Start()
	return s
}

// URL is the server's client URL.
func (s *NATSServer) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// Start starts the server (again, on the same port and store) and waits
// until JetStream answers.
func (s *NATSServer) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatal("testenv: nats-server already running")
	}
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatalf("testenv: nats-server log: %v", err)
	}
	defer logFile.Close()
	// Not tied to a context: the server lives until Stop, Kill or the test's end.
	cmd := exec.CommandContext(context.Background(), s.bin, // #nosec G204 -- the binary the test environment names
		"-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", s.store)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("testenv: start nats-server: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		nc, _, err := connectJetStream(s.URL())
		if err == nil {
			nc.Close()
			return
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(s.log)
			s.t.Fatalf("testenv: nats-server on port %d did not come up: %v\n%s", s.port, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down the way an operator would (SIGTERM) and waits
// for it to exit.
func (s *NATSServer) Stop() { s.signal(syscall.SIGTERM) }

// Kill kills the server at once (SIGKILL), as a crash would.
func (s *NATSServer) Kill() { s.signal(syscall.SIGKILL) }

func (s *NATSServer) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server binds it; the server then fails to start and
// the test says so.
func freePort(t testing.TB) int {
	t.Helper()
	port, err := pickFreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// String names the server in test output.
func (s *NATSServer) String() string { return fmt.Sprintf("nats-server :%d", s.port) }
