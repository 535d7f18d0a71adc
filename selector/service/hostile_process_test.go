package service_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/bestpatch/bestpatch/executor"
	"github.com/bestpatch/bestpatch/executor/docker"
	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector"
	"github.com/bestpatch/bestpatch/selector/client"
	"github.com/bestpatch/bestpatch/selector/service"
	"github.com/bestpatch/bestpatch/selector/wire"
)

// The probes of an operator's mistakes and of faults, on `bestpatch serve`
// processes. docs/DAEMON.md ("Threat model") names these tests.

// needBinary skips or fails a test that runs the bestpatch binary.
func needBinary(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("the bestpatch binary did not build: %v", buildErr)
	}
	if binary == "" {
		t.Skip("no bestpatch binary (-short)")
	}
}

// TestServeRefusesUnsafeSetups: serve refuses to start, at once and with a
// message that names the flag to add or change, when it would run jobs
// on the host unsandboxed, listen beyond loopback with no authentication,
// or listen on a port that is taken (before: "address already in use",
// then "Server is ready", then a 2-minute hang).
func TestServeRefusesUnsafeSetups(t *testing.T) {
	needBinary(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(freeAddr(t))
	seed := writeSeed(t, t.TempDir(), "daemon.nk")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"HTTP on every interface without authentication", append([]string{"--listen", freeAddr(t), "--http-listen", "0.0.0.0:" + port}, unsafeLocal...),
			[]string{"--http-listen", "beyond loopback without authentication", "--token", "--user with --password", "listen on 127.0.0.1"}},
		{"HTTP with NKey authentication only", append([]string{"--listen", freeAddr(t), "--nkey", seed, "--http-listen", freeAddr(t)}, unsafeLocal...),
			[]string{"--http-listen", "NKey", "cannot check", "--user/--password"}},
		{"HTTP on a busy port", append([]string{"--listen", freeAddr(t), "--http-listen", busy.Addr().String()}, unsafeLocal...),
			[]string{"--http-listen", busy.Addr().String(), "address already in use"}},
		{"local executor without the flag", []string{"--executor", "local", "--listen", freeAddr(t)},
			[]string{"--executor local runs every job's patches and test_command on this host", "--unsafe-local-executor"}},
		{"every interface without authentication", append([]string{"--listen", "0.0.0.0:" + port}, unsafeLocal...),
			[]string{"beyond loopback without authentication", "--token", "--user with --password", "--nkey", "listen on 127.0.0.1"}},
		{"no host without authentication", append([]string{"--listen", ":" + port}, unsafeLocal...),
			[]string{"beyond loopback without authentication", "--token"}},
		{"busy port", append([]string{"--listen", busy.Addr().String()}, unsafeLocal...),
			[]string{busy.Addr().String(), "address already in use", "--listen"}},
		{"creds on the embedded server", append([]string{"--listen", freeAddr(t), "--creds", "daemon.creds"}, unsafeLocal...),
			[]string{"--creds holds a JWT", "--token"}},
		{"client nkeys without the daemon's own", append([]string{"--listen", freeAddr(t), "--client-nkey", "UABC"}, unsafeLocal...),
			[]string{"--client-nkey", "--nkey SEED_FILE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append([]string{"serve", "--no-cache", "--store-dir", filepath.Join(t.TempDir(), "nats")}, tc.args...)
			begin := time.Now()
			out, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
			took := time.Since(begin)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1\n%s", err, out)
			}
			for _, want := range tc.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("output should say %q:\n%s", want, out)
				}
			}
			// A safety net far above what it takes (milliseconds), far
			// below the 2 minutes a busy port took before.
			if took > 20*time.Second {
				t.Errorf("took %s to refuse", took)
			}
		})
	}
}

// TestServeAuthentication: with a token, a user or an NKey, the embedded
// server listens on every interface, the daemon connects with the same
// flags, a client without them is refused, and one with them is served.
func TestServeAuthentication(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	daemonSeed, clientSeed := writeSeed(t, dir, "daemon.nk"), writeSeed(t, dir, "client.nk")
	clientKey, err := nkeys.FromSeed(mustRead(t, clientSeed))
	if err != nil {
		t.Fatal(err)
	}
	clientPub, _ := clientKey.PublicKey()
	clientNKey, err := nats.NkeyOptionFromSeed(clientSeed)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		good  nats.Option
		wrong nats.Option
		// The HTTP gateway's credentials, when it can check them.
		httpGood, httpWrong func(*http.Request)
	}{
		{"token", []string{"--token", "s3cret"}, nats.Token("s3cret"), nats.Token("guess"),
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") },
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer guess") }},
		{"user", []string{"--user", "bp", "--password", "pw"}, nats.UserInfo("bp", "pw"), nats.UserInfo("bp", "guess"),
			func(r *http.Request) { r.SetBasicAuth("bp", "pw") },
			func(r *http.Request) { r.SetBasicAuth("bp", "guess") }},
		{"nkey", []string{"--nkey", daemonSeed, "--client-nkey", clientPub}, clientNKey, nats.Token("guess"), nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, port, _ := net.SplitHostPort(freeAddr(t))
			args := []string{"--listen", "0.0.0.0:" + port, "--store-dir", filepath.Join(t.TempDir(), "nats")}
			_, httpPort, _ := net.SplitHostPort(freeAddr(t))
			if tc.httpGood != nil {
				args = append(args, "--http-listen", "0.0.0.0:"+httpPort)
			}
			// "daemon started" in its log: its own connection got in.
			startServe(t, "auth-"+tc.name, append(append(args, unsafeLocal...), tc.args...)...)
			if tc.httpGood != nil {
				// The gateway, on every interface, asks for the same
				// credentials.
				for name, set := range map[string]func(*http.Request){"none": func(*http.Request) {}, "wrong": tc.httpWrong, "good": tc.httpGood} {
					req, _ := http.NewRequest("GET", "http://127.0.0.1:"+httpPort+"/v1/jobs/never-submitted", nil)
					set(req)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					want := http.StatusUnauthorized
					if name == "good" {
						want = http.StatusNotFound // the daemon answered
					}
					if resp.StatusCode != want {
						t.Errorf("HTTP with %s credentials: %d, want %d", name, resp.StatusCode, want)
					}
				}
			}
			addr := "nats://127.0.0.1:" + port
			for name, opts := range map[string][]nats.Option{"no credentials": nil, "wrong credentials": {tc.wrong}} {
				nc, err := nats.Connect(addr, append(opts, nats.MaxReconnects(0))...)
				if err == nil {
					nc.Close()
					t.Errorf("%s: connected, want refused", name)
				} else if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
					t.Errorf("%s: %v, want an authorization error", name, err)
				}
			}
			nc, err := nats.Connect(addr, tc.good)
			if err != nil {
				t.Fatalf("with the credentials: %v", err)
			}
			defer nc.Close()
			c, err := client.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Status(ctxFor(t, time.Minute), "never-submitted"); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("status over the authenticated connection: %v, want not found (the daemon answered)", err)
			}
		})
	}
}

func writeSeed(t *testing.T, dir, name string) string {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServeDockerOnlyByDefault: serve with its defaults (executor auto,
// no --unsafe-local-executor) runs Docker tasks only: a job on a local
// checkout, whose test_command would run on the host, gets a 400 that
// names the flag; nothing about it is stored.
func TestServeDockerOnlyByDefault(t *testing.T) {
	needBinary(t)
	ctx := ctxFor(t, 2*time.Minute)
	if d, err := docker.New(ctx, docker.Config{}); err != nil {
		t.Skipf("serve's default executor needs a Docker engine: %v", err)
	} else {
		d.Close()
	}
	listen := freeAddr(t)
	p := startServe(t, "default", "--listen", listen, "--store-dir", filepath.Join(t.TempDir(), "nats"))
	c := newClient(t, "nats://"+listen)
	_, err := c.Submit(ctx, exampleJob(t, "on-the-host"))
	if !errors.Is(err, selector.ErrInvalidJob) || !strings.Contains(err.Error(), "--unsafe-local-executor") {
		t.Fatalf("submit of a repo job: %v, want a 400 naming --unsafe-local-executor", err)
	}
	if _, err := c.Status(ctx, "on-the-host"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("the refused job: %v, want not found", err)
	}
	if log := mustRead(t, p.log); strings.Contains(string(log), "UNSAFE") {
		t.Errorf("the default daemon warns of unsafe execution:\n%s", log)
	}
}

// TestSIGTERMHandsBack: SIGTERM to a daemon with runs in progress and a
// forged work item in the queue ends the process within a few seconds
// (before: 22-26 s, a slot waiting for the forged revision), with both
// runs handed back; on the local backend and in Docker containers, which
// are removed.
func TestSIGTERMHandsBack(t *testing.T) {
	needBinary(t)
	newFile := "diff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+x\n"
	for _, tc := range []struct {
		name string
		args []string
		job  func() selector.Job
	}{
		{"local", unsafeLocal, func() selector.Job {
			job := slowJob(t, "term-local", "600")
			job.Task.GeneratedTests = nil
			job.Candidates = job.Candidates[:1]
			return job
		}},
		{"docker", []string{"--executor", "docker"}, func() selector.Job {
			return selector.Job{ID: "term-docker", Candidates: []scoring.Candidate{{ID: "a", Patch: newFile}},
				Task: selector.Task{ID: "t", Env: executor.Environment{Image: shOnlyImage, Workdir: "/testbed"},
					TestCommand: "sleep 600", Format: executor.Pytest}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "docker" {
				needImage(t, shOnlyImage)
			}
			ns := startNATS(t)
			p := startServe(t, "p1", append([]string{"--nats-url", ns.ClientURL(), "--workers", "3"}, tc.args...)...)
			nc := connect(t, ns.ClientURL())
			c := newClient(t, ns.ClientURL())
			ctx := ctxFor(t, 5*time.Minute)
			job := tc.job()
			job.Options.BaseRuns = 1
			starts := runStarts(t, nc, job.ID)
			if _, err := c.Submit(ctx, job); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				select {
				case <-starts:
				case <-ctx.Done():
					t.Fatal("the runs did not start")
				}
			}
			t.Cleanup(func() { c.Cancel(context.Background(), job.ID) })
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			publishWork(ctx, t, js, wire.WorkSubject(job.ID), `{"job":"`+job.ID+`","run":"base/1","revision":99999}`)
			waitFor(ctx, t, "the forged item to be taken", func() bool { return workConsumer(ctx, t, js).NumPending == 0 })
			if tc.name == "docker" {
				// The runs are in their containers (run_started comes before).
				time.Sleep(2 * time.Second)
			}

			begin := time.Now()
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			<-p.done
			took := time.Since(begin)
			t.Logf("SIGTERM to exit: %s", took)
			if p.err != nil {
				t.Errorf("exit after SIGTERM: %v, want 0", p.err)
			}
			log := string(mustRead(t, p.log))
			if n := strings.Count(log, "daemon stopping: run handed back"); n != 2 {
				t.Errorf("%d runs handed back, want 2:\n%s", n, log)
			}
			// The claim is 2 s; the bound leaves room for a loaded machine
			// and is far below the 22-26 s it took before.
			if took > 6*time.Second {
				t.Errorf("SIGTERM took %s to end the daemon", took)
			}
			if tc.name == "docker" {
				// Its containers are gone: none carries its PID as owner.
				host, _ := os.Hostname()
				owner := fmt.Sprintf("%s/%d/", host, p.cmd.Process.Pid)
				out, err := exec.Command("docker", "ps", "-a", "--filter", "label="+docker.LabelOwner,
					"--format", `{{.Label "`+docker.LabelOwner+`"}}`).Output()
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(out), owner) {
					t.Errorf("containers of the stopped daemon (%s) are left:\n%s", owner, out)
				}
			}
		})
	}
}

// shOnlyImage is a test image (testdata/images/build.sh sh-only): Debian without
// bash, a small repository at /testbed.
const shOnlyImage = "bestpatch/sh-only:latest"

// needImage skips a test when no Docker engine answers, and fails it when
// the engine lacks a test image.
func needImage(t *testing.T, image string) {
	t.Helper()
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("no Docker engine answers: %v", err)
	}
	if out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Id}}", image).CombinedOutput(); err != nil {
		t.Fatalf("image %s is missing (make images builds it): %v %s", image, err, out)
	}
}

// TestNATSServerKilled: kill -9 of the process that hosts the embedded
// NATS server (and a daemon) in the middle of a job; started again on the
// same address and store, the job completes with the in-process verdict,
// each run stored once. A second daemon, in this process, rides it out.
func TestNATSServerKilled(t *testing.T) {
	needBinary(t)
	want := referenceReport(t)
	listen, store := freeAddr(t), filepath.Join(t.TempDir(), "nats")
	args := append([]string{"--listen", listen, "--store-dir", store}, unsafeLocal...)
	srv := startServe(t, "srv", args...)
	url := "nats://" + listen
	startDaemon(t, url, service.Config{Name: "d2", Slots: 1, AckWait: 3 * time.Second})
	nc := connect(t, url)
	c := newClient(t, url)
	ctx := ctxFor(t, 15*time.Minute)
	finished := make(chan struct{}, 100)
	sub, err := nc.Subscribe(wire.EventsSubject("k9"), func(m *nats.Msg) {
		if strings.Contains(string(m.Data), `"run_finished"`) {
			finished <- struct{}{}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, slowJob(t, "k9", "1")); err != nil {
		t.Fatal(err)
	}
	type result struct {
		rep selector.Report
		err error
	}
	waited := make(chan result, 1)
	go func() {
		rep, err := c.Wait(ctx, "k9", nil)
		waited <- result{rep, err}
	}()
	<-finished
	sub.Unsubscribe()
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	startServe(t, "srv-again", args...)
	r := <-waited
	if r.err != nil {
		t.Fatal(r.err)
	}
	sameVerdict(t, r.rep, want)
	if res := storedResults(t, url, "k9"); len(res) != len(r.rep.Runs) {
		t.Errorf("%d results stored, the report used %d", len(res), len(r.rep.Runs))
	}
}
