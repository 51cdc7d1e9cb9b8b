# The two commands of the quick start: `make demo` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build demo test install uninstall clean bench format

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Profiles the bundled example and writes its report to demo-report.txt.
demo: build
	@echo "== vitals run -- examples/leaky"
	$(BUILD)/vitals run -o demo.vtr -- $(BUILD)/examples/leaky
	$(BUILD)/vitals report demo.vtr -o demo-report.txt --color never
	@echo "== the report is in demo-report.txt (vitals report demo.vtr shows it again)"

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	bench/churn.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')

clean:
	rm -rf $(BUILD) demo.vtr demo-report.txt
