# hookd: plain Makefile with pkg-config.
#   make            build build/hookd, build/libhookd.a, build/libhookd.so
#   make SANITIZE=1 build into build-san/ with ASan+UBSan
#   make test       deps, strict build, unit tests (plain and sanitized), e2e tests
#   make run        deps, build, start hookd on 127.0.0.1:8071 with ./data
CC       ?= cc
PKGS     := libmicrohttpd libcurl sqlite3 jansson libcrypto
OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(WERROR),1)
WARN     += -Werror
endif
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -pthread -Iinclude -Isrc $(WARN)
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

# libhookd: signing and verifying, depends on OpenSSL only.
LIB_SRCS    := src/sign.c src/base64.c
# the daemon's own modules (hookd.c holds main)
CORE_SRCS   := src/log.c src/util.c src/id.c src/config.c src/filter.c src/backoff.c \
               src/store.c src/store_sqlite.c src/cache.c src/commit.c src/scheduler.c \
               src/deliver.c src/json.c src/api.c src/api_app.c src/api_endpoint.c \
               src/api_msg.c src/api_attempt.c src/server.c src/metrics.c src/opevents.c
LIB_OBJS    := $(LIB_SRCS:src/%.c=$(BUILD)/%.o)
CORE_OBJS   := $(CORE_SRCS:src/%.c=$(BUILD)/%.o)
UNIT_SRCS   := tests/unit/main.c $(wildcard tests/unit/test_*.c)
UNIT_OBJS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%.o)

.PHONY: all deps test unit e2e run clean install bench
all: $(BUILD)/hookd $(BUILD)/libhookd.a $(BUILD)/libhookd.so

$(BUILD)/%.o: src/%.c $(wildcard src/*.h include/*.h) | $(BUILD)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<
$(BUILD)/tests/%.o: tests/unit/%.c $(wildcard src/*.h include/*.h tests/unit/*.h) | $(BUILD)
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags check) -c -o $@ $<
$(BUILD):
	@mkdir -p $(BUILD)

$(BUILD)/libhookd.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/libhookd.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(ALL_LDFLAGS) $(shell pkg-config --libs libcrypto)
$(BUILD)/hookd: $(BUILD)/hookd.o $(CORE_OBJS) $(BUILD)/libhookd.a
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS) -lm
$(BUILD)/unit: $(UNIT_OBJS) $(CORE_OBJS) $(BUILD)/libhookd.a
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(PKG_LIBS) $(shell pkg-config --libs check) -lm

# deps: install what is missing (Debian packages, then the e2e npm packages).
deps:
	@sh scripts/deps.sh

unit: $(BUILD)/unit
	$(BUILD)/unit

test: deps
	$(MAKE) WERROR=1 all $(BUILD)/unit
	$(MAKE) WERROR=1 CC=clang BUILD=build-clang all build-clang/unit
	$(MAKE) WERROR=1 SANITIZE=1 all build-san/unit
	CK_FORK=no ./build/unit
	CK_FORK=no ASAN_OPTIONS=detect_leaks=1 ./build-san/unit
	HOOKD_BIN=$(CURDIR)/build-san/hookd sh scripts/e2e.sh

e2e: all
	HOOKD_BIN=$(CURDIR)/$(BUILD)/hookd sh scripts/e2e.sh

run: deps all
	@sh scripts/run.sh $(BUILD)/hookd

install: all
	@test -n "$(PREFIX)" || { echo "make install: set PREFIX=/path"; exit 2; }
	install -d $(PREFIX)/bin $(PREFIX)/lib $(PREFIX)/include
	install -m 755 $(BUILD)/hookd $(PREFIX)/bin/
	install -m 644 $(BUILD)/libhookd.a include/hookd.h $(PREFIX)/lib/
	install -m 644 include/hookd.h $(PREFIX)/include/
	install -m 755 $(BUILD)/libhookd.so $(PREFIX)/lib/

clean:
	rm -rf build build-san build-clang
