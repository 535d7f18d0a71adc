package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bestpatch/bestpatch/selector/wire"
)

// dedupWindow is how long JetStream remembers message IDs: a work item or
// verdict published again within it (a redelivered step redone) is stored
// once. Work items published again later are harmless: a worker finds the
// result stored and only acks.
const dedupWindow = 10 * time.Minute

// headroom is left below the server's maximum message size for headers
// and the JSON envelope around a payload.
const headroom = 16 << 10

// store holds the daemon's JetStream streams and buckets.
type store struct {
	work, events, verdicts, standing jetstream.Stream
	jobs, results, ends              jetstream.KeyValue
	// resultLog is the stream behind the results bucket: a work item's
	// revision is checked against it.
	resultLog jetstream.Stream
	objects   jetstream.ObjectStore
	// maxInline is the largest payload sent in one message; larger ones go
	// through the object store.
	maxInline int
}

// openStore creates or updates every stream and bucket. It is idempotent,
// and every daemon calls it when it starts.
func openStore(ctx context.Context, js jetstream.JetStream, cfg Config) (*store, error) {
	st := &store{maxInline: int(cfg.Conn.MaxPayload()) - headroom}
	if cfg.maxInline > 0 {
		st.maxInline = cfg.maxInline
	}
	streams := []struct {
		into *jetstream.Stream
		cfg  jetstream.StreamConfig
	}{
		{&st.work, jetstream.StreamConfig{
			Name: wire.WorkStream, Description: "bestpatch: runs waiting for a daemon",
			Subjects: []string{wire.WorkSubject("*")}, Retention: jetstream.WorkQueuePolicy,
			Duplicates: dedupWindow, MaxAge: cfg.Retention,
		}},
		{&st.events, jetstream.StreamConfig{
			Name: wire.EventsStream, Description: "bestpatch: progress events per job",
			Subjects: []string{wire.EventsSubject("*")}, Duplicates: dedupWindow, MaxAge: cfg.Retention,
		}},
		{&st.standing, jetstream.StreamConfig{
			Name: wire.StandingStream, Description: "bestpatch: the standing verdicts of open jobs",
			Subjects: []string{wire.StandingSubject("*")}, Duplicates: dedupWindow, MaxAge: cfg.Retention,
		}},
		{&st.verdicts, jetstream.StreamConfig{
			Name: wire.VerdictsStream, Description: "bestpatch: one outcome per job",
			Subjects: []string{wire.VerdictSubject("*")}, MaxMsgsPerSubject: 1,
			Duplicates: dedupWindow, MaxAge: cfg.Retention,
		}},
	}
	if err := keepReplicas(ctx, js, cfg.Replicas); err != nil {
		return nil, err
	}
	for _, s := range streams {
		s.cfg.Storage = jetstream.FileStorage
		s.cfg.Replicas = cfg.Replicas
		stream, err := js.CreateOrUpdateStream(ctx, s.cfg)
		if err != nil {
			if rerr := replicasError(err, cfg.Replicas); rerr != nil {
				return nil, fmt.Errorf("service: stream %s: %w", s.cfg.Name, rerr)
			}
			return nil, fmt.Errorf("service: stream %s: %w (does the server have JetStream enabled?)", s.cfg.Name, err)
		}
		*s.into = stream
	}
	buckets := []struct {
		into *jetstream.KeyValue
		cfg  jetstream.KeyValueConfig
	}{
		{&st.jobs, jetstream.KeyValueConfig{Bucket: wire.JobsBucket, Description: "bestpatch: submitted jobs"}},
		{&st.results, jetstream.KeyValueConfig{Bucket: wire.ResultsBucket, Description: "bestpatch: run results, first writer wins", Compression: true}},
		{&st.ends, jetstream.KeyValueConfig{Bucket: wire.EndsBucket, Description: "bestpatch: who ends each job (scoring or cancellation)"}},
	}
	for _, b := range buckets {
		b.cfg.History = 1
		b.cfg.TTL = cfg.Retention
		b.cfg.Storage = jetstream.FileStorage
		b.cfg.Replicas = cfg.Replicas
		kv, err := js.CreateOrUpdateKeyValue(ctx, b.cfg)
		if err != nil {
			if rerr := replicasError(err, cfg.Replicas); rerr != nil {
				err = rerr
			}
			return nil, fmt.Errorf("service: key-value bucket %s: %w", b.cfg.Bucket, err)
		}
		*b.into = kv
	}
	// A key-value bucket is the stream KV_<bucket>.
	resultLog, err := js.Stream(ctx, "KV_"+wire.ResultsBucket)
	if err != nil {
		return nil, fmt.Errorf("service: the stream of bucket %s: %w", wire.ResultsBucket, err)
	}
	st.resultLog = resultLog
	obj, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: wire.ObjectBucket, Description: "bestpatch: payloads too big for one message",
		TTL: cfg.Retention, Storage: jetstream.FileStorage, Replicas: cfg.Replicas, Compression: true,
	})
	if err != nil {
		if rerr := replicasError(err, cfg.Replicas); rerr != nil {
			err = rerr
		}
		return nil, fmt.Errorf("service: object store %s: %w", wire.ObjectBucket, err)
	}
	st.objects = obj
	return st, nil
}

// JetStream's error codes for a replica count the servers cannot hold.
const (
	errCodeNoSuitablePeers       = 10005
	errCodeInsufficientResources = 10023
	errCodeReplicasNotSupported  = 10074
)

// ErrReplicas: the replica count asked for (Config.Replicas, --replicas)
// is more than the NATS servers can hold, or fewer than the streams have.
var ErrReplicas = errors.New("replica count refused")

// keepReplicas refuses to lower the replica count of streams and buckets
// that other daemons created with more: a daemon started with the default
// of 1 would otherwise drop the copies of a cluster's state. Raising it is
// how a deployment moves to more replicas.
func keepReplicas(ctx context.Context, js jetstream.JetStream, replicas int) error {
	for _, name := range []string{wire.WorkStream, wire.EventsStream, wire.VerdictsStream,
		"KV_" + wire.JobsBucket, "KV_" + wire.ResultsBucket, "KV_" + wire.EndsBucket, "OBJ_" + wire.ObjectBucket} {
		st, err := js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("service: stream %s: %w (does the server have JetStream enabled?)", name, err)
		}
		if have := st.CachedInfo().Config.Replicas; have > replicas {
			return fmt.Errorf("%w: stream %s has %d replicas and this daemon asks for %d: start it with --replicas %d as the other daemons on this NATS server (fewer would drop copies of their state)", ErrReplicas, name, have, replicas, have)
		}
	}
	return nil
}

// replicasError turns JetStream's refusal of a replica count into an error
// that says what to do; nil when err is something else.
func replicasError(err error, replicas int) error {
	var apiErr *jetstream.APIError
	if replicas <= 1 || !errors.As(err, &apiErr) {
		return nil
	}
	switch apiErr.ErrorCode {
	case errCodeReplicasNotSupported:
		return fmt.Errorf("%w: %d replicas, but the NATS server is not clustered and keeps one copy (%v): use --replicas 1, or join a JetStream cluster of at least %d servers", ErrReplicas, replicas, err, replicas)
	case errCodeNoSuitablePeers, errCodeInsufficientResources:
		return fmt.Errorf("%w: %d replicas, but the JetStream cluster has fewer servers that can hold one (%v): use --replicas at most the number of JetStream servers in the cluster (3 is the usual), or add servers", ErrReplicas, replicas, err)
	}
	return nil
}

// envelope is a stored value that is either inline or, when too big for
// one message, in the object store.
type envelope struct {
	Object string          `json:"object,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// wrap returns the envelope for data, writing data to the object store
// under name first when it is too big to go inline.
func (s *store) wrap(ctx context.Context, name string, data []byte) (env []byte, object string, err error) {
	if len(data) <= s.maxInline {
		env, err = json.Marshal(envelope{Data: data})
		return env, "", err
	}
	if _, err := s.objects.PutBytes(ctx, name, data); err != nil {
		return nil, "", fmt.Errorf("store %d bytes as object %s: %w", len(data), name, err)
	}
	env, err = json.Marshal(envelope{Object: name})
	return env, name, err
}

// unwrap returns the payload of an envelope.
func (s *store) unwrap(ctx context.Context, env []byte) ([]byte, error) {
	var e envelope
	if err := json.Unmarshal(env, &e); err != nil {
		return nil, fmt.Errorf("stored value is not an envelope: %w", err)
	}
	if e.Object == "" {
		return e.Data, nil
	}
	data, err := s.objects.GetBytes(ctx, e.Object)
	if err != nil {
		return nil, fmt.Errorf("read object %s: %w", e.Object, err)
	}
	return data, nil
}

// resultKey is the key of a run's result: the job ID (a subject token) and
// the run ID in base64url (run IDs hold '/' and ':').
func resultKey(job, run string) string {
	return job + "." + base64.RawURLEncoding.EncodeToString([]byte(run))
}

// resultSubjectPrefix is the subject prefix of a job's results in the
// stream behind the results bucket.
func (s *store) resultSubjectPrefix(job string) string {
	return "$KV." + wire.ResultsBucket + "." + job + "."
}

// runOfKey is the run ID of a result key.
func runOfKey(key string) (string, error) {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '.' {
			b, err := base64.RawURLEncoding.DecodeString(key[i+1:])
			return string(b), err
		}
	}
	return "", errors.New("result key without a run")
}

// jobRecord is a job as stored in the jobs bucket.
type jobRecord struct {
	Submitted time.Time `json:"submitted"`
	// Hash is the job's content hash: resubmitting the same job under the
	// same ID is accepted (nothing new is queued); another job is refused.
	Hash string `json:"hash"`
	// Job is the envelope of the job's JSON.
	Job json.RawMessage `json:"job"`
	// Fast: the daemon that accepted the job answers it in the request
	// (fast.go); none of its runs is queued and no result is stored.
	Fast bool `json:"fast,omitempty"`
}

// endClaim is the value of a job's key in the ends bucket.
type endClaim struct {
	State  wire.State `json:"state"` // scoring, cancelled or failed
	Daemon string     `json:"daemon"`
	// Revision is the result revision whose plan was complete (scoring).
	Revision uint64    `json:"revision,omitempty"`
	Time     time.Time `json:"time"`
	// Fast: the scoring of a job answered in the request (fast.go).
	Fast bool `json:"fast,omitempty"`
}
