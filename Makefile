# The README's two commands: `make demo` and `make test`.
GO ?= go

.PHONY: demo test vet bench aoibench

# demo runs a whole local cluster of the example game with bots and prints
# the live map's address; Ctrl-C stops it.
demo:
	$(GO) run ./cmd/ecsworld demo

# test vets the tree and runs every test under the race detector, then the
# AOI grid's tests once more on its Go loops (the purego tag leaves out its
# vector assembly).
test: vet
	$(GO) test -race -timeout 40m ./...
	$(GO) test -tags purego ./systems/aoi

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags purego ./systems/aoi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

aoibench:
	$(GO) run ./bench/cmd/aoibench
