#!/bin/bash
# Installs a 20-file skill and a one-file agent from a local registry into fresh projects.
set -e
# Usage: AGENTS_BIN=path/to/agents tests/bench_skill.sh (dev or release build)
B=$(mktemp -d); A=${AGENTS_BIN:-target/debug/agents}
export HOME=$B/home XDG_CONFIG_HOME=$B/home/.config XDG_STATE_HOME=$B/home/.local/state XDG_CACHE_HOME=$B/home/.cache
mkdir -p $HOME $B/skill/bench-skill/scripts $B/skill/bench-skill/references
$A registry init $B/reg.git >/dev/null 2>&1; $A registry add team $B/reg.git >/dev/null 2>&1
printf -- '---\nname: bench-skill\ndescription: A twenty-file skill\nversion: 1.0.0\n---\nbody\n' > $B/skill/bench-skill/SKILL.md
for i in $(seq 1 9); do head -c 4000 /dev/urandom | base64 > $B/skill/bench-skill/references/r$i.md; done
for i in $(seq 1 10); do printf '#!/bin/sh\necho %s\n' $i > $B/skill/bench-skill/scripts/s$i.sh; chmod +x $B/skill/bench-skill/scripts/s$i.sh; done
$A publish $B/skill/bench-skill >/dev/null 2>&1
printf -- '---\nname: bench-agent\ndescription: d\n---\nbody\n' > $B/agent.md
$A publish $B/agent.md --version 1.0.0 >/dev/null 2>&1
measure() {
  local name=$1; local times=()
  for r in $(seq 1 21); do
    rm -rf $B/p && mkdir -p $B/p && cd $B/p && git init -q && $A init >/dev/null 2>&1
    s=$(date +%s%N); $A install --offline $name >/dev/null 2>&1; e=$(date +%s%N)
    times+=($(( (e-s)/1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 11p | awk -v n=$name '{printf "%s median %.1f ms\n", n, $1/1000}'
}
measure bench-agent; measure bench-skill; measure bench-agent; measure bench-skill
rm -rf "$B"
