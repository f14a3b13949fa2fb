"""Regenerate the README's phone screenshot of the farmer page (docs/img/farmer-village.png).

It is the browser test's own screenshot: `tests/web/test_browser.py` sends the test scene (seeded simulated
boards of two communes) through mosquitto and a real ingestor into InfluxDB, serves the app with uvicorn, opens
`/v/phu-an` in headless Chromium at 360×780 (device pixel ratio 2) and saves what it sees. This script runs that
test and copies the picture, so the README shows exactly what the test checked.

    .venv/bin/python scripts/farmer_screenshot.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/web/test_browser.py::test_the_village_page_on_a_phone"
SHOT = ROOT / "test-artifacts" / "web" / "village-phone.png"
TARGET = ROOT / "docs" / "img" / "farmer-village.png"


def main() -> int:
    """Run the browser test, then copy its screenshot next to the README."""
    SHOT.unlink(missing_ok=True)
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST], cwd=ROOT)
    if code != 0 or not SHOT.exists():
        print(f"the browser test failed (exit {code}); docs/img left as it was", file=sys.stderr)
        return code or 1
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHOT, TARGET)
    print(f"{TARGET.relative_to(ROOT)} ({TARGET.stat().st_size // 1024} KiB) from {TEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
