"""Assemble BENCHMARKS.md from the result sections the bench scripts wrote.

    .venv/bin/python bench/write_benchmarks.py

Each ``bench/bench_*.py`` writes its own section to ``bench/results/<name>.md`` when run; this
script only concatenates them (in a fixed order) under a header naming the machine, so every
figure in BENCHMARKS.md comes from a script anyone can rerun.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ORDER = [
    "ingestion",
    "features",
    "models",
    "ensemble",
    "mixed",
    "serving",
    "monitoring",
    "pricing",
    "mutation",
]


def section_order(path: Path) -> tuple[int, str]:
    """Sections in pipeline order; ``models_long.md`` sorts with ``models``."""
    stem = path.stem.split("_")[0] if path.stem.split("_")[0] in ORDER else path.stem
    return (ORDER.index(stem) if stem in ORDER else len(ORDER), path.stem)


def main() -> None:
    sections = sorted(RESULTS.glob("*.md"), key=section_order)
    header = [
        "# Benchmarks",
        "",
        "Every figure below is printed by a script in `bench/`; the section says which. Each",
        "script writes its section to `bench/results/<name>.md`; `bench/write_benchmarks.py`",
        "assembles this file. Timings are medians over repeats on a shared machine",
        f"({os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}); ratios are taken within one run. Sections record",
        "the load they ran under where the script measures it: a busy machine slows absolute",
        "times, so compare ratios taken in the same run rather than times across sections.",
        "",
        "",
    ]
    body = [p.read_text().strip() + "\n" for p in sections]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(header) + "\n".join(body))


if __name__ == "__main__":
    main()
