"""Run every benchmark, each in a fresh process, and write the results with the machine.

    pip install -e ".[bench]"          # the peers: micrograd, torch (CPU), scikit-learn, psutil
    python benchmarks/run_all.py       # about 15 minutes on a 2-core machine
    python benchmarks/run_all.py --quick --only mlp cnn
    python benchmarks/run_all.py --clock cpu --rounds 5 --process-rounds 2   # a loaded machine

Writes RESULTS.md (tables, targets, machine) and results.json into --out (default
benchmarks/results). Thread counts are pinned equal for every system (one by default).
``--rounds N`` goes to the workloads timed in one process (moons, mlp, elementwise, cnn,
recorder), ``--process-rounds N`` to those run one process per system and round (chain,
memory); each script's own default otherwise. The load average is recorded before, after each
workload and at the end.
"""
import _harness as H  # first: pins the thread count before numpy is imported

# isort: split

import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROCESS_PER_ROUND = ("chain", "memory")
WORKLOADS = {  # name -> script: issue 10's workloads (a) to (f) in its order, then the recorder
    "moons": "bench_moons.py",
    "chain": "bench_chain.py",
    "mlp": "bench_mlp.py",
    "elementwise": "bench_elementwise.py",
    "cnn": "bench_cnn.py",
    "memory": "bench_memory.py",
    "recorder": "bench_recorder.py",  # issue 13: recording costs at most 1.5x the step alone
}


def _version(dist):
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:  # noqa: BLE001  (not installed, or no metadata)
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(*args):
    try:
        return subprocess.run(["git", *args], cwd=H.ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict:
    """What the numbers depend on: CPU, cores, memory, versions, BLAS, threads."""
    import numpy as np

    info = {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": H.THREADS,
        "tinygrad_lite_commit": _git("rev-parse", "--short", "HEAD"),
        "tinygrad_lite_dirty": bool(_git("status", "--porcelain", "--", "tinygrad_lite")),
        "load_average": _loadavg(),
    }
    try:
        import psutil

        info["physical_cores"] = psutil.cpu_count(logical=False)
        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_info

        info["numpy_blas"] = [{k: p.get(k) for k in ("internal_api", "version", "num_threads",
                                                     "architecture", "threading_layer")}
                              for p in threadpool_info()]
    except ImportError:
        cfg = np.show_config(mode="dicts") if "mode" in np.show_config.__code__.co_varnames else {}
        info["numpy_blas"] = cfg.get("Build Dependencies", {}).get("blas")
    torch = H.import_torch()
    if torch is not None:
        show = torch.__config__.show()
        blas = "MKL" if "Math Kernel Library" in show or "BLAS_INFO=mkl" in show else (
            "OpenBLAS" if "openblas" in show.lower() else "see torch.__config__.show()")
        info["torch"] = {"version": torch.__version__, "blas": blas,
                         "threads": torch.get_num_threads()}
    info["micrograd"] = _version("micrograd")
    info["scikit-learn"] = _version("scikit-learn")
    return info


def run(name, script, args):
    """One workload in a fresh process; its payload, or an error entry."""
    engine = _engine_state()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, os.path.join(HERE, script), "--threads", str(H.THREADS),
               "--json", out]
        if args.quick:
            cmd.append("--quick")
        rounds = args.process_rounds if name in PROCESS_PER_ROUND else args.rounds
        if rounds:
            cmd += ["--rounds", str(rounds)]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=H.ROOT, stdout=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - t0
        sys.stdout.write(p.stdout)
        sys.stdout.flush()
        if p.returncode or not os.path.exists(out):
            return {"title": name, "error": f"exit {p.returncode}", "rows": [], "targets": [],
                    "seconds": seconds}
        with open(out) as f:
            payload = json.load(f)
    payload["seconds"] = seconds
    payload["load_average_after"] = _loadavg()
    payload["engine"] = engine  # the library as this workload's process found it
    payload["command"] = " ".join(["python", f"benchmarks/{script}", "--threads",
                                   str(H.THREADS), "--clock", H.CLOCK, *cmd[6:]])
    return payload


def _engine_state():
    """The commit and the uncommitted changes of tinygrad_lite/: others may commit mid-run."""
    return {"commit": _git("log", "-1", "--format=%h", "--", "tinygrad_lite"),
            "dirty": _git("status", "--porcelain", "--", "tinygrad_lite").splitlines()}


def _loadavg():
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def render(results, info, command) -> str:
    lines = ["# tinygrad_lite benchmarks", "",
             f"Generated {info['date']} by `{command}`. Every system runs with "
             f"{info['threads']} thread(s); times are medians over alternating rounds, and each "
             f"ratio is the median over rounds of (case / baseline) measured in the same round. "
             f"\"GC raised\": the same ratio with the garbage collector's first threshold "
             f"raised to {H.GC_RAISED} (gc.set_threshold) for every system, timed in the same "
             f"rounds; the limits judge the default collector. \"jit\": tinygrad_lite's step "
             f"with forward, loss and backward in `tinygrad_lite.jit`, its losses checked equal "
             f"to eager's before timing.", "", "## Machine", "", "| | |", "|---|---|"]
    for k, v in info.items():
        if k in ("date",):
            continue
        if isinstance(v, (list, dict)):
            v = json.dumps(v)
        lines.append(f"| {k} | {v} |")
    lines += ["", "## Targets", ""]
    targets = [H.Target(**t) for r in results for t in r.get("targets", [])]
    lines.append(H.target_table(targets) if targets else "(none measured)")
    for r in results:
        lines += ["", f"## {r['title']}", ""]
        if r.get("error"):
            lines.append(f"Failed: {r['error']}")
            continue
        lines.append(H.table([H.Row(**row) for row in r["rows"]]))
        for n in r.get("notes", []):
            lines += ["", n]
        eng = r.get("engine") or {}
        lines += ["", f"({r['seconds']:.0f} s; load average after: {r.get('load_average_after')}; "
                      f"tinygrad_lite at {eng.get('commit')}, uncommitted: "
                      f"{', '.join(eng.get('dirty') or []) or 'none'})"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = H.parser(__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", choices=sorted(WORKLOADS), default=None,
                   help="run only these workloads")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="folder for the results")
    p.add_argument("--process-rounds", type=int, default=None,
                   help="rounds for the workloads run one process per system and round")
    args = p.parse_args(argv)
    names = args.only or list(WORKLOADS)
    info = machine()
    info["date"] = datetime.datetime.now().isoformat(timespec="seconds")
    results = [run(n, WORKLOADS[n], args) for n in names]
    states = {json.dumps(r.get("engine"), sort_keys=True) for r in results}
    info["engine_changed_during_run"] = len(states) > 1
    info["load_average_after"] = _loadavg()
    command = "python benchmarks/run_all.py " + " ".join(a for a in (argv or sys.argv[1:]))
    os.makedirs(args.out, exist_ok=True)
    md = render(results, info, command.strip())
    with open(os.path.join(args.out, "RESULTS.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"machine": info, "command": command.strip(), "results": results}, f, indent=1)
    print(f"wrote {os.path.relpath(os.path.join(args.out, 'RESULTS.md'), H.ROOT)} and results.json")
    failed = [r["title"] for r in results if r.get("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
