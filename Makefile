# Tribe. The two commands a newcomer needs: `make dev` and `make test`.
SHELL := /bin/bash
GO ?= go
CACHE := $(CURDIR)/.cache
CDK_VERSION := 2.1148.1
CDK := $(CACHE)/npm/node_modules/.bin/cdk
CDK_STAMP := $(CACHE)/npm/.aws-cdk-$(CDK_VERSION)
STAGE ?= dev
FUNCTIONS := $(notdir $(wildcard functions/*))

.PHONY: console dev dev-reset test bench bench-campaigns bench-jobs bench-ratelimit bench-throughput chaos chaos-hot build sizes synth diff deploy replay reseal fuzz clean

## dev: run the whole system locally (DynamoDB Local, gateway, stream pump, scheduler)
dev:
	$(GO) run ./infra/local/dev

## dev-reset: wipe local data (DynamoDB Local files, checkpoints, keys)
dev-reset:
	rm -rf .data

## test: go vet and every test, DynamoDB Local and CDK stack tests included
# The longest packages first: go test builds and runs packages in the order named,
# so the system tests (minutes, on DynamoDB Local instances of their own) start
# while the rest build and run beside them.
LONG_TESTS := ./infra/local/system/ ./shared/counters/
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m $(LONG_TESTS) ./...

## bench: benchmarks against DynamoDB Local with consumed capacity per operation
bench: bench-campaigns
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./shared/... ./infra/local/...

## bench-campaigns: one campaign occurrence over 1,000 and 10,000 members on DynamoDB Local
bench-campaigns:
	TRIBE_CAMPAIGN_BENCH_SIZES=1000,10000 $(GO) test -run '^$$' -bench CampaignRun -benchtime 1x -timeout 60m ./shared/campaign

## bench-jobs: lifecycle and expiry over a 100,000-member tenant on DynamoDB Local
bench-jobs:
	$(GO) test -run '^$$' -bench Jobs100k -benchtime 1x -timeout 60m ./shared/jobs

## chaos: 10,000 order and refund events over 20 tenants, each delivered 1-9 times in
## random order, under DynamoDB faults, killed batches and pump restarts; the last line
## is chaos: events=… deliveries=… faults=… lost=… duplicated=… (exit 1 if any lost or doubled)
chaos:
	$(GO) run ./infra/local/chaos/cmd/chaos $(if $(EVENTS),-events $(EVENTS))

## chaos-hot: the same with every event to one tenant; reports WCU per partition key at 2,000 orders/s
chaos-hot:
	$(GO) run ./infra/local/chaos/cmd/chaos -hot -events $(or $(EVENTS),3000)

## build: every catalogue function as build/<name>/bootstrap for Lambda (arm64), and
## the console (when console/ exists) built and copied to build/console for the stack
build: $(addprefix build/,$(addsuffix /bootstrap,$(FUNCTIONS))) $(if $(wildcard console/package.json),console)
	@if [ -d console/dist ]; then \
		rm -rf build/console && mkdir -p build && cp -R console/dist build/console && echo "build/console: $$(du -sh build/console | cut -f1)"; \
	fi

## console: the operator console, console/dist (npm ci on the committed lockfile, then vite)
console:
	cd console && npm ci --no-audit --no-fund && npm run build

build/%/bootstrap: FORCE
	@mkdir -p $(dir $@)
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $@ ./functions/$*
	@ls -l $@ | awk '{print $$5, $$9}'

FORCE:

## sizes: build every function and fail if a binary is over 10 MB, 10,000,000 bytes
## (issue 14); the cheap guard in make test is TestNoFunctionLinksAHeavyPackage
## (shared/wire/lambdamain)
SIZE_LIMIT := 10000000
sizes: build
	@over=0; for f in $(FUNCTIONS); do \
		n=$$(wc -c < build/$$f/bootstrap); \
		awk -v f=$$f -v n=$$n -v max=$(SIZE_LIMIT) 'BEGIN { printf "%-20s %9d bytes %6.2f MiB%s\n", f, n, n / 1048576, (n > max ? "  OVER 10 MB" : "") }'; \
		[ $$n -le $(SIZE_LIMIT) ] || over=1; \
	done; exit $$over

$(CDK_STAMP):
	npm install --no-audit --no-fund --silent --save-exact --prefix $(CACHE)/npm aws-cdk@$(CDK_VERSION)
	touch $@

## synth: the CloudFormation template (needs make build first for the assets)
synth: build $(CDK_STAMP)
	cd infra/cdk && $(CDK) synth $(CDK_CONTEXT) --quiet

CDK_CONTEXT = -c stage=$(STAGE) -c assets=$(CURDIR)/build $(if $(ALARM_EMAIL),-c alarmEmail=$(ALARM_EMAIL)) \
	$(if $(DOMAIN),-c domain=$(DOMAIN)) $(if $(CERTIFICATE_ARN),-c certificateArn=$(CERTIFICATE_ARN)) \
	$(if $(CONSOLE_DOMAIN),-c consoleDomain=$(CONSOLE_DOMAIN)) $(if $(CONSOLE_CERTIFICATE_ARN),-c consoleCertificateArn=$(CONSOLE_CERTIFICATE_ARN)) \
	$(if $(ROLLOUT),-c rollout=$(ROLLOUT))

## diff: what a deploy would change in the stage's stack (run before make deploy)
diff: build $(CDK_STAMP)
	cd infra/cdk && $(CDK) diff $(CDK_CONTEXT)

## deploy: show the diff, then deploy STAGE=dev|prod to its pinned account and region
## (cdk.json "stages"); changes that widen IAM or security groups ask for approval.
## Functions move to the new version by a CodeDeploy canary (10% for 5 minutes), or
## all at once with ROLLOUT=all-at-once (a release the old version must not overlap).
deploy: diff
	cd infra/cdk && $(CDK) deploy $(CDK_CONTEXT) --require-approval broadening

## replay: re-drive the stream records consumers gave up on, from the stack's failure
## bucket, through the same functions: make replay BUCKET=<StreamFailureBucketName> [DRY_RUN=1]
replay:
	@test -n "$(BUCKET)" || { echo "make replay BUCKET=<the stack output StreamFailureBucketName> [DRY_RUN=1]"; exit 2; }
	$(GO) run ./infra/replay -bucket $(BUCKET) $(if $(DRY_RUN),-dry-run)

## reseal: one-off migration sealing secrets written before sealing existed, for every
## tenant (infra/reseal); needs TRIBE_TABLE and the sealing key (TRIBE_SECRETS_KEY_ID
## or TRIBE_SECRETS_KEY_FILE). Idempotent; resume with CURSOR=<last cursor printed>.
reseal:
	$(GO) run ./infra/reseal $(if $(CURSOR),-cursor $(CURSOR))

clean:
	rm -rf build infra/cdk/cdk.out

## bench-throughput: end-to-end orders/s against raw 2-item transactions/s, both at 8-way
## concurrency in the same process, in 5 separate runs (fresh DynamoDB Local each):
## the ratio per run, then the median and spread (issue 14: ratio >= 0.7)
bench-throughput:
	@for i in 1 2 3 4 5; do \
		$(GO) test -count=1 -run '^$$' -bench 'OrderThroughput|RawTransactWriteParallel' -benchtime 3s ./infra/local/system/ \
		| awk -v run=$$i '/^BenchmarkOrderThroughput/ { for (f = 1; f < NF; f++) if ($$(f+1) == "orders/s") o = $$f } \
			/^BenchmarkRawTransactWriteParallel/ { for (f = 1; f < NF; f++) if ($$(f+1) == "tx/s") r = $$f } \
			END { if (o == "" || r == "") exit 1; printf "run %d: %.1f orders/s, %.1f tx/s, ratio %.3f\n", run, o, r, o / r }' || exit 1; \
	done | tee /dev/stderr | awk '{ print $$NF }' | sort -n \
	| awk '{ v[NR] = $$1 } END { printf "throughput ratio: median %.3f, min %.3f, max %.3f over %d runs\n", v[int((NR + 1) / 2)], v[1], v[NR], NR }'

## bench-ratelimit: one tenant bursting 10× its rate limit vs another's latency, and the CPU a
## rejected request costs (DynamoDB Local)
bench-ratelimit:
	TRIBE_RATELIMIT_BENCH=1 $(GO) test -count=1 -run 'TestRateLimit(Isolation|RejectionCost|RejectionProfile)' -v -timeout 900s ./shared/api
