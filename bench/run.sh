#!/usr/bin/env bash
# Benchmarks the portal against the framework's limit (bench/anchor.py), side by side, in one run.
#   bench/run.sh                      # on the seeded database (bench/seed.py) at HEARKEN_BENCH_URL
#   SMALL_URL=postgres://.../hearken_bench_small bench/run.sh   # also: list latency at 1,000 ideas
# Prints one table: requests/s, p50 and p99 per page, and each page's share of the anchor's rate.
# The anchor runs again right before each page and the share is taken against that run: on a shared
# machine the speed drifts by 10-30% over minutes, and a page measured five minutes after a single
# anchor run would carry that drift into its ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

URL="${HEARKEN_BENCH_URL:-postgres://postgres@127.0.0.1:5432/hearken_bench}"
SMALL_URL="${SMALL_URL:-}"
DURATION="${DURATION:-20s}"
WARMUP="${WARMUP:-5s}"
CONNECTIONS="${CONNECTIONS:-32}"
PORTAL_PORT="${PORTAL_PORT:-8101}"
ANCHOR_PORT="${ANCHOR_PORT:-8102}"
PY=.venv/bin/python
command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }

export HEARKEN_SECRET_KEY="bench-secret-$(printf 'x%.0s' {1..40})"
export HEARKEN_VOTE_LIMIT=1000000/minute HEARKEN_VOTE_LIMIT_PER_ADDRESS=100000000/minute
export HEARKEN_WRITE_LIMIT=1000000/minute HEARKEN_WRITE_LIMIT_PER_ADDRESS=100000000/minute
export HEARKEN_SIGNIN_LIMIT=1000/minute
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; }
trap cleanup EXIT

start_portal() {  # url port
  HEARKEN_DATABASE_URL="$1?minsize=4&maxsize=10" HEARKEN_BASE_URL="http://127.0.0.1:$2" \
    .venv/bin/hearken serve --port "$2" --workers 2 --no-access-log > "/tmp/hearken-bench-$2.log" 2>&1 &
  pids+=($!)
}
wait_for() { for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1$2" > /dev/null && return 0; sleep 0.2; done; echo "server on $1 did not start" >&2; exit 1; }

# This machine's PostgreSQL runs with autovacuum off, and every voting run leaves tens of thousands
# of dead row versions (each vote rewrites its idea's counters and its author's points): start each
# run from the state a live database's autovacuum keeps.
psql "$URL" -qc "VACUUM (ANALYZE)" > /dev/null
[ -n "$SMALL_URL" ] && psql "$SMALL_URL" -qc "VACUUM (ANALYZE)" > /dev/null

start_portal "$URL" "$PORTAL_PORT"
HEARKEN_BENCH_URL="$URL" .venv/bin/uvicorn bench.anchor:app --port "$ANCHOR_PORT" --workers 2 --log-level warning > /tmp/hearken-anchor.log 2>&1 &
pids+=($!)
wait_for "$PORTAL_PORT" /healthz
wait_for "$ANCHOR_PORT" /ideas

COOKIE="$($PY bench/login.py "http://127.0.0.1:$PORTAL_PORT")"
IDEA_PAGE="$(curl -s -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$PORTAL_PORT/ideas/1")"
IDEA_PAGE="${IDEA_PAGE#http://127.0.0.1:$PORTAL_PORT}"
IDEA_PAGE="${IDEA_PAGE:-/ideas/1}"

run() {  # name port path [lua] [header]
  local name=$1 port=$2 path=$3 lua=${4:-} header=${5:-}
  local script; script=$(mktemp --suffix .lua)
  { [ -n "$lua" ] && cat "bench/lua/$lua"; cat bench/lua/report.lua; } > "$script"
  local args=(-t 2 -c "$CONNECTIONS" -s "$script")
  [ -n "$header" ] && args+=(-H "$header")
  wrk "${args[@]}" -d "$WARMUP" "http://127.0.0.1:$port$path" > /dev/null 2>&1 || true
  # How wrk's connections fell to the two workers: they keep them for the whole run, and a worker
  # holding 22 of 32 (or all) sets the latency of most requests. Sampled once, mid-run.
  local split; split=$(mktemp)
  (sleep 5; ss -Htnp state established "( sport = :$port )" 2> /dev/null | grep -o 'pid=[0-9]*' | sort | uniq -c \
    | awk '{print $1}' | sort -rn | paste -sd/ > "$split") &
  local line; line=$(BENCH_IDEAS=2000 BENCH_TOKENS=1000 wrk "${args[@]}" -d "$DURATION" --latency "http://127.0.0.1:$port$path" | grep '^RESULT')
  wait
  rm -f "$script"
  echo "$name $line split=$(cat "$split")"
  rm -f "$split"
}

paired() {  # name port path [lua] [header]: the anchor, then the page
  run "anchor@$1" "$ANCHOR_PORT" /ideas
  run "$@"
}

results=$(mktemp)
if [ -n "$SMALL_URL" ]; then
  start_portal "$SMALL_URL" $((PORTAL_PORT + 10))
  wait_for $((PORTAL_PORT + 10)) /healthz
fi
{
  paired home "$PORTAL_PORT" /
  paired list_anonymous "$PORTAL_PORT" /ideas
  [ -n "$SMALL_URL" ] && paired list_anonymous_1000_ideas $((PORTAL_PORT + 10)) /ideas
  paired list_signed_in "$PORTAL_PORT" /ideas "" "Cookie: $COOKIE"
  paired idea_page_50_comments "$PORTAL_PORT" "$IDEA_PAGE"
  paired search "$PORTAL_PORT" /ideas search.lua
  paired search_uncached "$PORTAL_PORT" /ideas search_uncached.lua
  paired vote "$PORTAL_PORT" /api/v1/ideas/2/vote vote.lua
} | tee "$results" > /dev/null

$PY - "$results" <<'PYEOF'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    name, rest = line.split(" ", 1)
    rows[name] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)(?=\s|$)", rest)}
    rows[name]["split"] = (re.findall(r"split=(\S*)", rest) or ["?"])[0] or "?"
anchors = {name.split("@", 1)[1]: r for name, r in rows.items() if name.startswith("anchor@")}
pages = {name: r for name, r in rows.items() if not name.startswith("anchor@")}
by_rate = sorted(anchors.values(), key=lambda r: r["rps"])
middle = by_rate[len(by_rate) // 2]
print(f"{'page':<28}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'errors':>8}{'anchor req/s':>14}{'anchor p99':>12}{'vs anchor':>11}{'split':>8}{'anchor split':>14}")
print(f"{'anchor (median run)':<28}{middle['rps']:>10.0f}{middle['p50_ms']:>10.2f}{middle['p95_ms']:>10.2f}{middle['p99_ms']:>10.2f}{middle['errors']:>8.0f}"
      f"{'':>14}{'':>12}{'100%':>11}{middle['split']:>8}")
for name, r in pages.items():
    anchor = anchors[name]
    print(f"{name:<28}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}{r['p95_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['errors']:>8.0f}{anchor['rps']:>14.0f}{anchor['p99_ms']:>12.2f}"
          f"{r['rps'] / anchor['rps']:>10.0%}{r['split']:>8}{anchor['split']:>14}")
print("anchor p99: the p99 of the anchor run right before the page, the machine's floor at that moment")
print("split: wrk's 32 connections per worker, mid-run (the portal's workers each have their own socket;")
print("the anchor's share one, and the first awake takes what is waiting; a lopsided split costs p99)")
print(f"anchor runs: {min(r['rps'] for r in by_rate):.0f} to {max(r['rps'] for r in by_rate):.0f} req/s, "
      f"p99 {min(r['p99_ms'] for r in by_rate):.1f} to {max(r['p99_ms'] for r in by_rate):.1f} ms")
if "list_anonymous_1000_ideas" in pages:
    big, small = rows["list_anonymous"]["p50_ms"], rows["list_anonymous_1000_ideas"]["p50_ms"]
    print(f"list p50 at the seeded size vs 1,000 ideas: {big:.2f} ms vs {small:.2f} ms ({big / small - 1:+.0%})")
    # The same comparison with each run's drift taken out: latency at a fixed load is inverse to
    # the rate, so compare the rates as shares of each one's own anchor run.
    share = {n: pages[n]["rps"] / anchors[n]["rps"] for n in ("list_anonymous", "list_anonymous_1000_ideas")}
    print(f"  as shares of their anchor runs: {share['list_anonymous']:.0%} vs {share['list_anonymous_1000_ideas']:.0%} "
          f"({share['list_anonymous_1000_ideas'] / share['list_anonymous'] - 1:+.0%} latency at the seeded size)")
PYEOF

echo "counters after the vote run:"
HEARKEN_DATABASE_URL="$URL" .venv/bin/hearken repair-counters --dry-run | tail -1
