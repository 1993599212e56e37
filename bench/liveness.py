"""Benchmark the liveness proof (a script, not a test).

    python bench/liveness.py [--runs 3] [--clouds aws azure gcp]

For each cloud it renders the default project and times, in this process (the program
already run under mocks): one full ``evaluate`` (what ``check`` costs per stack), the
proof as COMPLIANCE.md makes it (``prove_liveness``: each policy evaluated again only
on the mutations that touch what it read, and left out once proven), the exhaustive
run of the mutation tests (every affected policy on every mutation), and a cached
``project_liveness``. It prints medians, the number of mutations and live policies.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

CLOUDS = ("aws", "azure", "gcp")


def _median(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _bench(cloud: str, scratch: Path, runs: int) -> str:
    from aiscaffold.check import evaluate, load_requirements
    from aiscaffold.generate import generate
    from aiscaffold.liveness import project_liveness, prove_liveness, run_all_mutations
    from aiscaffold.testing import run_program

    project = scratch / f"bench-{cloud}"
    generate(project, answers={"cloud": cloud, "project_name": f"bench-{cloud}"}, defaults=True)
    run = run_program(project)
    requirements = load_requirements(project)
    check = _median(lambda: evaluate(run, requirements), runs)
    proof = _median(lambda: prove_liveness(run, requirements), runs)
    full = _median(lambda: run_all_mutations(run, requirements), 1)
    project_liveness(project, run.stack, run, requirements)  # fill the cache
    cached = _median(lambda: project_liveness(project, run.stack, run, requirements), runs)
    result = prove_liveness(run, requirements)
    return (
        f"{cloud:6} {check:8.2f}s {proof:6.2f}s {full:10.2f}s {cached:6.2f}s "
        f"{result.mutations:>10} {len(result.live):>5}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clouds", nargs="+", default=list(CLOUDS), choices=CLOUDS)
    options = parser.parse_args()
    print(f"{'cloud':6} {'evaluate':>9} {'proof':>7} {'exhaustive':>11} {'cached':>7} "
          f"{'mutations':>10} {'live':>5}")  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        for cloud in options.clouds:
            print(_bench(cloud, Path(scratch), options.runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
