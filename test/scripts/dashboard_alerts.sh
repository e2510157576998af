#!/usr/bin/env bash
# The Grafana dashboard (docs/grafana/pgque-dashboard.json) and the alert
# rules (docs/prometheus/pgque-alerts.yml) an operator copies: the dashboard
# is valid JSON that imports anywhere (data source as an input, a queue
# variable); every metric name they use is one that pgque.metrics() of a
# real database has, so renaming a metric breaks this test; promtool accepts
# the rules and their unit tests pass (test/prometheus/pgque-alerts.test.yml);
# and a real Prometheus that scrapes `pgque metrics --listen` runs every
# query of the dashboard with a result and evaluates every rule without
# error.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/lib/cluster.sh
source test/lib/check.sh
source test/lib/metrics_fixture.sh

DASHBOARD=docs/grafana/pgque-dashboard.json
RULES=docs/prometheus/pgque-alerts.yml
C=dashboard_alerts
cluster_init $C 54379 "fsync = off" "pgque.maint_period = 1" || exit 1
cluster_start $C || exit 1
DIR=$(cluster_dir $C)
PGQUE=client/build/pgque
# the cluster listens on its Unix socket only (listen_addresses = ''), so
# the TCP port of the same number is free for the CLI's endpoint
M=127.0.0.1:54379
P=127.0.0.1:54380      # Prometheus
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; cluster_stop $C' EXIT

check "the dashboard is valid JSON (python3 -m json.tool)" python3 -m json.tool "$DASHBOARD"
check "it imports anywhere: data source \${DS_PROMETHEUS}, a queue variable, unique panel ids (promtext.py dashboard)" \
    python3 test/lib/promtext.py dashboard "$DASHBOARD"
python3 test/lib/promtext.py dashboard "$DASHBOARD" >"$DIR/exprs.txt"   # problems to stderr
check "it has queries" test -s "$DIR/exprs.txt"
check "promtool check rules accepts the alert rules" promtool check rules "$RULES"
check "the rules' unit tests pass (promtool test rules)" promtool test rules test/prometheus/pgque-alerts.test.yml
promtool test rules test/prometheus/pgque-alerts.test.yml 2>&1 | grep -v '^ *SUCCESS\|^Unit Testing\|^$'

metrics_fixture $C app || { finish; exit 1; }

# every name the dashboard and the rules use is a family of pgque.metrics()
cluster_psql $C -X -q -At -d app -c "select pgque.metrics()" |
    sed -n 's/^# TYPE \(pgque_[a-z_]*\) .*/\1/p' | sort >"$DIR/families.txt"
python3 test/lib/promtext.py names "$DASHBOARD" "$RULES" >"$DIR/used.txt"
check "the dashboard and the rules use pgque_ metrics" test -s "$DIR/used.txt"
unknown=$(comm -23 "$DIR/used.txt" "$DIR/families.txt" | tr '\n' ' ')
check_eq "every one of them is in pgque.metrics() ($(wc -l <"$DIR/used.txt") names)" "" "$unknown"

"$PGQUE" metrics --dsn "$(cluster_dsn $C app)" --listen "$M" 2>"$DIR/metrics.err" &
pids+=($!)
mkdir -p "$DIR/prom"
cat >"$DIR/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/$RULES
scrape_configs:
  - job_name: pgque
    static_configs:
      - targets: ['$M']
YML
prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/prom" \
    --web.listen-address="$P" >"$DIR/prometheus.log" 2>&1 &
pids+=($!)
api() { curl -sf --max-time 10 --get "http://$P/api/v1/$1" "${@:2}"; }
has_data() {   # PromQL: the query succeeds and returns at least one series
    api query --data-urlencode "query=$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if r["status"] == "success" and r["data"]["result"] else 1)'
}
wait_until "Prometheus scrapes the CLI's endpoint" 60 has_data 'up{job="pgque"} == 1'
# rate() and increase() need two samples; give each query up to 20 s
n=0
while IFS= read -r expr; do
    n=$((n + 1))
    wait_until "dashboard query $n has data: $expr" 20 has_data "$expr"
done <"$DIR/exprs.txt"

rules_ok() {
    api rules | python3 -c '
import json, sys
groups = json.load(sys.stdin)["data"]["groups"]
rules = [r for g in groups for r in g["rules"]]
bad = [r["name"] for r in rules if r["health"] != "ok" or r.get("lastEvaluation", "").startswith("0001")]
sys.exit(0 if rules and not bad else 1)'
}
wait_until "Prometheus evaluates every alert rule without error" 20 rules_ok
check_eq "all $(grep -c -- '- alert:' "$RULES") of them" "$(grep -c -- '- alert:' "$RULES")" \
    "$(api rules | python3 -c 'import json, sys; print(sum(len(g["rules"]) for g in json.load(sys.stdin)["data"]["groups"]))')"
# the fixture's queue has its rotation blocked: that alert waits out its for:
rotation_pending() {
    api alerts | python3 -c '
import json, sys
alerts = json.load(sys.stdin)["data"]["alerts"]
sys.exit(0 if any(a["labels"].get("alertname") == "PgqueRotationBlocked" and a["labels"].get("queue") == "expq"
                  and a["state"] == "pending" for a in alerts) else 1)'
}
wait_until "PgqueRotationBlocked is pending for expq, whose rotation is blocked" 20 rotation_pending
healthy_silent() {
    api alerts | python3 -c '
import json, sys
names = {a["labels"]["alertname"] for a in json.load(sys.stdin)["data"]["alerts"]}
sys.exit(0 if not names & {"PgqueWorkerDown", "PgqueWorkerNotTicking", "PgqueMetricsAbsent", "PgqueScheduleFailing"} else 1)'
}
check "no worker, absence or schedule alert while all is well" healthy_silent
finish
