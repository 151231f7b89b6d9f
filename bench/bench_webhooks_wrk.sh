#!/usr/bin/env bash
# Webhook ingestion measured with wrk (Debian package), whose client costs far less CPU than
# a Python load generator on the same 2 cores. Needs the database that bench_webhooks.py
# builds (run it once first); stores notifications only (queue mode, MATCH_IN_REQUEST off),
# then a match worker drains the queue. Usage:
#   bash bench/bench_webhooks_wrk.sh [workers] [conns] [match workers running during the load]
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-3}
conns=${2:-12}
matchers=${3:-0}
db=${BENCH_DATABASE:-tuition_bench}
url=postgresql://postgres@127.0.0.1:5432/$db
command -v wrk >/dev/null || { echo "apt-get install wrk" >&2; exit 1; }
export DATABASE_URL=$url TUITION_SECRET_KEY=bench-secret-key-not-for-production
before=$(psql -h 127.0.0.1 -U postgres -d "$db" -tAc "select count(*) from bank_transactions")
TUITION_MATCH_IN_REQUEST=false TUITION_ACCOUNT_CACHE_SECONDS=30 TUITION_SQLALCHEMY_ENGINE_OPTIONS='{"pool_pre_ping": false}' \
  .venv/bin/gunicorn --workers "$workers" --worker-class gthread --threads 4 \
  --bind 127.0.0.1:5591 --log-level warning --keep-alive 5 wsgi:app &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
match_pids=()
for _ in $(seq 1 "$matchers"); do
  .venv/bin/flask --app wsgi tuition match-worker --idle 0.1 >/dev/null &
  match_pids+=($!)
done
trap 'kill $server "${match_pids[@]}" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf 127.0.0.1:5591/healthz >/dev/null && break; sleep 0.2; done
sleep $(( matchers > 0 ? 3 : 0 ))  # the match workers' start-up stays out of the timed part
wrk -t2 -c"$conns" -d10s --latency -s bench/webhook_post.lua http://127.0.0.1:5591 | tee /tmp/wrk.out
kill $server "${match_pids[@]}"; wait $server "${match_pids[@]}" 2>/dev/null || true
after=$(psql -h 127.0.0.1 -U postgres -d "$db" -tAc "select count(*) from bank_transactions")
stored=$((after - before))
accepted=$(awk '/^accepted:/ {print $2}' /tmp/wrk.out)
echo "stored: $stored new bank transactions; accepted (HTTP 200): $accepted"
# wrk stops with up to one request in flight per connection: the server may store those
# after wrk stopped counting, so stored may exceed accepted by at most the connections.
if (( stored < accepted || stored > accepted + conns )); then
  echo "CHECK FAILED: stored and accepted disagree" >&2; exit 1
fi
start=$(date +%s.%N)
.venv/bin/flask --app wsgi tuition match-worker --once
echo "matched the queue in $(echo "$(date +%s.%N) - $start" | bc) s"
.venv/bin/flask --app wsgi tuition verify-ledger
