# bestpatch: the two commands a new user needs are `make example` and `make test`.
GO      ?= go
BIN     := bin/bestpatch
EXAMPLE := testdata/example

.PHONY: all build example test test-deps test-short images vet generate bench bench-micro clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/bestpatch

## example: select the best of the bundled example's 8 candidates on the local backend.
example: build
	$(BIN) select --executor local --task $(EXAMPLE)/task.json --preds $(EXAMPLE)/preds/*.jsonl

## test: everything: installs the Debian packages the tests use when they are missing, builds the
## Docker test images (cached), then every test with the race detector.
test: test-deps images vet
	$(GO) test -race -count=1 -timeout 30m ./...

## test-deps: the Debian packages the tests use (python3-pytest, python3-django, python3-sympy,
## mmdebstrap, patch, git, chromium), installed with apt-get when missing (root or sudo).
test-deps:
	.ci/install-test-deps.sh

## test-short: unit tests only (no Docker, no NATS processes).
test-short:
	$(GO) test -short -count=1 ./...

## images: the Docker test images, built offline from Debian packages (cached).
images: test-deps
	testdata/images/build.sh all

## generate: the protocol's JSON Schema (docs/wire) and the field reference in docs/DAEMON.md, from package selector/wire;
## the signal table in docs/SCORING.md, from the scoring registry.
generate:
	$(GO) generate ./selector/wire

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

## bench: the policies on labelled SWE-bench candidate sets, and the stop rule of streaming jobs
## replayed on them (samples used and accuracy over the target confidence); then, on tasks generated
## from real Go modules (cached in BENCH_DIR): selection accuracy of every policy against random,
## majority vote and oracle, the stop rule's savings curve, one job's wall time against the naive way
## and the ideal (Docker), the same for a sympy job (the SWE-bench stand-in image), the daemon's
## latency, throughput and memory, and the throughput of one, two and three daemons on a
## three-server JetStream cluster. Results in docs/BENCHMARKS.md.
## The labelled candidate sets come from the project's shared data, beside the checkout.
BENCH_DIR   ?= $(HOME)/.cache/bestpatch/bench
BENCH_TASKS ?= 6
SHARED_DATA ?= ../shared/data
BENCH_SETS  := $(SHARED_DATA)/swebench-lite-candidates.jsonl.gz $(SHARED_DATA)/swebench-verified-candidates.jsonl.gz
bench: build
	@for f in $(BENCH_SETS); do test -r "$$f" || { echo "make bench: $$f is missing: the labelled SWE-bench candidate sets are the project's shared data (shared/data beside the checkout); run make bench SHARED_DATA=DIR with the folder that holds them"; exit 2; }; done
	$(BIN) eval --stream $(addprefix --data ,$(BENCH_SETS))
	$(BIN) bench gen --out $(BENCH_DIR)/set --tasks $(BENCH_TASKS) --candidates 16 --seed 1 --log-level warn
	$(BIN) bench accuracy --dir $(BENCH_DIR)/set --cache-dir $(BENCH_DIR)/runs
	$(BIN) bench speed --dir $(BENCH_DIR)/set --reuse --log-level warn
	$(BIN) bench speed --sympy --reuse --log-level warn
	$(BIN) bench daemon --dir $(BENCH_DIR)/set --log-level warn
	$(BIN) bench scale --log-level warn

## bench-micro: Go micro-benchmarks of scoring and the executor.
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem ./scoring/ ./executor/...

clean:
	rm -rf bin
