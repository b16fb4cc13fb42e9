# nst: `make` builds build/libnst.a, build/nst, the tests and tools.
# `make test` runs the test suite; `make asan` runs it under ASan+UBSan.
CC ?= cc
BUILD ?= build
SAN ?=
OPT ?= -O2
PKG_CONFIG ?= pkg-config

REQUIRED_PKGS := libpng libjpeg libzip jansson
# OpenBLAS is optional: without it the convolutions use the plain C kernels only.
HAVE_OPENBLAS := $(shell $(PKG_CONFIG) --exists openblas && echo 1)
PKGS := $(REQUIRED_PKGS) $(if $(HAVE_OPENBLAS),openblas)

CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) -g -Wall -Wextra -fopenmp \
          -Iinclude -Isrc $(shell $(PKG_CONFIG) --cflags $(PKGS)) \
          $(if $(HAVE_OPENBLAS),-DNST_HAVE_OPENBLAS) $(SAN) $(EXTRA_CFLAGS)
LDLIBS := $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm -fopenmp $(SAN)

SRC := $(sort $(shell find src -name '*.c'))
OBJ := $(SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TESTS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(sort $(wildcard tools/*.c))
TOOLS := $(TOOL_SRC:tools/%.c=$(BUILD)/tools/%)

.PHONY: all test check asan clean fixtures weights examples
.SECONDARY:
all: $(BUILD)/nst $(TESTS) $(TOOLS)

$(BUILD)/obj/%.o: %.c $(wildcard include/*.h) $(shell find src -name '*.h') $(wildcard cli/*.h tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libnst.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/nst: $(CLI_OBJ) $(BUILD)/libnst.a
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/obj/tests/testlib.o $(BUILD)/libnst.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(BUILD)/libnst.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS)

# PyTorch reference fixtures (needs Debian's python3-torch, run by /usr/bin/python3).
FIXTURES ?= $(BUILD)/fixtures
fixtures: $(FIXTURES)/.done
FIXTURE_SCRIPTS := $(sort $(wildcard tests/fixtures/make_*.py))
$(FIXTURES)/.done: $(FIXTURE_SCRIPTS)
	@mkdir -p $(FIXTURES)
	set -e; for s in $(FIXTURE_SCRIPTS); do /usr/bin/python3 $$s $(FIXTURES); done
	@touch $@

test: all fixtures
	NST_FIXTURES=$(FIXTURES) tests/run_tests.sh $(BUILD)

# The README's test command: installs what is missing, builds, runs every test.
check:
	scripts/install-deps.sh
	$(MAKE) test

asan:
	$(MAKE) BUILD=build-asan FIXTURES=build/fixtures OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test

examples: $(BUILD)/tools/draw_examples
	$(BUILD)/tools/draw_examples examples

weights: $(BUILD)/nst
	scripts/fetch-weights.sh

clean:
	rm -rf build build-asan
