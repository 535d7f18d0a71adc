package natsserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// TestRestartKeepsState: a value stored through JetStream is there after
// the server restarts on the same address and store directory.
func TestRestartKeepsState(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "store")
	srv, err := Start(ctx, Config{Listen: "127.0.0.1:0", StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(srv.ClientURL())
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() == "0" {
		t.Fatalf("client URL %q: %v", srv.ClientURL(), err)
	}
	put := func(url string) {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "b", Storage: jetstream.FileStorage})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Create(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	put(srv.ClientURL())
	srv.Shutdown()

	srv, err = Start(ctx, Config{Listen: u.Host, StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	if srv.ClientURL() != u.String() {
		t.Errorf("restarted at %s, want %s", srv.ClientURL(), u)
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := js.KeyValue(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v" {
		t.Fatalf("after restart: %v %v", e, err)
	}
}

func TestStartErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no store", Config{Listen: "127.0.0.1:0"}, "no store directory"},
		{"bad address", Config{Listen: "localhost", StoreDir: t.TempDir()}, "want host:port"},
		{"bad port", Config{Listen: "127.0.0.1:http", StoreDir: t.TempDir()}, "not a port number"},
		{"every interface, no auth", Config{Listen: "0.0.0.0:0", StoreDir: t.TempDir()}, "beyond loopback without authentication"},
		{"empty host, no auth", Config{Listen: ":0", StoreDir: t.TempDir()}, "beyond loopback without authentication"},
		{"token and user", Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Auth: Auth{Token: "t", User: "u", Password: "p"}}, "cannot be combined"},
		{"user without password", Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Auth: Auth{User: "u"}}, "give both"},
		{"seed as nkey", Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Auth: Auth{NKeys: []string{"SUAB"}}}, "not a public user key"},
		{"cluster without a name", Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Name: "s1", Cluster: &Cluster{Listen: "127.0.0.1:0"}}, "a cluster needs a name"},
		{"clustered server without a name", Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Cluster: &Cluster{Name: "c", Listen: "127.0.0.1:0"}}, "needs a name of its own"},
		{"routes beyond loopback", Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Name: "s1", Cluster: &Cluster{Name: "c", Listen: "0.0.0.0:0"}}, "loopback only"},
		{"bad route", Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Name: "s1", Cluster: &Cluster{Name: "c", Listen: "127.0.0.1:0", Routes: []string{"::"}}}, "nats-route://"},
		{"no route", Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Name: "s1", Cluster: &Cluster{Name: "c", Listen: "127.0.0.1:0"}}, "no route"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := Start(ctx, tc.cfg)
			if err == nil {
				srv.Shutdown()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestBusyPort: a port another process holds fails Start at once (not
// after the ready timeout), and the error names the address.
func TestBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	begin := time.Now()
	srv, err := Start(ctx, Config{Listen: ln.Addr().String(), StoreDir: t.TempDir()})
	took := time.Since(begin)
	if err == nil {
		srv.Shutdown()
		t.Fatalf("started on %s, which another listener holds", ln.Addr())
	}
	for _, want := range []string{ln.Addr().String(), "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q should name %q", err, want)
		}
	}
	t.Logf("refused in %s: %v", took, err)
	// Bound: well below readyTimeout, which is what a busy port cost before.
	if took > 10*time.Second {
		t.Errorf("Start took %s to report a busy port", took)
	}
	// Nothing of Start waits on: before, a goroutine waited out readyTimeout.
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := goroutinesIn("natsserver.Start")
		if left == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a goroutine of the failed Start is still there:\n%s", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// goroutinesIn returns the stacks of the goroutines with fn in their stack.
func goroutinesIn(fn string) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			found = append(found, g)
		}
	}
	return strings.Join(found, "\n\n")
}

// TestAuth: with authentication configured, the server listens beyond
// loopback, refuses clients without the secret, and lets in those with it.
func TestAuth(t *testing.T) {
	seed, pub := newUserKey(t)
	for _, tc := range []struct {
		name string
		auth Auth
		good nats.Option
	}{
		{"token", Auth{Token: "s3cret-token"}, nats.Token("s3cret-token")},
		{"user", Auth{User: "daemon", Password: "pw"}, nats.UserInfo("daemon", "pw")},
		{"nkey", Auth{NKeys: []string{pub}}, nkeyOption(t, seed)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// Every interface: allowed because clients must authenticate.
			srv, err := Start(ctx, Config{Listen: "0.0.0.0:0", StoreDir: t.TempDir(), Auth: tc.auth})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown()
			u, _ := url.Parse(srv.ClientURL())
			local := "nats://127.0.0.1:" + u.Port()
			for _, bad := range []struct {
				name string
				opts []nats.Option
			}{
				{"no credentials", nil},
				{"wrong token", []nats.Option{nats.Token("guess")}},
				{"wrong password", []nats.Option{nats.UserInfo("daemon", "guess")}},
			} {
				nc, err := nats.Connect(local, append(bad.opts, nats.MaxReconnects(0))...)
				if err == nil {
					nc.Close()
					t.Errorf("%s: connected, want refused", bad.name)
				} else if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(err.Error(), "Authorization") {
					t.Errorf("%s: %v, want an authorization error", bad.name, err)
				}
			}
			nc, err := nats.Connect(local, tc.good)
			if err != nil {
				t.Fatalf("with the right credentials: %v", err)
			}
			if tc.auth.Token != "" {
				// docs/DAEMON.md: a token alone in the URL's user part.
				inURL, err := nats.Connect("nats://" + tc.auth.Token + "@127.0.0.1:" + u.Port())
				if err != nil {
					t.Fatalf("token in the URL: %v", err)
				}
				inURL.Close()
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			if _, err := js.AccountInfo(ctx); err != nil {
				t.Errorf("JetStream for an authenticated client: %v", err)
			}
		})
	}
}

func newUserKey(t *testing.T) (seed []byte, pub string) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ = kp.Seed()
	pub, _ = kp.PublicKey()
	return seed, pub
}

func nkeyOption(t *testing.T, seed []byte) nats.Option {
	file := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(file, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	opt, err := nats.NkeyOptionFromSeed(file)
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "localhost": true,
		"": false, "0.0.0.0": false, "::": false, "10.0.0.1": false, "example.com": false,
	} {
		if got := Loopback(host); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestBannerAtDebug: the server's startup banner (version lines, ASCII
// art, JetStream's settings) stays out of a JSON log at info level; at
// debug level it is there, each line a JSON object.
func TestBannerAtDebug(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		t.Run(level.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&syncWriter{w: &buf}, &slog.HandlerOptions{Level: level}))
			srv, err := Start(ctx, Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Log: log})
			if err != nil {
				t.Fatal(err)
			}
			srv.Shutdown()
			out := buf.String()
			for line := range strings.Lines(out) {
				if !json.Valid([]byte(line)) {
					t.Errorf("not a JSON line: %q", line)
				}
			}
			banner := strings.Contains(out, "Starting nats-server") && strings.Contains(out, "JETSTREAM")
			if level == slog.LevelInfo && (banner || strings.Contains(out, "Starting JetStream")) {
				t.Errorf("the banner is in the log at info:\n%s", out)
			}
			if level == slog.LevelDebug && !banner {
				t.Errorf("the banner is not in the log at debug:\n%s", out)
			}
		})
	}
}

// syncWriter serializes writes: the server logs from its goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestCluster: three servers routed on loopback form one JetStream
// cluster: a stream with three replicas is created through one server,
// written through another and read through the third, and it keeps
// serving with one server stopped.
func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var listen, routes []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listen = append(listen, l.Addr().String())
		routes = append(routes, "nats-route://"+l.Addr().String())
		l.Close()
	}
	var servers []*Server
	for i := range 3 {
		srv, err := Start(ctx, Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Name: fmt.Sprintf("s%d", i+1),
			Cluster: &Cluster{Name: "c", Listen: listen[i], Routes: routes}})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Shutdown()
		if srv.RouteURL() != routes[i] {
			t.Fatalf("route URL %q, want %q", srv.RouteURL(), routes[i])
		}
		servers = append(servers, srv)
	}
	js := make([]jetstream.JetStream, 3)
	for i, srv := range servers {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js[i], _ = jetstream.New(nc)
	}
	// The meta leader is elected once the servers have found each other;
	// until then the servers leave JetStream requests unanswered.
	var err error
	for {
		try, cancel := context.WithTimeout(ctx, time.Second)
		_, err = js[0].CreateStream(try, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3"}, Replicas: 3, Storage: jetstream.FileStorage})
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("an R3 stream on three routed servers: %v", err)
	}
	if _, err := js[1].Publish(ctx, "r3", []byte("a")); err != nil {
		t.Fatal(err)
	}
	servers[0].Shutdown()
	var m *jetstream.RawStreamMsg
	for {
		try, cancel := context.WithTimeout(ctx, time.Second)
		s, err := js[2].Stream(try, "R3")
		if err == nil {
			m, err = s.GetMsg(try, 1)
		}
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m == nil || string(m.Data) != "a" {
		t.Fatalf("the message written through s2, read through s3 with s1 stopped: %v", m)
	}
}
