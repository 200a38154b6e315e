#!/usr/bin/env python3
"""Two builds of `agents`, one 20-file skill (SKILL.md, nine 5 KB references, ten executable
scripts) and a one-file agent in a local registry, installed `--offline` into fresh projects,
the two builds interleaved: medians, p95 and ratios. Usage:
   python3 xtask/compare-skill-install.py BEFORE/agents AFTER/agents   (RUNS=30 by default)"""
import os, shutil, statistics, subprocess, sys, tempfile, time

BINS = {"before": sys.argv[1], "after": sys.argv[2]}
RUNS = int(os.environ.get("RUNS", "30"))
ROOT = tempfile.mkdtemp(prefix="agents-skill-bench-")

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

def fresh_project(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(f"{path}/.git")
    open(f"{path}/agents.toml", "w").write("[agents]\n")

# The registry, written once by the first build.
skill = f"{ROOT}/src/bench-skill"
os.makedirs(f"{skill}/references"); os.makedirs(f"{skill}/scripts")
open(f"{skill}/SKILL.md", "w").write("---\nname: bench-skill\ndescription: A twenty-file skill\nversion: 1.0.0\n---\nbody\n")
for i in range(1, 10):
    open(f"{skill}/references/r{i}.md", "w").write((f"reference {i} " * 400)[:5000] + "\n")
for i in range(1, 11):
    path = f"{skill}/scripts/s{i}.sh"
    open(path, "w").write(f"#!/bin/sh\necho {i}\n")
    os.chmod(path, 0o755)
open(f"{ROOT}/src/bench-agent.md", "w").write("---\nname: bench-agent\ndescription: d\n---\nbody\n")
publisher = f"{ROOT}/publisher"
os.makedirs(f"{publisher}/.run")
first = BINS["before"]
run(first, ["registry", "init", f"{ROOT}/reg.git"], ROOT, publisher)
run(first, ["registry", "add", "bench", f"{ROOT}/reg.git"], ROOT, publisher)
run(first, ["publish", skill], ROOT, publisher)
run(first, ["publish", f"{ROOT}/src/bench-agent.md", "--version", "1.0.0"], ROOT, publisher)

homes = {}
for label, binary in BINS.items():
    home = f"{ROOT}/{label}/home"
    os.makedirs(f"{home}/.config/agents"); os.makedirs(f"{home}/.run")
    open(f"{home}/.config/agents/config.toml", "w").write(f'[registries]\nbench = {{ url = "{ROOT}/reg.git" }}\n')
    fresh_project(f"{ROOT}/{label}/warm")
    run(binary, ["install", "bench-agent", "--registry", "bench"], f"{ROOT}/{label}/warm", home)  # clone the cache
    homes[label] = home

scenarios = {"install one agent": "bench-agent", "install a 20-file skill": "bench-skill"}
results = {label: {s: [] for s in scenarios} for label in BINS}
for i in range(RUNS):
    order = list(BINS.items()) if i % 2 == 0 else list(reversed(list(BINS.items())))
    for scenario, name in scenarios.items():
        for label, binary in order:
            proj = f"{ROOT}/{label}/p"
            fresh_project(proj)
            results[label][scenario].append(run(binary, ["install", "--offline", name], proj, homes[label]))
            if name == "bench-skill":
                files = sum(len(f) for _, _, f in os.walk(f"{proj}/.claude/skills/bench-skill"))
                assert files == 20, files

def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]

print(f"{RUNS} runs each, interleaved")
print("| scenario | before median (p95) | after median (p95) | after / before |")
print("| --- | --- | --- | --- |")
for scenario in scenarios:
    b, a = results["before"][scenario], results["after"][scenario]
    mb, ma = statistics.median(b), statistics.median(a)
    print(f"| {scenario} | {mb*1000:.1f} ms ({p95(b)*1000:.1f} ms) | {ma*1000:.1f} ms ({p95(a)*1000:.1f} ms) | {ma/mb:.2f} |")
shutil.rmtree(ROOT, ignore_errors=True)
