# womgr: PGXS build. `make && sudo make install`; `make installcheck` runs the
# regression suite against a running server (test/run.sh test does it all).
EXTENSION  = womgr
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" womgr.control)

MODULE_big = womgr
OBJS       = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from sql/parts in name order.
DATA_built = sql/womgr--$(EXTVERSION).sql
DATA       = $(filter-out $(DATA_built),$(wildcard sql/womgr--*--*.sql))
DOCS      := $(wildcard docs/*.md)

TESTS      = $(sort $(wildcard test/sql/*.sql))
# install runs first (it drops and recreates the extension); the rest by name.
REGRESS    = install $(filter-out install,$(patsubst test/sql/%.sql,%,$(TESTS)))
# pg_regress 15 reads expected output from test/expected, a symlink to the
# top-level expected/.
REGRESS_OPTS = --inputdir=test --load-extension=plpgsql

SODIUM_CFLAGS := $(shell pkg-config --cflags libsodium 2>/dev/null)
SODIUM_LIBS   := $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium)
PG_CPPFLAGS   = -I$(srcdir)/src $(SODIUM_CFLAGS)
SHLIB_LINK    = $(SODIUM_LIBS)

# The offline audit verifier (docs/audit-format.md): a plain program built
# from src/canonical.c and libsodium, no PostgreSQL libraries.  It lives in
# src/tools/, outside OBJS, and is installed into PostgreSQL's bindir.
AUDIT_TOOL    = src/tools/womgr_audit_verify
TOOL_CFLAGS  ?= -O2 -g -Wall -Wextra
EXTRA_CLEAN   = $(AUDIT_TOOL)

# Debian's server is built with LLVM; we ship no JIT bitcode, so no clang needed.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/womgr--$(EXTVERSION).sql: $(sort $(wildcard sql/parts/*.sql)) womgr.control
	cat $(sort $(wildcard sql/parts/*.sql)) > $@

all: $(AUDIT_TOOL)

# PG_CFLAGS (the strict flags of test/run.sh test) apply to the tool too.
$(AUDIT_TOOL): src/tools/womgr_audit_verify.c src/canonical.c src/canonical.h
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) $(PG_CFLAGS) -I$(srcdir)/src $(SODIUM_CFLAGS) -o $@ $(filter %.c,$^) $(LDFLAGS_EX) $(SODIUM_LIBS)

.PHONY: install-tools uninstall-tools
install: install-tools
install-tools: $(AUDIT_TOOL)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(AUDIT_TOOL) '$(DESTDIR)$(bindir)/womgr_audit_verify'

uninstall: uninstall-tools
uninstall-tools:
	rm -f '$(DESTDIR)$(bindir)/womgr_audit_verify'

.PHONY: bench
bench:
	test/run.sh bench $(BENCH_SCALE)
