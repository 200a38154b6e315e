#!/bin/bash
# Registry format 1 against format 2 at one scale, same binary, same run: generates both
# synthetic registries (`cargo xtask bench generate PATH N --format 1|2`), warms a cache clone of
# each, then measures, interleaved, installing 50 agents from a manifest, a warm install of one
# agent (fetch included) and a lookup, each into a fresh project; prints medians and p95.
# Usage: AGENTS_BIN=target/release/agents XTASK_BIN=target/release/xtask tests/bench_layout.sh [AGENTS] [RUNS]
set -euo pipefail
N=${1:-100000}; RUNS=${2:-11}
A=$(realpath "${AGENTS_BIN:-target/release/agents}"); X=$(realpath "${XTASK_BIN:-target/release/xtask}")
W=${BENCH_DIR:-$(mktemp -d)}
unset SSL_CERT_FILE SSL_CERT_DIR
for f in 1 2; do
  [ -d "$W/registry-$f.git" ] || "$X" bench generate "$W/registry-$f.git" "$N" --format "$f"
  h=$W/home-$f; mkdir -p "$h/.config/agents" "$h/.run"
  printf '[registries]\nbench = { url = "file://%s" }\n' "$W/registry-$f.git" > "$h/.config/agents/config.toml"
done
# The synthetic names: DOMAINS × ROLES, then numbered rounds (xtask/src/scenarios.rs agent_name).
names=$(cd "$W" && git --git-dir registry-2.git ls-tree -r --name-only main index | sed 's|.*/||' | sort)
target=$(echo "$names" | sed -n "$((N / 2))p")
fifty=$(echo "$names" | awk -v step=$((N / 50)) 'NR % step == 1' | head -50)
manifest=$(printf '[agents]\n'; for n in $fifty; do printf '%s = { version = "^1", registry = "bench" }\n' "$n"; done)
run() { # format, then the agents arguments: prints microseconds
  local h=$W/home-$1; shift
  rm -rf "$W/p" && mkdir -p "$W/p"
  if [ "$1" = install ] && [ $# -eq 1 ]; then echo "$manifest" > "$W/p/agents.toml"; else printf '[agents]\n' > "$W/p/agents.toml"; fi
  local s e
  s=$(date +%s%N)
  (cd "$W/p" && HOME=$h XDG_CONFIG_HOME=$h/.config XDG_CACHE_HOME=$h/.cache XDG_STATE_HOME=$h/.local/state \
    XDG_RUNTIME_DIR=$h/.run NO_COLOR=1 "$A" "$@" >/dev/null 2>"$W/stderr") || { cat "$W/stderr"; exit 1; }
  e=$(date +%s%N)
  echo $(( (e - s) / 1000 ))
}
for f in 1 2; do run $f install "$target" >/dev/null; run $f install >/dev/null; done
stats() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; p=a[int(NR*0.95+0.999)]; printf "median %.1f ms (p95 %.1f ms, %d runs)", m/1000, p/1000, NR}'; }
for scenario in "install" "install $target" "info $target --offline"; do
  : > "$W/t1"; : > "$W/t2"
  for r in $(seq 1 "$RUNS"); do
    # shellcheck disable=SC2086
    run 1 $scenario >> "$W/t1"; run 2 $scenario >> "$W/t2"
  done
  label=$scenario; [ "$scenario" = install ] && label="install 50 agents from a manifest"
  echo "$label ($N agents): format 1 $(stats < "$W/t1"); format 2 $(stats < "$W/t2")"
done
for f in 1 2; do
  g="git --git-dir $W/registry-$f.git"
  t=$($g ls-tree main bodies/ | head -1 | awk '{print $3}')
  echo "format $f: first bodies/xx tree $($g cat-file -s "$t") bytes, $($g ls-tree "$t" | wc -l) entries"
  if [ "$f" = 2 ]; then
    t2=$($g ls-tree "$t" | head -1 | awk '{print $3}')
    echo "format 2: its first bodies/xx/yy tree $($g cat-file -s "$t2") bytes, $($g ls-tree "$t2" | wc -l) entries"
  fi
done
[ -n "${BENCH_KEEP:-}" ] || rm -rf "$W"
