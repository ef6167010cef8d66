# The two commands a user needs: `make demo` (the main job) and `make test` (the tests). Both
# install what is missing (scripts/bootstrap.sh), configure, build with -j2, then run.
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all bootstrap configure build demo test test-asan bench format clean

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
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

# The benchmarks in full (a few minutes on 2 cores): a summary table each, and
# bench/results/<scenario>.json with every figure, its floor, ratio and target.
bench: build
	BUILD_DIR=$(BUILD_DIR) bash bench/run_benchmarks.sh

# The tests under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: bootstrap
	cmake --preset asan -B $(ASAN_BUILD_DIR) $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD_DIR) -j$(JOBS)
	cd $(ASAN_BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
