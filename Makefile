# hookd: plain Makefile with pkg-config.
#   make            build build/hookd, build/libhookd.a, build/libhookd.so, build/examples/receiver
#                   (with the web UI bundled by esbuild and embedded when npm is there; make UI=0: without it)
#   make SANITIZE=1 build into build-san/ with ASan+UBSan
#   make test       deps, strict build, unit tests (plain and sanitized; the store suite on SQLite and on a
#                   throwaway PostgreSQL too), e2e tests on SQLite and on PostgreSQL, a 60 s soak
#   make test-pg-store   the store contract suite on a throwaway PostgreSQL (scripts/pg.sh), plain and sanitized
#   make e2e-pg     the e2e tests with hookd on a throwaway PostgreSQL, a database per hookd (docs/testing.md)
#   make soak       hookd under chaos for SOAK_SECONDS (default 600), then an account of every accepted message
#                   (docs/testing.md); make soak-pg: the same on a throwaway PostgreSQL
#   make run        what running needs (deps.sh run), a quiet build, start hookd on 127.0.0.1:8071 with ./data
#   make fuzz       libFuzzer harnesses (clang) over libhookd's parsers and the daemon's body scanners, FUZZ_TIME=20 s each
#   make install    under PREFIX (default /usr/local; DESTDIR for staging): hookd, libhookd.{a,so}, hookd.h,
#                   lib/pkgconfig/hookd.pc, the man page hookd.1, bash and zsh completion and the API's
#                   OpenAPI document (share/hookd/openapi.json)
CC       ?= cc
PKGS     := libmicrohttpd libcurl sqlite3 jansson libcrypto libpq libpcre2-8 lua5.4
OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(WERROR),1)
WARN     += -Werror
endif
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -pthread -Iinclude -Isrc -Ilib $(WARN)
ifeq ($(SANITIZE),1)
BUILD    ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT      := -O1 -g
else
BUILD    ?= build
SANFLAGS :=
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS  = $(BASE_CFLAGS) $(OPT) $(SANFLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pthread $(SANFLAGS) $(LDFLAGS)

# libhookd (lib/): signing and verifying, depends on OpenSSL only; its private header is lib/scheme.h.
LIB_SRCS    := $(wildcard lib/*.c)
# the daemon (src/): main.c holds main(); every other module is shared with the unit tests
DAEMON_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CORE_OBJS   := $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
# the web UI (ui/, docs/ui.md): bundled and turned into C at build time ($(BUILD)/ui_assets.c, never committed);
# UI=0 (the default without npm) embeds none, and /ui/ answers 404 saying so. $(BUILD)/ui.mode remembers which.
UI          ?= $(if $(shell command -v npm 2>/dev/null),1,0)
UI_SRCS     := $(wildcard ui/src/*) ui/index.html ui/build.mjs ui/package-lock.json scripts/ui-embed.mjs \
	scripts/ui-build.sh
UI_MODE     := $(shell mkdir -p $(BUILD) && { echo $(UI) | cmp -s - $(BUILD)/ui.mode || echo $(UI) >$(BUILD)/ui.mode; })
CORE_OBJS   += $(BUILD)/ui_assets.o
# the OpenAPI document (docs/openapi.json, made by scripts/openapi.mjs and committed), as C: $(BUILD)/openapi_doc.c
CORE_OBJS   += $(BUILD)/openapi_doc.o
UNIT_SRCS   := tests/unit/main.c tests/unit/store_fixture.c $(wildcard tests/unit/test_*.c)
UNIT_OBJS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%.o)

.PHONY: all deps test unit e2e run clean install bench fuzz fuzz-build test-pg-store pg-store-suite e2e-pg soak soak-pg
all: $(BUILD)/hookd $(BUILD)/libhookd.a $(BUILD)/libhookd.so $(BUILD)/examples/receiver

$(BUILD)/src/%.o: src/%.c $(wildcard src/*.h include/*.h lib/*.h) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<
$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h include/*.h) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<
$(BUILD)/tests/%.o: tests/unit/%.c $(wildcard src/*.h lib/*.h include/*.h tests/unit/*.h) | $(BUILD)
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags check) -c -o $@ $<
$(BUILD):
	@mkdir -p $(BUILD)
ifeq ($(UI),1)
$(BUILD)/ui_assets.c: $(UI_SRCS) $(BUILD)/ui.mode | $(BUILD)
	sh scripts/ui-build.sh $@
else
$(BUILD)/ui_assets.c: $(BUILD)/ui.mode | $(BUILD)
	printf '%s\n' '/* make UI=0: no web UI */' '#include "ui.h"' 'const struct ui_file ui_files[1];' \
		'const size_t ui_nfiles = 0;' >$@
endif
$(BUILD)/ui_assets.o: $(BUILD)/ui_assets.c src/ui.h
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<
$(BUILD)/openapi_doc.c: docs/openapi.json scripts/openapi-embed.sh | $(BUILD)
	sh scripts/openapi-embed.sh docs/openapi.json $@
$(BUILD)/openapi_doc.o: $(BUILD)/openapi_doc.c src/openapi.h
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(BUILD)/libhookd.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/libhookd.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(ALL_LDFLAGS) $(shell pkg-config --libs libcrypto)
$(BUILD)/hookd: $(BUILD)/src/main.o $(CORE_OBJS) $(BUILD)/libhookd.a
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS) -lm
$(BUILD)/unit: $(UNIT_OBJS) $(CORE_OBJS) $(BUILD)/libhookd.a
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS) $(shell pkg-config --libs check) -lm
# A receiver that verifies Standard Webhooks with libhookd (docs/signatures.md); it links only the library.
$(BUILD)/examples/receiver: examples/receiver.c include/hookd.h $(BUILD)/libhookd.a
	@mkdir -p $(BUILD)/examples
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhookd.a $(ALL_LDFLAGS) $(shell pkg-config --libs libmicrohttpd libcrypto)

# Fuzzing: one verify harness per scheme (fuzz/fuzz_verify.c with -DFUZZ_SCHEME), the codecs, the config, payload filters.
# Seeds in fuzz/corpus/<name>/; what the fuzzer finds goes to build/fuzz/corpus/<name>/, crashes to build/fuzz/.
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 20
FUZZ_DIR     := build/fuzz
FUZZ_SCHEMES := standard ed25519 stripe split github shopify slack hmac twilio
FUZZ_NAMES   := $(FUZZ_SCHEMES:%=verify_%) codec config json dedup pfilter luajson
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_CFLAGS  := -std=c17 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -Ilib $(shell pkg-config --cflags lua5.4) $(WARN) -Werror -fno-sanitize-recover=undefined
FUZZ_OBJS    := $(LIB_SRCS:lib/%.c=$(FUZZ_DIR)/%.o)
FUZZ_LIBS     = $(shell pkg-config --libs libcrypto)

$(FUZZ_DIR)/%.o: lib/%.c $(wildcard lib/*.h include/*.h)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
$(FUZZ_DIR)/%.o: src/%.c $(wildcard src/*.h include/*.h)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
$(FUZZ_DIR)/fuzz_verify_%: fuzz/fuzz_verify.c include/hookd.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -DFUZZ_SCHEME='"$*"' -o $@ $< $(FUZZ_OBJS) $(FUZZ_LIBS)
# the daemon's own parsers of peer bytes (json.c needs the model's lifecycles, not the store)
FUZZ_JSON_OBJS := $(addprefix $(FUZZ_DIR)/,json.o json_plain.o util.o log.o model.o id.o seal.o)
$(FUZZ_DIR)/fuzz_json: fuzz/fuzz_json.c $(FUZZ_JSON_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_JSON_OBJS) \
		$(shell pkg-config --libs jansson libpcre2-8) $(FUZZ_LIBS) -pthread
$(FUZZ_DIR)/fuzz_dedup: fuzz/fuzz_dedup.c $(FUZZ_JSON_OBJS) $(FUZZ_DIR)/source.o $(FUZZ_DIR)/signer.o $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_DIR)/source.o \
		$(FUZZ_DIR)/signer.o $(FUZZ_JSON_OBJS) $(FUZZ_OBJS) $(shell pkg-config --libs jansson libpcre2-8) $(FUZZ_LIBS) \
		-pthread
# JSON -> Lua -> JSON through the transformation sandbox
FUZZ_LUA_OBJS := $(addprefix $(FUZZ_DIR)/,luajson.o xform.o util.o log.o)
$(FUZZ_DIR)/fuzz_luajson: fuzz/fuzz_luajson.c $(FUZZ_LUA_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(FUZZ_LUA_OBJS) $(shell pkg-config --libs jansson lua5.4) $(FUZZ_LIBS) -lm -pthread
$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c include/hookd.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_OBJS) $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINS)
# payload filters (src/pfilter.c) with PCRE2
FUZZ_PFILTER_OBJS := $(addprefix $(FUZZ_DIR)/,pfilter.o util.o log.o)
$(FUZZ_DIR)/fuzz_pfilter: fuzz/fuzz_pfilter.c $(FUZZ_PFILTER_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_PFILTER_OBJS) \
		$(shell pkg-config --libs jansson libpcre2-8) -pthread
.SECONDARY: $(FUZZ_OBJS) $(FUZZ_JSON_OBJS) $(FUZZ_PFILTER_OBJS) $(FUZZ_LUA_OBJS) $(FUZZ_DIR)/source.o $(FUZZ_DIR)/signer.o

fuzz: fuzz-build
	@for n in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$n; \
		printf 'fuzz %-16s %3s s: ' $$n $(FUZZ_TIME); \
		$(FUZZ_DIR)/fuzz_$$n -max_total_time=$(FUZZ_TIME) -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crash-$$n- \
			$(FUZZ_DIR)/corpus/$$n fuzz/corpus/$$n >$(FUZZ_DIR)/$$n.log 2>&1 \
			|| { echo FAILED; tail -40 $(FUZZ_DIR)/$$n.log; exit 1; }; \
		sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1 runs/p' $(FUZZ_DIR)/$$n.log; \
	done

# deps: install what is missing (Debian packages, then the e2e npm packages).
deps:
	@sh scripts/deps.sh

unit: $(BUILD)/unit
	$(BUILD)/unit

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	$(MAKE) -j$(JOBS) WERROR=1 all $(BUILD)/unit
	$(MAKE) -j$(JOBS) WERROR=1 CC=clang BUILD=build-clang all build-clang/unit
	$(MAKE) -j$(JOBS) WERROR=1 SANITIZE=1 all build-san/unit
	CK_FORK=no ./build/unit
	CK_FORK=no ASAN_OPTIONS=detect_leaks=1 ./build-san/unit
	$(MAKE) pg-store-suite
	$(MAKE) -j$(JOBS) fuzz-build && $(MAKE) fuzz FUZZ_TIME=2
	HOOKD_BIN=$(CURDIR)/build-san/hookd sh scripts/e2e.sh
	HOOKD_BIN=$(CURDIR)/build-san/hookd sh scripts/pg.sh run -- sh scripts/e2e.sh
	SOAK_SECONDS=60 HOOKD_BIN=$(CURDIR)/build-san/hookd sh scripts/soak.sh
	$(MAKE) WERROR=1 CC=clang BUILD=build-clang bench-bins && $(MAKE) WERROR=1 bench-smoke

e2e: all
	HOOKD_BIN=$(CURDIR)/$(BUILD)/hookd sh scripts/e2e.sh

# PostgreSQL: scripts/pg.sh starts a throwaway cluster, runs the command with HOOKD_TEST_PG set, and removes it.
# test-pg-store: the store contract suite (tests/unit/test_store*.c) on it, plain and sanitized, a schema per test.
test-pg-store: deps
	$(MAKE) WERROR=1 all build/unit
	$(MAKE) WERROR=1 SANITIZE=1 all build-san/unit
	$(MAKE) pg-store-suite
pg-store-suite:
	sh scripts/pg.sh run -- sh -c 'HOOKD_TEST_STORE="$$HOOKD_TEST_PG" CK_RUN_SUITE=store CK_FORK=no ./build/unit && \
		HOOKD_TEST_STORE="$$HOOKD_TEST_PG" CK_RUN_SUITE=store CK_FORK=no ASAN_OPTIONS=detect_leaks=1 ./build-san/unit'

# e2e-pg: the e2e tests with every hookd on its own database of one cluster (E2E_FILES="a.test.mjs b.test.mjs": some)
e2e-pg: all
	HOOKD_BIN=$(CURDIR)/$(BUILD)/hookd sh scripts/pg.sh run -- sh scripts/e2e.sh $(E2E_FILES)

# soak: kill -9 and SIGTERM restarts, hanging, resetting and streaming receivers, slow clients and steady ingest for
# SOAK_SECONDS, then every message answered 2xx is accounted for per endpoint (delivered, failed, pending; 0 lost)
# with duplicates and latency (tests/soak/soak.mjs, docs/testing.md). On the sanitized build, which also catches
# memory errors; make test runs it for 60 s.
SOAK_SECONDS ?= 600
soak:
	$(MAKE) SANITIZE=1 all
	SOAK_SECONDS=$(SOAK_SECONDS) HOOKD_BIN=$(CURDIR)/build-san/hookd sh scripts/soak.sh
soak-pg:
	$(MAKE) SANITIZE=1 all
	SOAK_SECONDS=$(SOAK_SECONDS) HOOKD_BIN=$(CURDIR)/build-san/hookd sh scripts/pg.sh run -- sh scripts/soak.sh

# run: only what running needs (test-only packages stay with make test), and a build that prints a line per
# step instead of every compiler command (a failing one still shows its errors).
run:
	@sh scripts/deps.sh run
	@echo "make run: building $(BUILD)/hookd"
	@mkdir -p $(BUILD) && $(MAKE) -s --no-print-directory all >$(BUILD)/run.log 2>&1 || { cat $(BUILD)/run.log; exit 1; }
	@sh scripts/run.sh $(BUILD)/hookd

VERSION := $(shell sed -n 's/^\#define HOOKD_VERSION "\(.*\)"/\1/p' include/hookd.h)

PREFIX ?= /usr/local
D := $(DESTDIR)$(PREFIX)

# hookd.1 and the completion scripts are generated from the command and settings tables (hookd's own output)
$(BUILD)/hookd.1: $(BUILD)/hookd scripts/gen-man.sh
	sh scripts/gen-man.sh $(BUILD)/hookd >$@
$(BUILD)/hookd.bash $(BUILD)/_hookd &: $(BUILD)/hookd scripts/gen-completion.sh
	sh scripts/gen-completion.sh $(BUILD)/hookd $(BUILD)/hookd.bash $(BUILD)/_hookd

.PHONY: man completion
man: $(BUILD)/hookd.1
completion: $(BUILD)/hookd.bash

install: all $(BUILD)/hookd.1 $(BUILD)/hookd.bash
	install -d $(D)/bin $(D)/lib/pkgconfig $(D)/include $(D)/share/man/man1 \
		$(D)/share/bash-completion/completions $(D)/share/zsh/site-functions $(D)/share/hookd
	install -m 755 $(BUILD)/hookd $(D)/bin/
	install -m 644 $(BUILD)/libhookd.a $(D)/lib/
	install -m 755 $(BUILD)/libhookd.so $(D)/lib/
	install -m 644 include/hookd.h $(D)/include/
	install -m 644 $(BUILD)/hookd.1 $(D)/share/man/man1/
	install -m 644 $(BUILD)/hookd.bash $(D)/share/bash-completion/completions/hookd
	install -m 644 $(BUILD)/_hookd $(D)/share/zsh/site-functions/
	install -m 644 docs/openapi.json $(D)/share/hookd/
	printf '%s\n' 'prefix=$(abspath $(PREFIX))' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
		'Name: hookd' 'Description: libhookd, sign and verify webhooks (Standard Webhooks, Stripe, GitHub, ...)' \
		'Version: $(VERSION)' 'Requires.private: libcrypto' 'Libs: -L$${libdir} -lhookd' \
		'Cflags: -I$${includedir}' >$(D)/lib/pkgconfig/hookd.pc

# bench: the benchmark suite (bench/README.md). Figures are printed and written to bench/results/, never asserted.
#   make bench                     full run (a few minutes)
#   make bench BENCH_SCALE=0.1     every count scaled; BENCH_ARGS="--only ingest,latency" for a subset
#   make bench-smoke               tiny counts, a few seconds; fails only if something is broken (part of make test)
#   make bench-pg                  the PostgreSQL scenarios (pg-ingest, pg-fanout, pg-latency on one node; pg2-ingest,
#                                  pg2-fanout, pg2-latency on two; pg-takeover) on a throwaway cluster (scripts/pg.sh);
#                                  make bench and bench-smoke stay on SQLite
BENCH_SCALE ?= 1
BENCH_ARGS  ?=
BENCH_BINS  := $(BUILD)/bench/loadgen $(BUILD)/bench/receiver $(BUILD)/bench/pfilter
.PHONY: bench-bins bench-smoke bench-pg
bench-bins: $(BENCH_BINS)
# payload filter evaluation cost (bench/pfilter.c), linked with the daemon's own pfilter.o
$(BUILD)/bench/pfilter: bench/pfilter.c $(BUILD)/src/pfilter.o $(BUILD)/src/util.o $(BUILD)/src/log.o | $(BUILD)
	@mkdir -p $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(shell pkg-config --libs jansson libpcre2-8) -lm
$(BUILD)/bench/loadgen: bench/loadgen.c bench/bench.h include/hookd.h $(BUILD)/libhookd.a | $(BUILD)
	@mkdir -p $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhookd.a $(ALL_LDFLAGS) $(shell pkg-config --libs libcurl libcrypto)
$(BUILD)/bench/receiver: bench/receiver.c bench/bench.h include/hookd.h $(BUILD)/libhookd.a | $(BUILD)
	@mkdir -p $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhookd.a $(ALL_LDFLAGS) $(shell pkg-config --libs libmicrohttpd libcrypto)
bench: all $(BENCH_BINS)
	node bench/run.mjs --bin $(BUILD) --scale $(BENCH_SCALE) $(BENCH_ARGS)
bench-smoke: all $(BENCH_BINS)
	node bench/run.mjs --bin $(BUILD) --smoke $(BENCH_ARGS)
bench-pg: all $(BENCH_BINS)
	sh scripts/pg.sh run -- node bench/run.mjs --bin $(BUILD) --scale $(BENCH_SCALE) --only pg-ingest,pg-ingest-idem,pg-fanout,pg-latency,pg2-ingest,pg2-fanout,pg2-latency,pg-takeover $(BENCH_ARGS)

# docs-settings: README.md's settings table, between <!-- settings:begin --> and <!-- settings:end -->, regenerated
# from the settings table in src/config.c (a unit test fails while it is stale).
.PHONY: docs-settings
docs-settings: $(BUILD)/hookd
	$(BUILD)/hookd serve --help-markdown >$(BUILD)/settings.md
	awk -v table=$(BUILD)/settings.md '/<!-- settings:end -->/ { while ((getline line <table) > 0) print line; skip = 0 } \
		!skip { print } /<!-- settings:begin -->/ { skip = 1 }' README.md >$(BUILD)/README.md.new
	mv $(BUILD)/README.md.new README.md

clean:
	rm -rf build build-san build-clang
