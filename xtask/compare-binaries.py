#!/usr/bin/env python3
"""Two builds of `agents`, the same scenarios, interleaved: medians, p95 and ratios. Usage:
   python3 xtask/compare-binaries.py BEFORE/agents AFTER/agents   (RUNS=30 by default), after
   `cargo xtask bench generate /tmp/bench-reg.git 10000`."""
import os, shutil, statistics, subprocess, sys, time, json

REG = "/tmp/bench-reg.git"
BINS = {"before": sys.argv[1], "after": sys.argv[2]}
ROOT = "/tmp/bench-compare"
RUNS = int(os.environ.get("RUNS", "30"))

names = subprocess.run(["git", "--git-dir", REG, "ls-tree", "-r", "--name-only", "main", "index"],
                       capture_output=True, text=True, check=True).stdout.split()
all_names = [n.rsplit("/", 1)[-1] for n in names]
names = all_names[:50]
thousand = all_names[:1000]
one = names[0]

def env_for(home):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTS_", "SSL_CERT"))}
    e.update(HOME=home, XDG_CONFIG_HOME=f"{home}/.config", XDG_CACHE_HOME=f"{home}/.cache",
             XDG_STATE_HOME=f"{home}/.local/state", XDG_DATA_HOME=f"{home}/.local/share",
             XDG_RUNTIME_DIR=f"{home}/.run", GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1")
    return e

def run(binary, args, cwd, home):
    started = time.perf_counter()
    p = subprocess.run([binary, *args], cwd=cwd, env=env_for(home), capture_output=True)
    took = time.perf_counter() - started
    if p.returncode != 0:
        raise SystemExit(f"{binary} {args} failed: {p.stderr.decode()}")
    return took

def fresh_project(path, manifest=None):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(f"{path}/.git")
    if manifest:
        open(f"{path}/agents.toml", "w").write(manifest)

homes = {}
for label, binary in BINS.items():
    home = f"{ROOT}/{label}/home"
    shutil.rmtree(f"{ROOT}/{label}", ignore_errors=True)
    os.makedirs(f"{home}/.config/agents"); os.makedirs(f"{home}/.run")
    open(f"{home}/.config/agents/config.toml", "w").write(f'[registries]\nbench = {{ url = "{REG}" }}\n')
    fresh_project(f"{ROOT}/{label}/warm")
    run(binary, ["install", one, "--registry", "bench"], f"{ROOT}/{label}/warm", home)  # clone the cache
    homes[label] = home

manifest = "[agents]\n" + "".join(f'{n} = {{ version = "*", registry = "bench" }}\n' for n in names)
results = {label: {"install one": [], "install 50 (manifest)": [], "sync 50 (nothing to do)": [], "sync 50 (one restored)": [],
                   "list, 1,000 installed": [], "verify, 1,000 installed": []} for label in BINS}
big_manifest = "[agents]\n" + "".join(f'{n} = {{ version = "*", registry = "bench" }}\n' for n in thousand)
for label, binary in BINS.items():
    proj = f"{ROOT}/{label}/synced"
    fresh_project(proj, manifest)
    run(binary, ["install"], proj, homes[label])
    big = f"{ROOT}/{label}/thousand"
    fresh_project(big, big_manifest)
    run(binary, ["install"], big, homes[label])
for i in range(RUNS):
    for label, binary in (BINS.items() if i % 2 == 0 else reversed(list(BINS.items()))):
        home = homes[label]
        proj = f"{ROOT}/{label}/p"
        fresh_project(proj)
        results[label]["install one"].append(run(binary, ["install", one, "--registry", "bench"], proj, home))
        fresh_project(proj, manifest)
        results[label]["install 50 (manifest)"].append(run(binary, ["install"], proj, home))
        synced = f"{ROOT}/{label}/synced"
        results[label]["sync 50 (nothing to do)"].append(run(binary, ["sync", "--offline"], synced, home))
        os.remove(f"{synced}/.claude/agents/{names[7]}.md")
        results[label]["sync 50 (one restored)"].append(run(binary, ["sync", "--offline"], synced, home))
        big = f"{ROOT}/{label}/thousand"
        results[label]["list, 1,000 installed"].append(run(binary, ["list"], big, home))
        results[label]["verify, 1,000 installed"].append(run(binary, ["verify"], big, home))

print(f"| scenario (10,000 agents × 10 versions, {RUNS} runs each, interleaved) | before: median (p95) | after: median (p95) | after / before |")
print("| --- | --- | --- | --- |")
for scenario in results["before"]:
    cells = []
    meds = {}
    for label in BINS:
        xs = sorted(results[label][scenario])
        med = statistics.median(xs) * 1000
        p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))] * 1000
        meds[label] = med
        cells.append(f"{med:.1f} ms ({p95:.1f})")
    print(f"| {scenario} | {cells[0]} | {cells[1]} | {meds['after'] / meds['before']:.2f} |")
