"""A 30-second soak in CI: `bench/soak.py` runs its own mosquitto, InfluxDB, ingestor and paced publisher, and what
it reports must be real (every reading accounted for, samples taken, memory read, lag bounded)."""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import orjson

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"
DURATION_S = 30
RATE = 400  # messages/s, 2,000 readings/s: a tenth of the soak's default


def test_short_soak_accounts_for_every_reading(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    argv = [sys.executable, str(SOAK), "--duration", str(DURATION_S), "--rate", str(RATE), "--json", str(out)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = orjson.loads(out.read_bytes())

    expected_readings = DURATION_S * RATE * 5
    assert 0.95 * expected_readings <= figures["published_readings"] <= expected_readings
    assert figures["lost"] == 0
    assert figures["rejected"] == figures["rejected_expected"] > 0
    assert figures["stored"] == figures["published_readings"] - figures["rejected_expected"]
    assert figures["ingestor_exit_code"] == 0

    samples = figures["samples"]
    assert len(samples) == figures["samples_taken"] >= 10
    assert samples[-1]["t_s"] >= DURATION_S
    for earlier, later in pairwise(samples):
        assert earlier["published"] <= later["published"]
        assert earlier["stored"] <= later["stored"]
    assert all(s["rss_bytes"] > 0 for s in samples)
    assert figures["rss_ref_mib"] > 0
    assert figures["rss_end_mib"] > 0
    assert figures["rss_peak_mib"] >= figures["rss_end_mib"]

    assert figures["lag_bounded"] is True
    assert 0 < figures["lag_max_s"] <= figures["lag_bound_s"]
    assert figures["spool_max_bytes"] == 0  # InfluxDB took every write: nothing went to the disk spool
