# fedgate: `make run` serves the graph on localhost, `make test` runs lint and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint install install-test redis nginx k8s-tools postgres clean schema schema-check node-test-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml tests/plugins/sample_plugin/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	# a plugin package installed the way a team installs theirs (tests/plugins load it by entry point)
	$(BIN)/python -m pip install -q -e tests/plugins/sample_plugin
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## run: start redis :4004, orders :4001, payments :4002, delivery :4003 and the gateway :4000; Ctrl-C stops all
run: install redis
	scripts/run.sh

## redis: make sure a redis-server binary exists (make run starts one, the tests start their own)
redis:
	scripts/ensure-redis.sh

## nginx: make sure Debian's nginx exists (tests/cluster runs its own on a free port)
nginx:
	scripts/ensure-debian.sh nginx nginx-light

## k8s-tools: kubectl (Debian's kubernetes-client), kubernetes-validate and checkov in .venv/k8s for tests/deploy
k8s-tools:
	scripts/ensure-k8s-tools.sh

## node-test-deps: the Node clients some tests drive (graphql-http audit), into tests/node/node_modules
node-test-deps: tests/node/node_modules/.installed

tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	cd tests/node && npm ci --no-audit --no-fund
	touch $@

## postgres: make sure PostgreSQL's server binaries exist (the registry tests start their own)
postgres:
	scripts/ensure-postgres.sh

## lint: ruff on all Python (gateway, subgraphs, tests, bench, scripts), mypy on gateway/ and subgraphs/
lint: install-test
	$(BIN)/ruff check gateway subgraphs tests bench scripts
	$(BIN)/mypy gateway subgraphs

## schema: rewrite schema/supergraph.graphql from the subgraph SDLs (schema/supergraph.yaml)
schema: install
	$(BIN)/fedgate compose --config schema/supergraph.yaml --output schema/supergraph.graphql

## schema-check: fail when schema/supergraph.graphql is not what `fedgate compose` prints
schema-check: install
	@$(BIN)/fedgate compose --config schema/supergraph.yaml --output $(VENV)/supergraph.composed.graphql
	@cmp -s $(VENV)/supergraph.composed.graphql schema/supergraph.graphql || \
		{ echo "schema/supergraph.graphql is stale: run 'make schema' and commit it"; exit 1; }

## js-clients: the npm subscription clients tests/subscriptions drives (graphql-ws), into an ignored folder
.PHONY: js-clients
js-clients: tests/subscriptions/js/node_modules/.installed

tests/subscriptions/js/node_modules/.installed: tests/subscriptions/js/package.json tests/subscriptions/js/package-lock.json
	cd tests/subscriptions/js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## chromium: make sure Debian's chromium exists (tests/explorer drive it headless)
.PHONY: chromium
chromium:
	scripts/ensure-chromium.sh

## test: lint, the supergraph in sync with the subgraph SDLs, then the whole pytest suite
test: install-test redis nginx k8s-tools node-test-deps chromium postgres js-clients
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory schema-check
	$(BIN)/python -m pytest

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

## explorer-assets: rebuild gateway/explorer/static/vendor/ (GraphiQL, React) from pinned npm packages
.PHONY: explorer-assets
explorer-assets:
	scripts/explorer-assets.sh

## soak: the long variants of bounded tests: 200,000 requests of the domain mix with a subgraph restarted
## every 30 s (RSS, fds, tasks, failures: tests/soak/soak.py), then the registry killed for 30 s under load
.PHONY: soak
soak: install-test redis postgres
	$(BIN)/python tests/soak/soak.py --requests $${SOAK_REQUESTS:-200000} --restart-every $${SOAK_RESTART_EVERY:-30} --json var/soak.json
	FEDGATE_REGISTRY_DOWN_SECONDS=30 $(BIN)/python -m pytest -q -s -p no:randomly tests/registry/test_registry_gateways.py -k registry_down

## bench-subscriptions: 1,000 subscribers on one gateway, with and without upstream dedup (bench/results/SUBSCRIPTIONS.md)
.PHONY: bench-subscriptions
bench-subscriptions: install-test redis
	$(BIN)/python -m bench.subscriptions

## bench: fedgate against Apollo Gateway and Hive Gateway on loopback; writes bench/results/ (see docs/benchmark.md)
.PHONY: bench
bench:
	bench/run.sh

## bench-saga: orders/s through the whole order saga and placeOrder -> DELIVERED p50/p99 (delays 0); writes bench/results/SAGA.md
.PHONY: bench-saga
bench-saga: install redis
	$(BIN)/python -m bench.saga

## bench-replicas: 1, 2, 3 gateways behind nginx sharing Redis, and Redis's cost per request; writes bench/results/REPLICAS.md
.PHONY: bench-replicas
bench-replicas: install redis nginx
	scripts/ensure-debian.sh wrk wrk
	$(BIN)/python -m bench.replicas
