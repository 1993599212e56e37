"""Benchmark `aiscaffold check` and `aiscaffold preview` (a script, not a test).

    python bench/check.py [--runs 5] [--scale 10] [--clouds aws azure gcp]

For each cloud it renders the default project, and a copy scaled to SCALE times the
resources: the program's body runs SCALE times, each round giving every component and
resource a distinct name (an AST rewrite of the generated __main__.py). It times the
commands as a user runs them (a fresh process each time, so imports count) and prints
medians, peak memory, the per-resource marginal cost, and how time grows against
resources. For comparison it also times `check` with Python's cyclic garbage collector
left on (the CLI's process entry point turns it off; see aiscaffold.cli.run).

Target on a 2-core machine: under 3 s for a default project; time growing no faster
than linearly with the number of resources.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLOUDS = ("aws", "azure", "gcp")
GC_ON = "import sys; from aiscaffold.cli import main; sys.exit(main(sys.argv[1:]))"
NAMED_MODULES = (
    "aws",
    "azure",
    "azure_native",
    "gcp",
    "pulumi_aws",
    "pulumi_azure_native",
    "pulumi_gcp",
)


class _Suffixer(ast.NodeTransformer):
    """Suffix the name (first argument) of component and resource constructors."""

    def __init__(self, classes: set[str]) -> None:
        self.classes = classes

    def _is_constructor(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.classes
        if isinstance(func, ast.Attribute):
            root = func
            while isinstance(root, ast.Attribute):
                root = root.value  # type: ignore[assignment]
            return (
                isinstance(root, ast.Name) and root.id in NAMED_MODULES and func.attr[:1].isupper()
            )
        return False

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        export = isinstance(node.func, ast.Attribute) and node.func.attr == "export"
        if (self._is_constructor(node.func) or export) and node.args:
            node.args[0] = ast.BinOp(
                left=node.args[0], op=ast.Add(), right=ast.Name("_ROUND", ast.Load())
            )
        return node


def scale_program(source: str, rounds: int) -> str:
    """The program with its body repeated ``rounds`` times under distinct names."""
    tree = ast.parse(source)
    classes = {
        name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("aiscaffold_components.")
        for alias in node.names
        if (name := alias.asname or alias.name)[:1].isupper() and not name.isupper()  # classes
    }
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(getattr(body[0], "value", None), ast.Constant)
    ):
        body = body[1:]  # the module docstring
    function = ast.FunctionDef(
        name="_build",
        args=ast.arguments(
            posonlyargs=[], args=[ast.arg("_ROUND")], kwonlyargs=[], kw_defaults=[], defaults=[]
        ),
        body=[_Suffixer(classes).visit(n) for n in body] or [ast.Pass()],
        decorator_list=[],
        returns=None,
        type_params=[],
    )
    loop = ast.parse(f"for _i in range({rounds}):\n    _build('' if _i == 0 else f'-{{_i}}')").body
    module = ast.Module(body=[*imports, function, *loop], type_ignores=[])
    return ast.unparse(ast.fix_missing_locations(module))


def _time(command: list[str], cwd: Path, runs: int) -> tuple[float, float]:
    """Median wall time (s) and median peak RSS (MiB) of ``command`` in fresh processes."""
    samples, peaks = [], []
    env = {**os.environ, "NO_COLOR": "1"}
    for _ in range(runs):
        start = time.perf_counter()
        with subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        ) as process:
            assert process.stderr is not None
            stderr = process.stderr.read().decode()
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        samples.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)  # KiB on Linux
        if process.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{stderr}")
    return statistics.median(samples), statistics.median(peaks)


def _resources(project: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "aiscaffold", "preview", "--format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(1 for r in json.loads(done.stdout)["resources"] if r["custom"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument(
        "--scale", type=int, default=10, help="resource multiplier of the scaled project"
    )
    parser.add_argument("--clouds", nargs="+", default=list(CLOUDS), choices=CLOUDS)
    args = parser.parse_args()

    from aiscaffold.generate import generate

    # --no-cache: the check itself, not the cached answer (bench/check_cache.py times that).
    check_cmd = [sys.executable, "-m", "aiscaffold", "check", "--no-cache"]
    # The same command through the in-process entry point, which leaves Python's cyclic
    # garbage collector on: what the CLI would cost without the tuning in cli.run().
    gc_on_cmd = [sys.executable, "-c", GC_ON, "check", "--no-cache"]
    preview_cmd = [sys.executable, "-m", "aiscaffold", "preview"]
    print(
        f"aiscaffold check / preview, median of {args.runs} runs, fresh process each (imports included)"
    )
    print(
        f"{'project':<16}{'resources':>10}{'check s':>9}{'preview s':>11}{'ms/res':>8}"
        f"{'peak MiB':>10}{'gc on: s':>10}{'MiB':>6}{'speedup':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for cloud in args.clouds:
            base = Path(tmp) / f"{cloud}-bench"
            generate(base, answers={"cloud": cloud}, defaults=True)
            scaled = Path(tmp) / f"{cloud}-x{args.scale}"
            shutil.copytree(base, scaled)
            main_py = scaled / "__main__.py"
            main_py.write_text(scale_program(main_py.read_text(), args.scale))
            rows = []
            for label, project in ((f"{cloud} default", base), (f"{cloud} x{args.scale}", scaled)):
                count = _resources(project)
                check, peak = _time(check_cmd, project, args.runs)
                preview, _ = _time(preview_cmd, project, args.runs)
                gc_on, gc_on_peak = _time(gc_on_cmd, project, args.runs)
                rows.append((count, check))
                print(
                    f"{label:<16}{count:>10}{check:>9.2f}{preview:>11.2f}{1000 * check / count:>8.1f}"
                    f"{peak:>10.0f}{gc_on:>10.2f}{gc_on_peak:>6.0f}{gc_on / check:>8.2f}x"
                )
            (n1, t1), (n10, t10) = rows
            marginal = (t10 - t1) / (n10 - n1)
            print(
                f"{'':<16}resources x{n10 / n1:.1f}, check time x{t10 / t1:.2f}; "
                f"marginal {1000 * marginal:.1f} ms/resource; fixed cost {t1 - marginal * n1:.2f} s"
            )
    print("target: default project < 3 s; time ratio <= resource ratio (linear or better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
