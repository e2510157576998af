# pgque -- PGXS build of the extension, plus the project's top-level targets.
#
#   make / make install     build and install the extension (PGXS)
#   make installcheck       pg_regress + isolation against a running server
#   make client             build the C++ client library and CLI (client/)
#   make test               everything, on a throwaway cluster (test/run_all.sh)
#   make demo               messages flowing through a throwaway cluster
#   make bench              benchmarks (bench/)
#   make bench-http         pgque serve beside the SQL it runs (bench/results/http.md)
#   make bench-filters      drain time with and without a filter (bench/results/filters.md)
#   make curves             cost curves: CSVs and PNGs in bench/results/ (bench/curves.sh)
#   make curves-plot        redraw those PNGs from the CSVs (gnuplot)
#   make nodecay            60 minutes: pgque vs a SKIP LOCKED job table under a held
#                           snapshot (bench/nodecay.sh; results in bench/results/nodecay*)
#   make nodecay-plot       redraw its PNGs from the CSVs (gnuplot)
#   make soak               the long soak test
#   make diagrams           docs/img/*.png from docs/diagrams/*.dot (graphviz)
#
# test, demo, bench, curves, nodecay and soak install what is missing first (test/deps.sh),
# so they work on a fresh Debian 12 machine with only the PG 15 server.

EXTENSION   = pgque
EXTVERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" pgque.control)

# The install script is the parts of extension/ in order. 02_schema.sql
# creates tables and types and runs on a fresh install only; every other
# part holds code (functions, views, grants) written to be run again, so an
# upgrade script is its own migration (extension/upgrade/A--B.sql) followed
# by those parts. Released scripts are frozen copies in extension/
# (pgque--A.sql, pgque--A--B.sql) and never change. docs/upgrading.md.
PARTS       = $(sort $(wildcard extension/[0-9]*.sql))
CODE_PARTS  = $(filter-out extension/00_header.sql extension/02_schema.sql,$(PARTS))
UPGRADES    = $(patsubst extension/upgrade/%.sql,pgque--%.sql,$(wildcard extension/upgrade/*--$(EXTVERSION).sql))

MODULE_big  = pgque
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA_built  = pgque--$(EXTVERSION).sql $(UPGRADES)
DATA        = $(sort $(wildcard extension/pgque--*.sql extension/pgque--*.control))
PG_CPPFLAGS = -I$(srcdir)/src -DPGQUE_VERSION='"$(EXTVERSION)"'
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wmissing-prototypes

REGRESS     = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
ISOLATION   = $(basename $(notdir $(sort $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=pgque

EXTRA_CLEAN = pgque--*.sql results regression.diffs regression.out output_iso

# The Debian server-dev package puts the version-specific pg_config here.
PG_CONFIG  ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS       := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

# Without the server headers only the bootstrap targets below work; they
# install them (test/deps.sh) and then come back here.
ifneq ($(wildcard $(dir $(PGXS))../../src/include/server/postgres.h)$(wildcard $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)/postgres.h),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL server headers are missing: run 'make test' (it installs them) or 'test/deps.sh'." >&2
	@exit 1
endif

# PGXS does not track header dependencies: rebuild every object when a
# header changes (a struct that grew in one object and not in another
# smashes the stack).
$(OBJS): $(wildcard src/*.h)

pgque--$(EXTVERSION).sql: $(PARTS) pgque.control
	cat $(PARTS) > $@

pgque--%--$(EXTVERSION).sql: extension/upgrade/%--$(EXTVERSION).sql $(CODE_PARTS)
	cat $^ > $@

.PHONY: deps client test demo bench bench-http bench-filters curves curves-plot nodecay nodecay-plot soak diagrams

deps:
	test/deps.sh

client: deps
	cmake -S client -B client/build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build client/build -j2

test:
	test/run_all.sh

demo:
	test/demo.sh

bench:
	bench/run.sh

bench-http:
	bench/http.sh

bench-filters:
	bench/filters.sh

curves:
	bench/curves.sh

curves-plot:
	bench/curves.sh --plot-only

nodecay:
	bench/nodecay.sh

nodecay-plot:
	bench/nodecay.sh --plot-only

soak:
	test/soak.sh

DIAGRAMS = $(patsubst docs/diagrams/%.dot,docs/img/%.png,$(wildcard docs/diagrams/*.dot))

diagrams:
	test/deps.sh --docs
	$(MAKE) $(DIAGRAMS)

docs/img/%.png: docs/diagrams/%.dot
	dot -Tpng -Gdpi=96 $< -o $@
