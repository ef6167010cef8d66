# The two commands a user needs: `make demo` (the main job) and `make test` (the tests). Both
# install what is missing (scripts/bootstrap.sh), configure, build with -j2, then run.
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all bootstrap configure build demo test test-plan test-asan test-tsan test-packages test-plain-build bench cluster-test fuzz format clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

configure: bootstrap
	cmake --preset release -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

demo: build
	BUILD_DIR=$(BUILD_DIR) bash scripts/demo.sh

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) -LE validation

# The plan's prediction against the knee sonic scan measures, on two of the demonstrator's
# models (plan_demonstrator_test): it needs the machine to itself, so it is run alone; an attempt
# that other processes disturbed is not judged.
test-plan: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L validation

# The benchmarks in full (a few minutes on 2 cores): a summary table each, and
# bench/results/<scenario>.json with every figure, its floor, ratio and target.
bench: build
	BUILD_DIR=$(BUILD_DIR) bash bench/run_benchmarks.sh

# The tests under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: bootstrap
	cmake --preset asan -B $(ASAN_BUILD_DIR) $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD_DIR) -j$(JOBS)
	cd $(ASAN_BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

# The tests under ThreadSanitizer (build-tsan). To keep the build affordable it is made without
# LibTorch, TensorFlow and CUDA: the LibTorch backend, the demonstrator and the tests that need
# them are left out (the server core, scheduler, batcher, client, service, framework and
# frontends are all in). A report fails the process that raised it (halt_on_error) and, as it is
# also written to $(TSAN_BUILD_DIR)/tsan-reports, the run even where a test's child was stopped
# by a signal. Races inside the uninstrumented Debian libraries are suppressed in
# tests/tsan/suppressions.txt, each with its reason; history_size=4 keeps enough of each
# thread's past accesses that a report's earlier stack is restored (a suppression may match it).
TSAN_BUILD_DIR ?= build-tsan
TSAN_REPORTS = $(abspath $(TSAN_BUILD_DIR))/tsan-reports
test-tsan: bootstrap
	cmake --preset tsan -B $(TSAN_BUILD_DIR) $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD_DIR) -j$(JOBS)
	rm -rf $(TSAN_REPORTS) && mkdir -p $(TSAN_REPORTS)
	cd $(TSAN_BUILD_DIR) && TSAN_OPTIONS="suppressions=$(abspath tests/tsan/suppressions.txt) \
	  halt_on_error=1 second_deadlock_stack=1 history_size=4 log_path=$(TSAN_REPORTS)/report" \
	  ctest --output-on-failure -j$(JOBS); rc=$$?; \
	  if [ -n "$$(ls -A $(TSAN_REPORTS))" ]; then cat $(TSAN_REPORTS)/*; rc=1; \
	    echo "ThreadSanitizer reports above (in $(TSAN_REPORTS))"; fi; exit $$rc

# A site on several hosts of this machine (network namespaces; root): sonic-server hosts behind
# HAProxy, Prometheus, demonstrator jobs; every scenario, its figures in bench/results/cluster_*.json.
cluster-test: build
	SONIC_BUILD_DIR=$(abspath $(BUILD_DIR)) .venv/bin/python -m pytest -v -rs -p no:cacheprovider tests/cluster/test_cluster.py

# CPack's Debian packages installed with dpkg -i, used, and removed (root; CI runs it on its
# fresh machine).
test-packages: build
	bash tests/install/package_test.sh $(BUILD_DIR)

# The build a packager or a site does: plain CMake, Release, the project's defaults (warnings not
# errors, no tests), here without LibTorch so that the client side and the server without the
# pytorch backend are shown to build alone.
PLAIN_BUILD_DIR ?= build-plain
test-plain-build: bootstrap
	cmake -S . -B $(PLAIN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSONIC_WITH_TORCH=OFF \
	  -DSONIC_BUILD_TESTS=OFF
	cmake --build $(PLAIN_BUILD_DIR) -j$(JOBS)

# libFuzzer on every fuzz target (clang, ASan+UBSan, coverage), FUZZ_SECONDS each; the inputs it
# finds are kept in $(FUZZ_BUILD_DIR)/corpus for the next run. `make test` runs each target
# briefly without libFuzzer (its seed corpus and mutations of it).
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: bootstrap
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSONIC_FUZZ=ON -DSONIC_WITH_TORCH=OFF -DSONIC_WITH_CUDA=OFF -DSONIC_BUILD_TESTS=OFF -DSONIC_CCACHE=ON
	cmake --build $(FUZZ_BUILD_DIR) -j$(JOBS) --target fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD_DIR)

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(TSAN_BUILD_DIR) $(PLAIN_BUILD_DIR) $(FUZZ_BUILD_DIR)
