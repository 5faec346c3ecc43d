# clerkpath: the two commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := bin
SERVICES := gateway profiles credentials ingest matching notifications
# Every module of the workspace, for tests and vet.
MODULES := pkg $(addprefix services/,$(SERVICES)) cmd/clerkpath
# The deployment files' checks: a module outside go.work, so that the
# Kubernetes API types they decode with stay out of the services' builds.
DEPLOY := deployments
# -p 4: up to four packages built, linked or run at once on two cores. The
# long packages spend most of their time waiting on their servers, and with
# the default (-p 2, one a core) the race-linking of the thirty short test
# binaries queued behind them (go test 3 min 51 s cold, 3 min 25 s with -p 4;
# docs/performance.md, "make test").
GOTEST_FLAGS ?= -race -count=1 -timeout 20m -p 4

.PHONY: all install build run cluster test test-faults test-browser test-unit vet staticcheck-install staticcheck-all fmt bench bench-cores clean openapi

all: build

## install: install redis-server, Meilisearch 1.21.0 (sha256-checked) and ZIP centroids when missing
install:
	@deployments/local/install.sh

## build: one binary per service plus bin/clerkpath
build:
	@mkdir -p $(BIN)
	@for s in $(SERVICES); do $(GO) build -o $(BIN)/$$s ./services/$$s/cmd/$$s || exit 1; done
	$(GO) build -o $(BIN)/clerkpath ./cmd/clerkpath

## run: install what is missing, build, and start the whole backend (gateway on :8080)
run: install build
	$(BIN)/clerkpath run

## cluster: the same, shaped like production on one machine: three clustered nats-servers (streams at R3),
## two copies of every service, gateways on :8080 and :8081 (data under var/cluster; docs/deploy.md)
cluster: install build
	$(BIN)/clerkpath run --cluster

# Every workspace package, for one go test (or vet) over all the modules: go
# test then runs up to -p packages at a time, so a long package (cmd/clerkpath,
# services/matching) does not leave a core idle while it waits on its servers.
# The longest packages come first: go test starts packages in the order given,
# and when the two longest ran last (as they did in module order) the short
# ones had finished and nothing ran beside them (3 min 57 s of go test against
# 2 min 40 s in this order, warm build cache; docs/performance.md, "make test").
LONGEST := cmd/clerkpath services/matching
PACKAGES := $(foreach m,$(LONGEST) $(filter-out $(LONGEST),$(MODULES)),./$(m)/...)

## test: install what is missing, then run every module's tests with -race against real servers
## (one go test over the workspace; each line names its package, so its module)
test: install vet
	@echo "== $(MODULES)"; $(GO) test $(GOTEST_FLAGS) $(PACKAGES)
	@echo "== $(DEPLOY)"; cd $(DEPLOY) && GOWORK=off $(GO) test $(GOTEST_FLAGS) ./...

## test-faults: the fault tests (build tag faults, docs/operations.md "Fault tests"): the services as
## separate processes killed with SIGKILL, Redis, Meilisearch and NATS stopped and restarted, a durable
## consumer deleted, all under load against real servers; and the cluster test (three nats-servers, two copies of
## every service, the PROFILES leader and a copy of each service lost under 1,000 writes); a few minutes, so not part of `make test`
test-faults: install
	cd cmd/clerkpath && $(GO) vet -tags faults . && $(GO) test $(GOTEST_FLAGS) -tags faults -run '^TestFault' -v .
	cd services/profiles && CLERKPATH_REBUILD_LOOPS=20 $(GO) test $(GOTEST_FLAGS) -run '^TestRebuildLoopUnderWrites$$' -v .
	cd services/credentials && CLERKPATH_REBUILD_LOOPS=20 $(GO) test $(GOTEST_FLAGS) -run '^TestRebuildLoopUnderWrites$$' -v .

# staticcheck (all default checks) at a pinned version, built from the Go
# module proxy into .tools/bin: nothing else to install on a fresh machine.
STATICCHECK_VERSION := 0.8.2
STATICCHECK := $(CURDIR)/.tools/bin/staticcheck
# Modules left out of staticcheck until their findings are fixed (empty
# when the workspace is clean); `make staticcheck-all` checks them anyway.
STATICCHECK_SKIP ?=

## test-browser: the web console (/app/) in Debian's chromium, headless, against the real stack: a counselor,
## a seeker and an employer at work, axe-core accessibility checks on every page (docs/console.md); about 3 minutes.
## Installs chromium (apt) and axe-core (npm) first when missing; make run and make test do not need them.
## (CLERKPATH_SCREENSHOTS=../../docs/screenshots make test-browser rewrites the README's screenshots)
test-browser:
	@deployments/local/install.sh --browser
	cd cmd/clerkpath && $(GO) vet -tags browser . && $(GO) test $(GOTEST_FLAGS) -tags browser -run '^TestConsole' -v .

## vet: go vet, staticcheck and gofmt across the workspace (the fault tests' build tag included)
vet: staticcheck-install
	@echo "go vet"; $(GO) vet $(PACKAGES)
	@cd $(DEPLOY) && GOWORK=off $(GO) vet ./...
	@echo "staticcheck"; $(STATICCHECK) -tags faults $(foreach m,$(filter-out $(STATICCHECK_SKIP),$(MODULES)),./$(m)/...)
	@cd $(DEPLOY) && GOWORK=off $(STATICCHECK) ./...
	@out=$$(gofmt -l $(MODULES) $(DEPLOY)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: start a private stack (each service its own process), seed it (10,000 postings, 10,000 seekers)
## and measure each path beside its baseline; prints one table, writes bench/results/<time>.json and
## latest.json (docs/performance.md). BENCH_FLAGS="--postings 100000 --seekers 100000" for the scaling
## curve; "--cpuprofile cpu.pprof" for one CPU profile a service. Not part of `make test`.
BENCH_FLAGS ?=
bench: install
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/clerkpath ./cmd/clerkpath
	$(BIN)/clerkpath bench $(BENCH_FLAGS)

## bench-cores: the Go benchmarks of the pure cores (pathway, posting, match)
bench-cores:
	cd pkg && $(GO) test -run='^$$' -bench=. -benchmem ./...

## openapi: after editing services/gateway/openapi.json, copy it to docs/ and regenerate the Go client
openapi:
	cd services/gateway && $(GO) generate ./openapi.go
	cd cmd/clerkpath/apiclient && $(GO) generate .

## staticcheck-install: build staticcheck $(STATICCHECK_VERSION) into .tools/bin unless that version is there
staticcheck-install:
	@$(STATICCHECK) -version 2>/dev/null | grep -qF '($(STATICCHECK_VERSION))' || \
		{ echo "installing staticcheck v$(STATICCHECK_VERSION) into .tools/bin"; GOBIN=$(CURDIR)/.tools/bin GOWORK=off $(GO) install honnef.co/go/tools/cmd/staticcheck@v$(STATICCHECK_VERSION); }

## staticcheck-all: staticcheck in every module, including those in STATICCHECK_SKIP
staticcheck-all: staticcheck-install
	@st=0; for m in $(MODULES); do echo "staticcheck $$m"; (cd $$m && $(STATICCHECK) -tags faults ./...) || st=1; done; \
		(cd $(DEPLOY) && GOWORK=off $(STATICCHECK) ./...) || st=1; exit $$st

clean:
	rm -rf $(BIN)
