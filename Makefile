# bestpatch: the two commands a new user needs are `make example` and `make test`.
GO      ?= go
BIN     := bin/bestpatch
EXAMPLE := testdata/example

.PHONY: all build example test test-short images vet bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/bestpatch

## example: select the best of the bundled example's 8 candidates on the local backend.
example: build
	$(BIN) select --executor local --task $(EXAMPLE)/task.json --preds $(EXAMPLE)/preds/*.jsonl

## test: everything: builds the Docker test images (cached), then every test with the race detector.
test: images vet
	$(GO) test -race -count=1 -timeout 30m ./...

## test-short: unit tests only (no Docker, no NATS processes).
test-short:
	$(GO) test -short -count=1 ./...

## images: the Docker test images, built offline from Debian packages (cached).
images:
	images/build.sh all

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

## bench: speed and accuracy benchmarks; results in docs/BENCHMARKS.md.
bench: build
	$(BIN) eval --data ../shared/data/swebench-lite-candidates.jsonl.gz --data ../shared/data/swebench-verified-candidates.jsonl.gz
	$(GO) test -run '^$$' -bench . -benchmem ./scoring/ ./executor/

clean:
	rm -rf bin
