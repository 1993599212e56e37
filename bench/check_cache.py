"""Benchmark the check cache: `aiscaffold check` cold, in full, and answered from the cache
(a script, not a test).

    python bench/check_cache.py [--runs 5] [--example aws-bedrock-hipaa | --project DIR]

It copies a rendered example project (examples/<name>, left untouched) into a temporary
directory and times `aiscaffold check` as a user or a pre-commit hook runs it, a fresh
process each time (imports count):

* first run: nothing cached (the liveness proof of the project's policies included);
* full run: `--no-cache`, the liveness proof served from its own cache;
* cached: nothing changed since the last run, so the command replays its answer.

It checks that the cached answer printed exactly what the full run printed, and prints
medians and the ratio. Target: the cached answer well under 0.5 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK = [sys.executable, "-m", "aiscaffold", "check", "project"]


def _run(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {**os.environ, "NO_COLOR": "1"}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{done.stderr}")
    return elapsed, done


def _median(command: list[str], cwd: Path, runs: int) -> tuple[float, str]:
    samples, outputs = [], set()
    for _ in range(runs):
        elapsed, done = _run(command, cwd)
        samples.append(elapsed)
        outputs.add((done.returncode, done.stdout))
    if len(outputs) != 1:
        raise SystemExit(f"{' '.join(command)} printed different answers on the same project")
    ((code, out),) = outputs
    return statistics.median(samples), f"{code}\n{out}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument(
        "--example",
        default="aws-bedrock-hipaa",
        choices=sorted(
            p.name for p in (ROOT / "examples").iterdir() if (p / "Pulumi.yaml").is_file()
        ),
        help="the rendered example project to copy",
    )
    parser.add_argument(
        "--project", type=Path, help="copy this rendered project instead of an example"
    )
    args = parser.parse_args()
    source = args.project or ROOT / "examples" / args.example

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(
            source,
            project,
            ignore=shutil.ignore_patterns(".aiscaffold", "__pycache__"),
        )
        first, _ = _run(CHECK, Path(tmp))
        full, full_answer = _median([*CHECK, "--no-cache"], Path(tmp), args.runs)
        _run(CHECK, Path(tmp))  # the entry of the plain command (--no-cache refreshed it too)
        cached, cached_answer = _median(CHECK, Path(tmp), args.runs)
        _, done = _run(CHECK, Path(tmp))
        if "from cache: nothing changed since" not in done.stderr:
            raise SystemExit(f"the second check was not served from the cache:\n{done.stderr}")
        if cached_answer != full_answer:
            raise SystemExit("the cached answer differs from the full run's")

    print(
        f"aiscaffold check on {source.name}, median of {args.runs} runs, "
        "fresh process each (imports included)"
    )
    print(f"{'first run (nothing cached)':<34}{first:>8.2f} s")
    print(f"{'full run (--no-cache)':<34}{full:>8.2f} s")
    print(f"{'cached (nothing changed)':<34}{cached:>8.2f} s")
    print(f"{'ratio full / cached':<34}{full / cached:>8.1f}x")
    print("target: cached answer < 0.5 s, identical to the full run's output and exit code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
