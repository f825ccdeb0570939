# serval — the two commands a newcomer needs:  make serve   and   make test
BUILD   ?= build
JOBS    ?= 2
HOST    ?= 0.0.0.0
PORT    ?= 8000
CACHE   ?= $(HOME)/.cache/serval
CMAKE_FLAGS ?=
# ccache (installed by the set-up) keeps compiled objects in the cache beside the third-party builds,
# so a fresh clone rebuilds quickly; the three build trees (plain, ASan, fuzz) share it.
export CCACHE_DIR ?= $(CACHE)/ccache
LAUNCHER := $(shell command -v ccache >/dev/null 2>&1 && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

.PHONY: serve test setup build asan test-asan fuzz bench bench-models clean

serve: build
	./$(BUILD)/bin/serval serve --host $(HOST) --port $(PORT)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

setup:
	@SERVAL_CACHE=$(CACHE) scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) $(LAUNCHER) -DSERVAL_CACHE=$(CACHE) -DSERVAL_SWAGGER_DIR=$(CACHE)/swagger-ui-dist $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: setup
	cmake -S . -B build-asan $(LAUNCHER) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSERVAL_SANITIZE=ON -DSERVAL_CACHE=$(CACHE) -DSERVAL_SWAGGER_DIR=$(CACHE)/swagger-ui-dist >/dev/null
	cmake --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure -j$(JOBS)

# libFuzzer targets (clang), each run for FUZZ_SECONDS over its seed corpus.
FUZZ_SECONDS ?= 60
fuzz: setup
	CXX=clang++ cmake -S . -B build-fuzz $(LAUNCHER) -DSERVAL_CACHE=$(CACHE) -DSERVAL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build-fuzz -j$(JOBS)
	scripts/run_fuzzers.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	bench/http_bench.sh
	bench/models_bench.sh

bench-models: build
	bench/models_bench.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz
