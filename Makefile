# cleanops: the operator console for the POC order pipeline. GNU make.
#   make / make all    build ./cleanops and the Lambda binaries
#   make run           build, then open the console (on the sandbox without AWS credentials)
#   make test          build and run every test (unit, integration)
#   make asan          the tests under AddressSanitizer + UBSan (build/asan)
#   make valgrind      the headless stack commands under valgrind memcheck (build/vg)
#   make bench         benchmarks, printed as ratios against a peer measured in the same run
#   make package       the two Lambda zips in build/lambda/
#   make deps          install the missing Debian packages
#   make clean

CC ?= cc
ifeq ($(origin CC),default)
CC := cc
endif
PREFIX ?= /usr/local
VERSION := 0.1.0

PKGS := ncursesw libcurl libcrypto jansson libxml-2.0 libmicrohttpd sqlite3 libzip cmocka

# A fresh machine needs nothing but make: install what is missing before anything else.
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
ifneq ($(shell pkg-config --exists $(PKGS) 2>/dev/null && command -v dpkg-source >/dev/null && echo ok),ok)
$(info cleanops: some libraries are missing; running 'make deps')
DEPS_RC := $(shell sh mk/deps.sh >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error cleanops: 'make deps' failed; install the packages listed in mk/deps.sh)
endif
endif
endif

BUILD ?= build
OBJ := $(BUILD)/obj

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DCLEANOPS_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) \
	-I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(EXTRA_CFLAGS)
LIBS_CLIENT := $(shell pkg-config --libs libcurl libcrypto jansson libxml-2.0 2>/dev/null) -lpthread
LIBS_SANDBOX := $(shell pkg-config --libs libmicrohttpd sqlite3 libzip 2>/dev/null)
LIBS_TUI := $(shell pkg-config --libs ncursesw 2>/dev/null)
LIBS_CMOCKA := $(shell pkg-config --libs cmocka 2>/dev/null)
LDFLAGS ?=
ALL_LDFLAGS := $(LDFLAGS) $(EXTRA_LDFLAGS)

LIB_CLIENT := $(BUILD)/libawsclient.a
LIB_STACK := $(BUILD)/libstack.a
LIB_SANDBOX := $(BUILD)/libsandbox.a
LIB_LRT := $(BUILD)/liblrt.a

include aws/client/module.mk
include aws/stack/module.mk
include aws/sandbox/module.mk
include lambdas/module.mk
include tui/module.mk
include tests/module.mk
include tests/fuzz/module.mk

obj = $(patsubst %.c,$(OBJ)/%.o,$(1))


.PHONY: all run test asan bench package deps clean install screenshots fuzz
.DEFAULT_GOAL := all
# keep test objects (they are intermediates of the test binaries)
.SECONDARY:

all: $(BUILD)/cleanops lambdas
ifeq ($(BUILD),build)
all: cleanops
endif

cleanops: $(BUILD)/cleanops
	cp $< $@

$(BUILD)/cleanops: $(call obj,$(TUI_SRCS)) $(LIB_STACK) $(LIB_SANDBOX) $(LIB_CLIENT)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS_TUI) $(LIBS_SANDBOX) $(LIBS_CLIENT)

$(LIB_CLIENT): $(call obj,$(CLIENT_SRCS))
$(LIB_STACK): $(call obj,$(STACK_SRCS))
$(LIB_SANDBOX): $(call obj,$(SANDBOX_SRCS))
$(LIB_LRT): $(call obj,$(LRT_SRCS))
$(BUILD)/%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	$(if $^,ar rcs $@ $^,ar rcs $@)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

run: all
	./cleanops

bench: all
	sh tests/bench/run.sh

deps:
	sh mk/deps.sh

# make asan: every test on a build with AddressSanitizer + UBSan in build/asan; tests/run.sh
# fails a test when any process it started (the sandbox, function bootstraps) left a report.
# Clang when installed: next to ASan, gcc's UBSan ignores log_path and reports only on stderr.
ASAN_CC ?= $(if $(shell command -v clang 2>/dev/null),clang,$(CC))
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan:
	@if [ "$$(cat build/asan/.cc 2>/dev/null)" != "$(ASAN_CC)" ]; then \
		rm -rf build/asan; mkdir -p build/asan; echo "$(ASAN_CC)" >build/asan/.cc; fi
	$(MAKE) BUILD=build/asan CC="$(ASAN_CC)" CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" test-run

# In CI (.ci/run sets CLEANOPS_CI=1; CI=true works too) `make test` runs the sanitizer suite
# after the plain one.
ifneq ($(filter 1 true yes,$(CLEANOPS_CI) $(CI)),)
test: test-run
	$(MAKE) --no-print-directory asan
endif

# make valgrind: deploy, status, order and destroy under valgrind memcheck (a plain build in
# build/vg); `make test` runs the same script on the default build.
valgrind:
	$(MAKE) BUILD=build/vg all
	BUILD=build/vg ROOT="$(CURDIR)" CLEANOPS="$(CURDIR)/build/vg/cleanops" \
		sh tests/integration/valgrind_stack.sh
.PHONY: valgrind

clean:
	rm -rf build cleanops

install: all package
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/cleanops/policies/trust $(DESTDIR)$(PREFIX)/share/cleanops/lambda
	install -m 0644 $(BUILD)/lambda/POC-Lambda-1.zip $(BUILD)/lambda/POC-Lambda-2.zip \
		$(DESTDIR)$(PREFIX)/share/cleanops/lambda/
	install -m 0755 $(BUILD)/cleanops $(DESTDIR)$(PREFIX)/bin/cleanops
	install -m 0644 docs/cleanops.1 $(DESTDIR)$(PREFIX)/share/man/man1/cleanops.1
	install -m 0644 policies/*.json $(DESTDIR)$(PREFIX)/share/cleanops/policies/
	install -m 0644 policies/trust/*.json $(DESTDIR)$(PREFIX)/share/cleanops/policies/trust/

# PNG screenshots of the console from real runs against a private sandbox (tmux, zlib).
$(BUILD)/tools/ansi2png: tests/tools/ansi2png.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags zlib) -o $@ $< $(ALL_LDFLAGS) \
		$(shell pkg-config --libs zlib)

screenshots: all $(BUILD)/tools/ansi2png
	CLEANOPS=$(BUILD)/cleanops ANSI2PNG=$(BUILD)/tools/ansi2png sh tests/tools/screenshots.sh screenshots
