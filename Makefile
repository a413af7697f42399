# dohyo — the two commands a new user needs:
#   make run    start dohyo with demo data (http://127.0.0.1:9300)
#   make test   run every test, exactly as CI does

GO ?= go
BIN := bin/dohyo

.PHONY: run test build check-fmt vet unit e2e bench clean web-deps web-build web-check web-unit web-e2e web-screenshots chromium

build:
	$(GO) build -o $(BIN) ./cmd/dohyo

run: build
	./$(BIN) demo

test: check-fmt vet web-check web-unit unit web-e2e

# ---- the web app (web/): its built bundle (web/dist) is committed and
# embedded in the binary, so `make build` and `make run` need no Node.js.

web-deps:
	cd web && npm ci --no-audit --no-fund

# web-build rebuilds the bundle from source (commit web/dist afterwards).
web-build: web-deps
	cd web && npm run build && npm run size

# web-check fails when the committed bundle differs from a fresh build.
web-check: web-build
	@if ! git diff --quiet -- web/dist || [ -n "$$(git status --porcelain -- web/dist)" ]; then \
		echo "web/dist differs from a fresh build of web/src: run 'make web-build' and commit web/dist"; \
		git status --short -- web/dist; exit 1; fi

web-unit: web-deps
	cd web && npm test

# Debian's Chromium drives the browser tests (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# web-e2e runs the browser tests against a real server with demo data.
web-e2e: build web-deps chromium
	cd web && DOHYO_BIN=$(CURDIR)/$(BIN) timeout 900 npm run e2e

# web-screenshots refreshes docs/*.png from the browser tests.
web-screenshots: build web-deps chromium
	cd web && DOHYO_BIN=$(CURDIR)/$(BIN) DOHYO_SCREENSHOTS=1 npm run e2e

check-fmt:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout 20m ./...

bench:
	./bench/ingest.sh

clean:
	rm -rf bin dohyo-demo
