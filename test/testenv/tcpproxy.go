package testenv

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// TCPProxy forwards loopback connections to a target and can lose the
// target's answers on purpose: with DropReplies on, what the client sends
// still reaches the server, but nothing the server sends back reaches the
// client. That is a lost acknowledgement, the one failure a retry cannot
// tell from "the message never arrived".
type TCPProxy struct {
	ln     net.Listener
	target string
	drop   atomic.Bool
	refuse atomic.Bool

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// StartTCPProxy listens on a free loopback port and forwards to target
// (host:port). It is closed, with every connection, when the test ends.
func StartTCPProxy(t testing.TB, target string) *TCPProxy {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy listen: %v", err)
	}
	p := &TCPProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *TCPProxy) Addr() string { return p.ln.Addr().String() }

// DropReplies turns the loss of the target's answers on or off.
func (p *TCPProxy) DropReplies(on bool) { p.drop.Store(on) }

// Refuse turns the target's outage on or off: while on, every connection
// open is cut and every new one is closed at once, as a server that is down
// (the proxy's port stays bound, so a client keeps trying it).
func (p *TCPProxy) Refuse(on bool) {
	p.refuse.Store(on)
	if on {
		p.CutAll()
	}
}

// CutAll closes every open connection (the client sees a disconnection and
// reconnects through the proxy).
func (p *TCPProxy) CutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

// Close stops accepting and closes every connection.
func (p *TCPProxy) Close() {
	_ = p.ln.Close()
	p.CutAll()
	p.wg.Wait()
}

func (p *TCPProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refuse.Load() {
			_ = client.Close()
			continue
		}
		var d net.Dialer
		server, err := d.DialContext(context.Background(), "tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(server, client, nil)
		go p.pipe(client, server, &p.drop)
	}
}

// pipe copies from src to dst until either side closes, throwing the bytes
// away while drop is set, then closes both.
func (p *TCPProxy) pipe(dst, src net.Conn, drop *atomic.Bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && (drop == nil || !drop.Load()) {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil { // EOF, a reset or a closed connection: the pipe ends either way
			break
		}
	}
	_ = src.Close()
	_ = dst.Close()
	p.mu.Lock()
	delete(p.conns, src)
	delete(p.conns, dst)
	p.mu.Unlock()
}
