package main

// The harness's own child roles, run by re-executing the harness binary with
// -role: the fake upstream catalog (test/fakes/catalog, seeded) and a bare
// httputil.ReverseProxy in front of it. Each runs in a process of its own so
// that the load generator's CPU and GC are not mixed into what it serves,
// the same as for the gateways and nginx. Each prints "LISTEN <url>" once it
// listens and serves until SIGTERM/SIGINT (or its parent dies: Pdeathsig).

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ultramarket/gateway/test/fakes/catalog"
)

// upstreamProducts is how many products the fake upstream holds; a list page
// (20 items) is then a realistic ~6 KB answer.
const upstreamProducts = 60

func waitForTermination() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}

// runUpstream serves the fake catalog, seeded.
func runUpstream() int {
	srv := catalog.New()
	categories := []string{"ceramics", "textiles", "kitchen", "spices", "electronics"}
	sellers := []string{
		"5d0c3c9e-7a51-4b36-9d0c-1f7f2b6c0a01",
		"5d0c3c9e-7a51-4b36-9d0c-1f7f2b6c0a02",
		"5d0c3c9e-7a51-4b36-9d0c-1f7f2b6c0a03",
	}
	base := time.Now().UTC().Add(-time.Hour)
	for i := range upstreamProducts {
		srv.Seed(catalog.Product{
			Name:        fmt.Sprintf("Rishton lagan No. %d", i+1),
			Description: "Hand-painted ceramic plate from Rishton, Fergana valley; glazed, food safe.",
			Category:    categories[i%len(categories)],
			Price:       int64(150_000 + 1_000*i),
			Stock:       1_000,
			SellerID:    sellers[i%len(sellers)],
			Active:      true,
			CreatedAt:   base.Add(time.Duration(i) * time.Second),
		})
	}
	fmt.Printf("LISTEN %s\n", srv.URL())
	waitForTermination()
	srv.Close()
	return 0
}

// runReverseProxy serves a bare httputil.ReverseProxy to upstream.
func runReverseProxy(upstream string) int {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		fmt.Fprintln(os.Stderr, "revproxy: bad -upstream:", upstream)
		return 2
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 256
	rp.Transport = tr
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "revproxy:", err)
		return 1
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	waitForTermination()
	_ = srv.Close()
	return 0
}
