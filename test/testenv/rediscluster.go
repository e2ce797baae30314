package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisCluster is a private Redis Cluster: masters redis-server processes
// (no replicas) on free loopback ports, each with its own directory under a
// temporary one that Stop removes. Between them they serve all 16384 slots.
type RedisCluster struct {
	dir   string
	ports []int
	nodes []*redisNode
}

type redisNode struct {
	port int
	log  string
	cmd  *exec.Cmd
	done <-chan struct{}
}

// redisBinaries are redis-server and redis-cli: REDIS_SERVER_BIN and
// REDIS_CLI_BIN, or on PATH.
func redisBinaries() (server, cli string, err error) {
	find := func(env, name string) (string, error) {
		p, err := exec.LookPath(name)
		if v := os.Getenv(env); v != "" {
			p, err = v, nil
			if _, serr := os.Stat(v); serr != nil {
				err = serr
			}
		}
		if err != nil {
			return "", fmt.Errorf("no %s binary (%w): install it with `apt-get install redis-server` "+
				"(`make services` does) or set %s", name, err, env)
		}
		return p, nil
	}
	if server, err = find("REDIS_SERVER_BIN", "redis-server"); err != nil {
		return "", "", err
	}
	if cli, err = find("REDIS_CLI_BIN", "redis-cli"); err != nil {
		return "", "", err
	}
	return server, cli, nil
}

// StartRedisCluster starts masters redis-server processes in cluster mode,
// joins them with `redis-cli --cluster create`, and waits until every node
// reports the cluster ok. The caller stops it (StartRedisClusterT does so when
// the test ends).
func StartRedisCluster(masters int) (_ *RedisCluster, err error) {
	if masters < 3 {
		// redis-cli refuses fewer: a cluster needs a majority of masters.
		return nil, errors.New("testenv: a Redis Cluster needs at least 3 masters")
	}
	server, cli, err := redisBinaries()
	if err != nil {
		return nil, fmt.Errorf("testenv: redis cluster: %w", err)
	}
	dir, err := os.MkdirTemp("", "ultramarket-redis-cluster-")
	if err != nil {
		return nil, fmt.Errorf("testenv: redis cluster dir: %w", err)
	}
	c := &RedisCluster{dir: dir}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	for range masters {
		// The cluster bus gets a port of its own (cluster-port): the default,
		// port+10000, may be taken or beyond 65535 for a kernel-chosen port.
		port, err := pickFreePort()
		if err != nil {
			return nil, err
		}
		bus, err := pickFreePort()
		if err != nil {
			return nil, err
		}
		n, err := startClusterNode(server, filepath.Join(dir, strconv.Itoa(port)), port, bus)
		if err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, n)
		c.ports = append(c.ports, port)
	}
	for _, n := range c.nodes {
		if err := n.waitPing(); err != nil {
			return nil, err
		}
	}

	args := []string{"--cluster", "create"}
	for _, p := range c.ports {
		args = append(args, net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput() // #nosec G204 -- the binary the test environment names, local ports
	if err != nil {
		return nil, fmt.Errorf("testenv: redis-cli --cluster create: %w\n%s", err, out)
	}
	if err := c.waitOK(); err != nil {
		return nil, err
	}
	return c, nil
}

// StartRedisClusterT is StartRedisCluster for one test: a cluster that cannot
// start fails the test (with how to get Redis), and it is stopped when the
// test ends.
func StartRedisClusterT(t testing.TB, masters int) *RedisCluster {
	t.Helper()
	c, err := StartRedisCluster(masters)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

func startClusterNode(server, dir string, port, bus int) (*redisNode, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("testenv: redis node dir: %w", err)
	}
	n, err := startRedisProcess(server, filepath.Join(dir, "redis.log"),
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
		"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
		"--cluster-node-timeout", "5000",
		"--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no")
	if err != nil {
		return nil, err
	}
	n.port = port
	return n, nil
}

// startRedisProcess starts redis-server with args, its output in logPath.
func startRedisProcess(server, logPath string, args ...string) (*redisNode, error) {
	n := &redisNode{log: logPath}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("testenv: redis log: %w", err)
	}
	defer logFile.Close()
	// Not tied to a context: it lives until killed.
	cmd := exec.CommandContext(context.Background(), server, args...) // #nosec G204 -- the binary the test environment names
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Killed with the test binary even if nothing else stops it (a panic, a kill).
	done, err := startChild(cmd)
	if err != nil {
		return nil, fmt.Errorf("testenv: start redis-server: %w", err)
	}
	n.cmd, n.done = cmd, done
	return n, nil
}

func (n *redisNode) client() *goredis.Client {
	return goredis.NewClient(&goredis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port)),
		DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
}

func (n *redisNode) waitPing() error {
	c := n.client()
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-n.done:
			out, _ := os.ReadFile(n.log)
			return fmt.Errorf("testenv: redis-server on port %d exited at start: %w\n%s", n.port, err, out)
		default:
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(n.log)
			return fmt.Errorf("testenv: redis-server on port %d did not answer: %w\n%s", n.port, err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOK waits until every node says cluster_state:ok with every slot
// assigned: only then does each node route every key.
func (c *RedisCluster) waitOK() error {
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.nodes {
		rc := n.client()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			info, err := rc.ClusterInfo(ctx).Result()
			cancel()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_slots_assigned:16384") {
				break
			}
			if time.Now().After(deadline) {
				_ = rc.Close()
				if err == nil {
					err = errors.New("cluster_state is not ok")
				}
				return fmt.Errorf("testenv: redis cluster node %d: %w\n%s", n.port, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = rc.Close()
	}
	return nil
}

// URL is the cluster in REDIS_URL's form: the first node as the URL's host,
// the others as addr parameters (every one a seed node).
func (c *RedisCluster) URL() string {
	q := url.Values{}
	for _, p := range c.ports[1:] {
		q.Add("addr", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	}
	u := url.URL{Scheme: "redis", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.ports[0])), RawQuery: q.Encode()}
	return u.String()
}

// KillNode kills the i-th master (0-based), as a crash would; its slots go
// unserved.
func (c *RedisCluster) KillNode(i int) { c.nodes[i].kill() }

// Stop kills every node and removes the cluster's directory. Safe to call
// more than once.
func (c *RedisCluster) Stop() {
	for _, n := range c.nodes {
		n.kill()
	}
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
		c.dir = ""
	}
}

func (n *redisNode) kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Kill()
		<-n.done
		n.cmd = nil
	}
}

// RedisSentinel is a private Redis master watched by one Sentinel, on free
// loopback ports, in a temporary directory removed when the test ends.
type RedisSentinel struct {
	sentinelPort int
	masterName   string
}

// StartRedisSentinelT starts a Redis and a Sentinel that monitors it as
// masterName, and waits until the Sentinel names the master's address. A
// failure fails the test (with how to get Redis); both are stopped when the
// test ends.
func StartRedisSentinelT(t testing.TB, masterName string) *RedisSentinel {
	t.Helper()
	server, _, err := redisBinaries()
	if err != nil {
		t.Fatalf("testenv: redis sentinel: %v", err)
	}
	dir := t.TempDir()
	masterPort, sentinelPort := freePort(t), freePort(t)
	master, err := startRedisProcess(server, filepath.Join(dir, "redis.log"),
		"--bind", "127.0.0.1", "--port", strconv.Itoa(masterPort), "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(master.kill)
	master.port = masterPort
	if err := master.waitPing(); err != nil {
		t.Fatal(err)
	}
	// Sentinel rewrites its config file, so it gets one of its own.
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nsentinel monitor %s 127.0.0.1 %d 1\n",
		sentinelPort, dir, masterName, masterPort)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatalf("testenv: sentinel config: %v", err)
	}
	sentinel, err := startRedisProcess(server, filepath.Join(dir, "sentinel.log"), conf, "--sentinel")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sentinel.kill)
	sentinel.port = sentinelPort

	sc := goredis.NewSentinelClient(&goredis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(sentinelPort)),
		DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	defer sc.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		addr, err := sc.GetMasterAddrByName(ctx, masterName).Result()
		cancel()
		if err == nil && len(addr) == 2 && addr[1] == strconv.Itoa(masterPort) {
			return &RedisSentinel{sentinelPort: sentinelPort, masterName: masterName}
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
			t.Fatalf("testenv: sentinel on port %d does not name master %s: %v %v\n%s", sentinelPort, masterName, addr, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// URL is the master in REDIS_URL's Sentinel form.
func (s *RedisSentinel) URL() string {
	return "redis://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.sentinelPort)) + "/0?master_name=" + url.QueryEscape(s.masterName)
}
