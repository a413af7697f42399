# dohyo — the two commands a new user needs:
#   make run    start dohyo with demo data (http://127.0.0.1:9300)
#   make test   run every test, exactly as CI does

GO ?= go
BIN := bin/dohyo

.PHONY: run test build check-fmt vet unit e2e bench clean

build:
	$(GO) build -o $(BIN) ./cmd/dohyo

run: build
	./$(BIN) demo

test: check-fmt vet unit

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
