package service_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/executor/local"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

const example = "../../testdata/example"

// testLog is where daemons log in tests: the test log when -v, else nothing.
func testLog(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// natsServer is an embedded NATS server with its store directory and
// address, so that a test can restart it where it was.
type natsServer struct {
	*natsserver.Server
	dir, listen string
}

// startNATS starts a server on a free port of 127.0.0.1 with file storage
// in a temporary directory.
func startNATS(t testing.TB) *natsServer {
	t.Helper()
	ns := &natsServer{dir: filepath.Join(t.TempDir(), "nats"), listen: "127.0.0.1:0"}
	ns.start(t)
	u, err := url.Parse(ns.ClientURL()) // nats://127.0.0.1:PORT
	if err != nil {
		t.Fatal(err)
	}
	ns.listen = u.Host
	t.Cleanup(func() { ns.Shutdown() })
	return ns
}

func (ns *natsServer) start(t testing.TB) {
	t.Helper()
	srv, err := natsserver.Start(context.Background(), natsserver.Config{Listen: ns.listen, StoreDir: ns.dir})
	if err != nil {
		t.Fatal(err)
	}
	ns.Server = srv
}

// restart stops the server and starts it again on the same port and store.
func (ns *natsServer) restart(t testing.TB) {
	t.Helper()
	ns.Shutdown()
	ns.start(t)
}

// connect opens a connection that reconnects for as long as it takes.
func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// newLocal is the Local executor, its scratch space in the test's temp dir.
func newLocal(t testing.TB) *local.Executor {
	l := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	t.Cleanup(func() { l.Close() })
	return l
}

// startDaemon starts an in-process daemon on its own connection.
func startDaemon(t testing.TB, url string, cfg service.Config) *service.Daemon {
	t.Helper()
	cfg.Conn = connect(t, url)
	if cfg.Exec == nil {
		cfg.Exec = newLocal(t)
	}
	if cfg.Slots == 0 {
		cfg.Slots = 2
	}
	if cfg.Log == nil {
		cfg.Log = testLog(t)
	}
	d, err := service.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	return d
}

func newClient(t testing.TB, url string) *client.Client {
	t.Helper()
	c, err := client.New(connect(t, url))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exampleJob is the bundled example as a job. Every candidate runs: the
// daemon's tests count each kind of run (a patch that does not apply, a
// cached run); TestAdaptiveMatchesInProcess runs it adaptively.
func exampleJob(t testing.TB, id string) selector.Job {
	t.Helper()
	tasks, err := selector.LoadTasks(filepath.Join(example, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	preds, err := filepath.Glob(filepath.Join(example, "preds", "*.jsonl"))
	if err != nil || len(preds) == 0 {
		t.Fatalf("example predictions: %v %v", preds, err)
	}
	cands, err := selector.LoadPredictions(preds)
	if err != nil {
		t.Fatal(err)
	}
	return selector.Job{ID: id, Task: tasks[0], Candidates: cands[tasks[0].ID], Options: selector.Options{Execution: selector.ExecutionAll}}
}

var reference struct {
	once sync.Once
	rep  selector.Report
	err  error
}

// referenceReport is the example's report from selector.Selector.Select in
// process, computed once per test binary.
func referenceReport(t testing.TB) selector.Report {
	t.Helper()
	reference.once.Do(func() {
		dir, err := os.MkdirTemp("", "bestpatch-reference-")
		if err != nil {
			reference.err = err
			return
		}
		defer os.RemoveAll(dir)
		l := local.New(local.Config{Logger: slog.New(slog.DiscardHandler), TempDir: dir})
		defer l.Close()
		sel := &selector.Selector{Exec: l, Pool: selector.NewPool(2)}
		reference.rep, reference.err = sel.Select(context.Background(), exampleJob(t, "reference"))
	})
	if reference.err != nil {
		t.Fatalf("in-process reference: %v", reference.err)
	}
	return reference.rep
}

// sameVerdict fails unless two reports hold the same verdict and matrix.
func sameVerdict(t testing.TB, got, want selector.Report) {
	t.Helper()
	g, _ := json.Marshal(struct {
		V any
		M any
		D any
	}{got.Verdict, got.Matrix, got.Dropped})
	w, _ := json.Marshal(struct {
		V any
		M any
		D any
	}{want.Verdict, want.Matrix, want.Dropped})
	if string(g) != string(w) {
		t.Fatalf("the daemon's verdict differs from the in-process one:\n got: %s\nwant: %s", g, w)
	}
}

// storedResults reads every stored result of a job, by run ID.
func storedResults(t testing.TB, url, job string) map[string]wire.RunResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	js, err := jetstream.New(connect(t, url))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, wire.ResultsBucket)
	if err != nil {
		t.Fatal(err)
	}
	lister, err := kv.ListKeysFiltered(ctx, job+".*")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]wire.RunResult{}
	for key := range lister.Keys() {
		hist, err := kv.History(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 1 {
			t.Errorf("result %s was written %d times, want once", key, len(hist))
		}
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(hist[0].Value(), &env); err != nil {
			t.Fatal(err)
		}
		var rr wire.RunResult
		if err := json.Unmarshal(env.Data, &rr); err != nil {
			t.Fatalf("result %s: %v", key, err)
		}
		if _, dup := out[rr.Run]; dup {
			t.Errorf("run %s has two results", rr.Run)
		}
		out[rr.Run] = rr
	}
	return out
}

// freeAddr returns a free TCP address on 127.0.0.1.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// ctxFor is a context that ends with the test, bounded as a safety net
// against hangs (not a speed requirement).
func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
