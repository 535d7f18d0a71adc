package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/bench/testsubject"
	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/internal/natsserver"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// startCluster starts n embedded servers routed on loopback into one
// JetStream cluster and waits until it takes replicated streams.
func startCluster(ctx context.Context, t *testing.T, n int) []*natsserver.Server {
	t.Helper()
	var listen, routes []string
	for range n {
		addr := freeAddr(t)
		listen, routes = append(listen, addr), append(routes, "nats-route://"+addr)
	}
	servers := make([]*natsserver.Server, n)
	for i := range n {
		srv, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Name: fmt.Sprintf("s%d", i+1),
			Cluster: &natsserver.Cluster{Name: "bestpatch", Listen: listen[i], Routes: routes}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
		servers[i] = srv
	}
	// Until the servers have elected a meta leader they leave JetStream
	// requests unanswered.
	js, err := jetstream.New(connect(t, servers[0].ClientURL()))
	if err != nil {
		t.Fatal(err)
	}
	for {
		try, cancel := context.WithTimeout(ctx, time.Second)
		_, err := js.CreateStream(try, jetstream.StreamConfig{Name: "PROBE", Subjects: []string{"probe"}, Replicas: n, Storage: jetstream.MemoryStorage})
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the cluster of %d servers never took a replicated stream: %v", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := js.DeleteStream(ctx, "PROBE"); err != nil {
		t.Fatal(err)
	}
	return servers
}

// urlsFrom lists the servers' client URLs starting at the i-th: a
// connection goes to that one first and fails over to the others.
func urlsFrom(servers []*natsserver.Server, i int) string {
	var urls []string
	for k := range servers {
		urls = append(urls, servers[(i+k)%len(servers)].ClientURL())
	}
	return strings.Join(urls, ",")
}

// catJob is a job whose runs cost next to nothing: the test command prints
// go test's JSON from a file of the repository, which the candidates edit.
// "fix" makes TestA pass, "wrong" makes TestA pass and TestB fail.
func catJob(t *testing.T, id string) selector.Job {
	t.Helper()
	line := func(action, test string) string {
		return fmt.Sprintf(`{"Action":%q,"Package":"p","Test":%q}`, action, test) + "\n"
	}
	out := func(a, b string) string {
		return line("run", "TestA") + line(a, "TestA") + line("run", "TestB") + line(b, "TestB")
	}
	repo := t.TempDir()
	if err := testsubject.Repo(repo, map[string]string{"out.json": out("fail", "pass")}); err != nil {
		t.Fatal(err)
	}
	job := selector.Job{ID: id, Options: selector.Options{BaseRuns: 1}, Task: selector.Task{ID: "cat", Env: executor.Environment{Repo: repo},
		TestCommand: "cat out.json", Format: executor.GoJSON, Timeout: selector.Duration(time.Minute)}}
	for _, c := range []struct{ id, a, b string }{{"fix", "pass", "pass"}, {"wrong", "pass", "fail"}} {
		patch, err := testsubject.Diff(repo, testsubject.NewFile("out.json", out(c.a, c.b)))
		if err != nil {
			t.Fatal(err)
		}
		job.Candidates = append(job.Candidates, scoring.Candidate{ID: c.id, Patch: patch})
	}
	return job
}

// TestClusterServerKilled: three daemons, each on its own server of a
// three-server JetStream cluster, with three replicas of every stream and
// bucket; one server stops in the middle of a batch. Every job ends once,
// with the verdict, every run's result is stored once, and each job has
// one terminal event. Replica counts the cluster cannot hold, or fewer
// than the streams have, are refused with what to do.
func TestClusterServerKilled(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	servers := startCluster(ctx, t, 3)
	local := newLocal(t)
	for i := range servers {
		// Daemon i on server i first; to another when it stops.
		nc, err := nats.Connect(urlsFrom(servers, i), nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		d, err := service.Start(ctx, service.WithOpTimeout(service.Config{Conn: nc, Name: fmt.Sprintf("d%d", i+1), Exec: local, Slots: 2,
			Replicas: 3, AckWait: 2 * time.Second, Log: testLog(t)}, 5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Shutdown(context.Background()) })
	}
	for _, tc := range []struct {
		replicas int
		want     string
	}{{1, "start it with --replicas 3"}, {5, "fewer servers that can hold one"}} {
		_, err := service.Start(ctx, service.Config{Conn: connect(t, servers[0].ClientURL()), Exec: local, Replicas: tc.replicas})
		if !errors.Is(err, service.ErrReplicas) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("a daemon with %d replicas on the 3-replica cluster: %v; want ErrReplicas saying %q", tc.replicas, err, tc.want)
		}
	}

	// The client stays on a server that is not stopped.
	c := newClient(t, urlsFrom(servers, 0))
	watch := connect(t, servers[0].ClientURL())
	// Jobs, not messages: a scoring step redelivered after the server stops
	// publishes its verdict again (the stream keeps one, by message ID; a
	// plain subscriber sees both).
	var mu sync.Mutex
	endedJobs := map[string]bool{}
	sub, err := watch.Subscribe(wire.VerdictSubject("*"), func(m *nats.Msg) { mu.Lock(); endedJobs[m.Subject] = true; mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	const jobs = 18
	job := catJob(t, "")
	for i := range jobs {
		job.ID = fmt.Sprintf("batch-%02d", i)
		if _, err := c.Submit(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(ctx, t, "a quarter of the jobs to end", func() bool { mu.Lock(); defer mu.Unlock(); return len(endedJobs) >= jobs/4 })
	mu.Lock()
	t.Logf("stopping server s2 with %d of %d jobs ended", len(endedJobs), jobs)
	mu.Unlock()
	servers[1].Shutdown()

	// Every job's outcome, in the verdicts stream: read until it holds one
	// for every job (a job lost would end the wait at the deadline).
	waitFor(ctx, t, "every job to end", func() bool { mu.Lock(); defer mu.Unlock(); return len(endedJobs) >= jobs })
	js, err := jetstream.New(connect(t, servers[0].ClientURL()))
	if err != nil {
		t.Fatal(err)
	}
	var outcomes map[string]wire.Outcome
	waitFor(ctx, t, "every job's outcome in the verdicts stream", func() bool {
		outcomes = map[string]wire.Outcome{}
		readStream(ctx, t, js, wire.VerdictsStream, func(subject string, data []byte) {
			var out wire.Outcome
			if err := json.Unmarshal(data, &out); err != nil {
				t.Errorf("%s: %v", subject, err)
			}
			outcomes[out.Job] = out
		})
		return len(outcomes) >= jobs
	})
	// The terminal events, once per job.
	terminal := map[string]int{}
	readStream(ctx, t, js, wire.EventsStream, func(subject string, data []byte) {
		var e wire.Event
		if err := json.Unmarshal(data, &e); err != nil {
			t.Errorf("%s: %v", subject, err)
		}
		if e.Kind == wire.EventSelected || e.Kind == wire.EventFailed || e.Kind == wire.EventCancelled {
			terminal[e.Job]++
		}
	})
	// The stored results (created first-writer-wins: one per run).
	results := map[string]int{}
	kv, err := js.KeyValue(ctx, wire.ResultsBucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for key := range keys.Keys() {
		job, _, _ := strings.Cut(key, ".")
		results[job]++
	}
	for i := range jobs {
		id := fmt.Sprintf("batch-%02d", i)
		out := outcomes[id]
		if out.State != wire.Done || out.Report == nil || out.Report.Verdict.Chosen != "fix" || len(out.Report.Runs) != 3 {
			t.Errorf("job %s ended %q (%s) with %+v; want done, fix chosen, 3 runs", id, out.State, out.Error, out.Report)
		}
		if terminal[id] != 1 || results[id] != 3 {
			t.Errorf("job %s: %d terminal events and %d results stored, want 1 and 3", id, terminal[id], results[id])
		}
	}
	if len(outcomes) != jobs {
		t.Errorf("%d outcomes for %d jobs", len(outcomes), jobs)
	}
}

// readStream passes every message of a stream to f, in order. Right after
// a server of the cluster stops, a new consumer can be created before it
// has a leader that answers (fetch: "no responders"), so a read that fails
// is tried again from the start with a fresh consumer, until ctx ends.
func readStream(ctx context.Context, t *testing.T, js jetstream.JetStream, stream string, f func(subject string, data []byte)) {
	t.Helper()
	type msg struct {
		subject string
		data    []byte
	}
	read := func() ([]msg, error) {
		st, err := js.Stream(ctx, stream)
		if err != nil {
			return nil, err
		}
		info, err := st.Info(ctx)
		if err != nil {
			return nil, err
		}
		cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return nil, err
		}
		var msgs []msg
		for n := uint64(0); n < info.State.Msgs; {
			batch, err := cons.Fetch(int(min(info.State.Msgs-n, 500)), jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				return nil, err
			}
			got := 0
			for m := range batch.Messages() {
				msgs = append(msgs, msg{m.Subject(), m.Data()})
				got++
			}
			if got == 0 {
				return nil, fmt.Errorf("%d of %d messages read: %v", n, info.State.Msgs, batch.Error())
			}
			n += uint64(got)
		}
		return msgs, nil
	}
	for {
		msgs, err := read()
		if err == nil {
			for _, m := range msgs {
				f(m.subject, m.data)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s: %v (and the context ended: %v)", stream, err, ctx.Err())
		case <-time.After(250 * time.Millisecond):
			t.Logf("stream %s: %v; reading again", stream, err)
		}
	}
}

// TestReplicasOnOneServer: more than one replica on a server that is not
// clustered is refused, saying what to do; nothing is half created.
func TestReplicasOnOneServer(t *testing.T) {
	ns := startNATS(t)
	ctx := ctxFor(t, time.Minute)
	_, err := service.Start(ctx, service.Config{Conn: connect(t, ns.ClientURL()), Exec: newLocal(t), Replicas: 3})
	if !errors.Is(err, service.ErrReplicas) || !strings.Contains(err.Error(), "not clustered") || !strings.Contains(err.Error(), "--replicas 1") {
		t.Fatalf("3 replicas on one server: %v; want ErrReplicas saying it is not clustered and to use --replicas 1", err)
	}
	startDaemon(t, ns.ClientURL(), service.Config{Name: "d1", Replicas: 1})
}
