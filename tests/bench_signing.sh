#!/bin/bash
# Measures what signing adds to publish and install (docs: ARCHITECTURE.md, "Signatures").
# Run from the repository after `cargo build --bins`; BIN=path/to/agents to measure another build.
# Interleaved rounds: publish a new agent n$i and a new version of the existing agent a to an
# unsigned and a signed local registry, then install each into fresh projects. Median and min, us.
set -e
BIN=${BIN:-$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug/agents}
N=${N:-31}
root=$(mktemp -d)
export HOME=$root/home XDG_CONFIG_HOME=$root/home/.config XDG_CACHE_HOME=$root/home/.cache XDG_STATE_HOME=$root/home/.local/state NO_COLOR=1 GIT_CONFIG_NOSYSTEM=1
unset SSH_AUTH_SOCK
mkdir -p $HOME
ssh-keygen -q -t ed25519 -N '' -f $root/key
stats() { sort -n | awk '{a[NR]=$1} END {printf "median %d min %d", a[int((NR+1)/2)], a[1]}'; }
ms() { local s=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo FAIL "$@" >&2; exit 1; }; local e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
sign_unsigned=""; sign_signed="--sign-key $root/key"
$BIN registry init $root/unsigned.git >/dev/null 2>&1
$BIN registry init $root/signed.git --sign-key $root/key >/dev/null 2>&1
$BIN registry add unsigned $root/unsigned.git >/dev/null 2>&1
$BIN registry add signed $root/signed.git >/dev/null 2>&1
printf -- '---\nname: a\ndescription: d\n---\nbody\n' > $root/a.md
$BIN publish $root/a.md --registry unsigned --version 0.0.1 >/dev/null 2>&1
$BIN publish $root/a.md --registry signed --version 0.0.1 $sign_signed >/dev/null 2>&1
declare -A newpub pub inst
for i in $(seq 1 $N); do
  printf -- '---\nname: a\ndescription: d\n---\nbody %s\n' $i > $root/a.md
  printf -- '---\nname: n%s\ndescription: d\n---\nbody\n' $i > $root/n.md
  for kind in unsigned signed; do
    sign=sign_$kind
    newpub[$kind]+="$(ms $BIN publish $root/n.md --registry $kind --version 1.0.0 ${!sign}) "
    pub[$kind]+="$(ms $BIN publish $root/a.md --registry $kind --version 1.0.$i ${!sign}) "
    p=$root/p-$kind-$i; mkdir -p $p/.git; cd $p
    inst[$kind]+="$(ms $BIN install a@=1.0.$i --registry $kind) "
  done
done
for kind in unsigned signed; do
  echo "$kind: publish new agent $(printf '%s\n' ${newpub[$kind]} | stats); publish version $(printf '%s\n' ${pub[$kind]} | stats); install $(printf '%s\n' ${inst[$kind]} | stats)"
done
rm -rf $root
