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
# The agents `cargo xtask bench` picks: agent_name(N / 2), and agent_name(i * N / 50) for the 50
# (xtask/src/scenarios.rs: DOMAINS × ROLES, then numbered rounds).
pick() {
  python3 - "$N" "$@" <<'PY'
import re, sys
src = open("xtask/src/scenarios.rs").read()
arr = lambda name: re.findall(r'"([^"]+)"', re.search(r"const %s: \[&str; \d+\] = \[(.*?)\];" % name, src, re.S).group(1))
domains, roles = arr("DOMAINS"), arr("ROLES")
def name(i):
    d, r, k = domains[i % len(domains)], roles[(i // len(domains)) % len(roles)], i // (len(domains) * len(roles))
    return f"{d}-{r}" if k == 0 else f"{d}-{r}-{k}"
n = int(sys.argv[1])
step = max(n // 50, 1)
if sys.argv[2] == "fifty":
    print(" ".join(name(i * step) for i in range(50)))
elif sys.argv[2] == "spread":  # one name per domain prefix in turn: many index trees in format 1
    print(" ".join(name((i * step + i) % n) for i in range(50)))
else:
    print(name(n // 2))
PY
}
target=$(pick target); fifty=$(pick fifty); spread=$(pick spread)
manifest_of() { printf '[agents]\n'; for n in "$@"; do printf '%s = { version = "^1", registry = "bench" }\n' "$n"; done; }
# shellcheck disable=SC2086
manifest=$(manifest_of $fifty); spread_manifest=$(manifest_of $spread)
run() { # format, then the agents arguments: prints microseconds
  local h=$W/home-$1; shift
  rm -rf "$W/p" && mkdir -p "$W/p"
  if [ "$1" = install ] && [ $# -eq 1 ]; then echo "$manifest" > "$W/p/agents.toml"
  elif [ "$1" = spread ]; then echo "$spread_manifest" > "$W/p/agents.toml"; set -- install
  else printf '[agents]\n' > "$W/p/agents.toml"; fi
  local s e
  s=$(date +%s%N)
  (cd "$W/p" && HOME=$h XDG_CONFIG_HOME=$h/.config XDG_CACHE_HOME=$h/.cache XDG_STATE_HOME=$h/.local/state \
    XDG_RUNTIME_DIR=$h/.run NO_COLOR=1 "$A" "$@" >/dev/null 2>"$W/stderr") || { cat "$W/stderr"; exit 1; }
  e=$(date +%s%N)
  echo $(( (e - s) / 1000 ))
}
for f in 1 2; do run $f install "$target" >/dev/null; run $f install >/dev/null; run $f spread >/dev/null; done
stats() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; p=a[int(NR*0.95+0.999)]; printf "median %.1f ms (p95 %.1f ms, %d runs)", m/1000, p/1000, NR}'; }
for scenario in "install" "spread" "install $target" "info $target --offline"; do
  : > "$W/t1"; : > "$W/t2"
  for r in $(seq 1 "$RUNS"); do
    # shellcheck disable=SC2086
    run 1 $scenario >> "$W/t1"; run 2 $scenario >> "$W/t2"
  done
  label=$scenario; [ "$scenario" = install ] && label="install 50 agents from a manifest"
  [ "$scenario" = spread ] && label="install 50 agents from a manifest, one name per domain prefix in turn"
  echo "$label ($N agents): format 1 $(stats < "$W/t1"); format 2 $(stats < "$W/t2")"
done
set +o pipefail
for f in 1 2; do
  g="git --git-dir $W/registry-$f.git"
  for tree in bodies bodies/00 bodies/00/00; do
    t=$($g rev-parse --verify -q "main:$tree") || continue
    echo "format $f: $tree tree $($g cat-file -s "$t") bytes, $($g ls-tree "$t" | wc -l) entries"
  done
done
t=$(git --git-dir "$W/registry-2.git" rev-parse "main:$(dirname "$(git --git-dir "$W/registry-2.git" ls-tree -r --name-only main index | grep "/$target\$")")")
echo "index tree of $target: $(git --git-dir "$W/registry-2.git" cat-file -s "$t") bytes, $(git --git-dir "$W/registry-2.git" ls-tree "$t" | wc -l) entries"
[ -n "${BENCH_KEEP:-}" ] || rm -rf "$W"
