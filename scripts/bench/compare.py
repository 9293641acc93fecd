#!/usr/bin/env python3
"""Runs our `dbn bench` and the peer scripts alternately (ours, peer1, peer2, ours, ...) for N rounds
per work item, then prints a Markdown table of median seconds per epoch, GFLOP/s (flops.py) and
speed-ups against the goals, and writes results/latest.json and results/latest.md.
Standard library only; the peers run under scripts/bench/.venv (setup.sh)."""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import flops

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PEERS = {
    "cd1": {"numpy": ["numpy_rbm.py"], "torch": ["torch_rbm.py"]},
    "pretrain": {"numpy": ["numpy_rbm.py", "--layers", "784-500-500-2000"]},
    "finetune": {"torch": ["torch_finetune.py"], "jax": ["jax_finetune.py"]},
}
GOALS = {("cd1", "numpy"): 1.6, ("cd1", "torch"): 1.6, ("pretrain", "numpy"): 1.8, ("finetune", "jax"): 1.3}


def run(cmd, env, timeout):
    """Runs cmd; returns (the JSON object on its last stdout line, None) or (None, error text)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{type(e).__name__}: {e}"
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        return None, f"exit {p.returncode}: {tail}"
    try:
        out = json.loads(lines[-1])
        secs = out["seconds"]
        out["seconds"] = [float(s) for s in (secs if isinstance(secs, list) else [secs])]
    except (ValueError, KeyError, TypeError) as e:
        return None, f"bad last line ({e}): {lines[-1][:200]}"
    out["wall_seconds"] = time.perf_counter() - t0
    return out, None


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def fmt(x, digits=3):
    return "—" if x is None else f"{x:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smoke mode: 6,000 images, 1 round")
    ap.add_argument("--works", default="cd1,pretrain,finetune")
    ap.add_argument("--peers", default="numpy,torch,jax")
    ap.add_argument("--ours-cmd", default=".build/release/dbn bench",
                    help="our command (run from the repo root); gets --work W --epochs 1 --json [--limit N] [--data D]")
    ap.add_argument("--python", default=str(HERE / ".venv" / "bin" / "python"), help="interpreter for the peers")
    ap.add_argument("--data", help="MNIST folder (default: the repo's datasets/mnist)")
    ap.add_argument("--limit", type=int, help="images per epoch (default 60000; 6000 with --quick)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--results", type=Path, default=HERE / "results")
    args = ap.parse_args()
    rounds = 1 if args.quick else args.rounds
    limit = args.limit or (6000 if args.quick else 60000)
    python = args.python if Path(args.python).exists() else sys.executable
    works = [w for w in args.works.split(",") if w]
    wanted = set(args.peers.split(","))

    env = dict(os.environ, BENCH_THREADS=str(args.threads),
               XLA_FLAGS=f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={args.threads}")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    peer_env = dict(env)
    if not args.quick:  # these pin an older OpenBLAS kernel that slows NumPy's own (never in CI/tests)
        for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            peer_env.pop(var, None)

    def ours_cmd(work):
        cmd = shlex.split(args.ours_cmd) + ["--work", work, "--epochs", "1", "--json"]
        if limit != 60000:
            cmd += ["--limit", str(limit)]
        return cmd + (["--data", args.data] if args.data else [])

    def peer_cmd(script):
        cmd = [python] + [str(HERE / script[0])] + script[1:]
        cmd += ["--epochs", "1", "--repeats", "1", "--limit", str(limit)]
        return cmd + (["--data", args.data] if args.data else [])

    runs, failed = [], set()
    start = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    for work in works:
        runners = [("ours", ours_cmd(work), env)]
        runners += [(p, peer_cmd(s), peer_env) for p, s in PEERS[work].items() if p in wanted]
        for rnd in range(1, rounds + 1):
            for name, cmd, e in runners:
                if (work, name) in failed:
                    continue
                out, err = run(cmd, e, args.timeout)
                secs = out["seconds"] if out else None
                print(f"[{work} round {rnd}] {name:5s} " + (f"{statistics.median(secs):.3f} s" if out else f"FAILED {err}"),
                      file=sys.stderr, flush=True)
                if err:
                    failed.add((work, name))
                runs.append({"work": work, "runner": name, "round": rnd, "cmd": cmd, "result": out, "error": err})

    def samples(work, name):
        return [s for r in runs if r["work"] == work and r["runner"] == name and r["result"] for s in r["result"]["seconds"]]

    rows = []
    for work in works:
        flop = flops.work_flops(work, limit)
        ours = samples(work, "ours")
        our_med = statistics.median(ours) if ours else None
        reported = [r["result"].get("gflops") for r in runs if r["work"] == work and r["runner"] == "ours" and r["result"]]
        for peer in (p for p in PEERS[work] if p in wanted):
            theirs = samples(work, peer)
            med = statistics.median(theirs) if theirs else None
            speedup = med / our_med if med and our_med else None
            goal = GOALS.get((work, peer))
            met = None if goal is None or speedup is None else speedup >= goal
            rows.append({"work": work, "peer": peer, "median_s": med, "gflops": flops.gflops(flop, med),
                         "our_median_s": our_med, "our_gflops": flops.gflops(flop, our_med),
                         "our_reported_gflops": statistics.median(reported) if all(reported) and reported else None,
                         "speedup": speedup, "goal": goal, "met": met,
                         "peer_samples": theirs, "our_samples": ours})

    head = "| work | peer | median s | GFLOP/s | our median s | our GFLOP/s | speed-up (peer/ours) | goal | met? |"
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r["work"], r["peer"], fmt(r["median_s"]), fmt(r["gflops"], 1), fmt(r["our_median_s"]),
            fmt(r["our_gflops"], 1), "—" if r["speedup"] is None else f"{r['speedup']:.2f}x",
            "—" if r["goal"] is None else f">= {r['goal']}x",
            {True: "yes", False: "**no**", None: "—"}[r["met"]]))
    notes = [f"{limit} images per epoch, {rounds} round(s), {args.threads} threads, {cpu_model()}, "
             f"load average {load_before[0]:.2f} before / {os.getloadavg()[0]:.2f} after; "
             f"{start:%Y-%m-%d %H:%M} UTC. GFLOP/s = GEMM FLOPs (flops.py) / median seconds."]
    for r in {r["work"]: r for r in rows}.values():
        if r["our_reported_gflops"] and r["our_gflops"] and abs(r["our_reported_gflops"] / r["our_gflops"] - 1) > 0.05:
            notes.append(f"note: {r['work']}: ours reports {r['our_reported_gflops']:.1f} GFLOP/s, "
                         f"flops.py gives {r['our_gflops']:.1f} (different FLOP count?)")
    notes += [f"failed: {r['work']} {r['runner']} round {r['round']}: {r['error']}" for r in runs if r["error"]]
    md = "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"
    print(md)

    args.results.mkdir(parents=True, exist_ok=True)
    meta = {"date": start.isoformat(), "quick": args.quick, "rounds": rounds, "images": limit,
            "threads": args.threads, "cpu": cpu_model(), "nproc": os.cpu_count(), "platform": platform.platform(),
            "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "ours_cmd": args.ours_cmd}
    (args.results / "latest.json").write_text(json.dumps({"meta": meta, "rows": rows, "runs": runs}, indent=1) + "\n")
    (args.results / "latest.md").write_text(md)
    return 0 if rows and all(r["median_s"] is not None and r["our_median_s"] is not None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
