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

# Debian's server is built with LLVM; we ship no JIT bitcode, so no clang needed.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/womgr--$(EXTVERSION).sql: $(sort $(wildcard sql/parts/*.sql)) womgr.control
	cat $(sort $(wildcard sql/parts/*.sql)) > $@

.PHONY: bench
bench:
	test/run.sh bench $(BENCH_SCALE)
