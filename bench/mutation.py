"""Mutation testing of the core modules: how many planted one-line bugs do the tests catch?

    .venv/bin/python bench/mutation.py                      # all core modules (about an hour)
    .venv/bin/python bench/mutation.py serving.auth         # one module, by mutant-name prefix
    .venv/bin/python bench/mutation.py --report-only        # the table from the last run

mutmut (configured under ``[tool.mutmut]`` in pyproject.toml: the modules and the tests that
guard them) writes each mutant into a copy of the code under ``mutants/``, runs the tests that
reach the mutated function, and records the outcome. This script runs it, then reads its
per-file results and prints the kill rate per module -- killed / (every mutant it tried); a
mutant no test reaches counts as a survivor -- and the survivors, each with its diff, so a
reader can judge which are equivalent. The section goes to ``bench/results/mutation.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
RESULT = ROOT / "bench" / "results" / "mutation.md"
TARGET = 0.80
# mutmut's exit-code vocabulary (mutmut.stats.status_by_exit_code), folded to four outcomes
KILLED = {1: "killed", 3: "killed"}
TIMEOUT = {-24: "timeout", 24: "timeout", 36: "timeout", 152: "timeout", 255: "timeout"}
NOT_REACHED = {5: "no tests", 33: "no tests"}


def outcome(exit_code: int | None) -> str:
    if exit_code in KILLED:
        return "killed"
    if exit_code in TIMEOUT:
        return "timeout"
    if exit_code in NOT_REACHED:
        return "no tests"
    if exit_code == 0:
        return "survived"
    return "not checked" if exit_code is None else f"other ({exit_code})"


def run_mutmut(names: list[str], children: int, fresh: bool) -> float:
    """``mutmut run``; returns its wall time in seconds."""
    if fresh and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.perf_counter()
    MUTANTS.mkdir(exist_ok=True)
    with (MUTANTS / "mutmut-run.log").open("w") as log:  # its progress, for a look while it runs
        subprocess.run(
            [str(mutmut), "run", "--max-children", str(children), *[f"{n}*" for n in names]],
            cwd=ROOT,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return time.perf_counter() - started


def results_by_module() -> dict[str, dict[str, str]]:
    """``{module: {mutant name: outcome}}`` from mutmut's ``.meta`` files."""
    modules: dict[str, dict[str, str]] = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        source = meta.relative_to(MUTANTS).with_suffix("").with_suffix("")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if any(code is not None for code in codes.values()):  # modules this run did not try
            module = ".".join(source.parts)
            modules[module] = {name: outcome(code) for name, code in codes.items()}
    return modules


def diff_of(name: str, module: str) -> str:
    """The mutant's changed lines, ``- old / + new`` (as ``mutmut show`` prints them)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    path = Path(*module.split(".")).with_suffix(".py")
    diff = get_diff_for_mutant(name, path=path)  # reads mutants/<path>, relative to ROOT
    changed = [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return " / ".join(" ".join(line.split()) for line in changed)


def table(modules: dict[str, dict[str, str]]) -> tuple[list[str], float]:
    rows = [
        "| module | mutants | killed | timeout | survived | no test reaches it | kill rate |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total: Counter = Counter()
    for module, outcomes in modules.items():
        counts = Counter(outcomes.values())
        total.update(counts)
        rows.append(row(module, counts))
    rows.append(row("**all**", total))
    return rows, kill_rate(total)


def kill_rate(counts: Counter) -> float:
    tried = sum(counts.values()) - counts["not checked"]
    return (counts["killed"] + counts["timeout"]) / tried if tried else float("nan")


def row(name: str, counts: Counter) -> str:
    cells = [counts[k] for k in ("killed", "timeout", "survived", "no tests")]
    return (
        f"| {name} | {sum(counts.values())} | "
        + " | ".join(f"{c:,}" for c in cells)
        + f" | {kill_rate(counts):.1%} |"
    )


def section(modules: dict[str, dict[str, str]], command: str, seconds: float | None) -> str:
    rows, rate = table(modules)
    survivors = [
        (name, module, result)
        for module, outcomes in modules.items()
        for name, result in sorted(outcomes.items())
        if result not in ("killed", "timeout", "not checked")
    ]
    lines = [
        "## Mutation testing of the core modules",
        "",
        f"Command: `{command}` (mutmut, configured in `pyproject.toml`)"
        + (f"; {seconds / 60:.0f} minutes on this machine." if seconds else "."),
        "A mutant is one small change (an operator, a constant, a dropped call); it is killed",
        "when a test fails. Timeouts count as killed (the change made a test hang or spin).",
        "",
        *rows,
        "",
        f"Kill rate {rate:.1%} against a target of {TARGET:.0%}.",
        "",
        "### Survivors",
        "",
        "Each with its change; `bench/mutation_survivors.md` groups them and says why each",
        "group cannot be told apart from the original (or why it is left).",
        "",
        *[
            f"- `{name}` ({result}): `{diff_of(name, module)}`"
            for name, module, result in survivors
        ],
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="mutant-name prefixes, e.g. serving.auth")
    parser.add_argument("--children", type=int, default=2, help="parallel mutants")
    parser.add_argument("--report-only", action="store_true", help="no run; the last results")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results first")
    args = parser.parse_args()
    last_run = MUTANTS / "last-run.json"  # what produced the results, for --report-only
    if not args.report_only:
        seconds = run_mutmut(args.modules, args.children, args.fresh)
        flags = " --fresh" if args.fresh else ""
        command = "python bench/mutation.py" + flags + "".join(f" {m}" for m in args.modules)
        last_run.write_text(json.dumps({"command": command, "seconds": seconds}))
    elif last_run.exists():
        command, seconds = json.loads(last_run.read_text()).values()
    else:
        command, seconds = "python bench/mutation.py", None
    os.chdir(ROOT)  # mutmut's own readers take paths relative to the project
    modules = results_by_module()
    if not modules:
        sys.exit("no mutmut results under mutants/: run without --report-only first")
    text = section(modules, ".venv/bin/" + command, seconds)
    print(text)
    if not args.modules:
        RESULT.write_text(text)


if __name__ == "__main__":
    main()
