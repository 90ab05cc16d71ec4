"""No dead code in the production packages: vulture finds nothing beyond the framework hooks
listed in tests/support/vulture_whitelist.py."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["ml", "assets", "orchestration", "serving", "feature_store"]
# pydantic schemas: every field is read by FastAPI's serialiser
NOT_SCANNED = "serving/schemas.py,serving/pricing_schemas.py"


def test_vulture_finds_no_unused_code_in_the_production_packages():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vulture",
            *PACKAGES,
            "tests/support/vulture_whitelist.py",
            "--min-confidence",
            "60",
            "--exclude",
            NOT_SCANNED,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and not done.stdout, done.stdout or done.stderr
