"""The API containers get time to stop gracefully: compose's stop_grace_period (what `docker stop` waits before
SIGKILL) covers every worker of the image waiting out its whole grace, one after another, with a margin."""

import re
from pathlib import Path

import yaml

from foundations import serve

ROOT = Path(__file__).resolve().parent.parent
MARGIN_SECONDS = 2  # granian's kills, its shutdown hooks and its last log line


def seconds(duration: str) -> float:
    """A compose duration (``15s``, ``1m30s``, ``500ms``) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def image_workers() -> int:
    dockerfile = (ROOT / "docker" / "api.Dockerfile").read_text()
    return int(re.search(r"FOUNDATIONS_WORKERS=(\d+)", dockerfile).group(1))


def test_stop_grace_period_covers_every_worker_grace():
    bound = image_workers() * serve.WORKER_GRACE_SECONDS + MARGIN_SECONDS
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    offline = yaml.safe_load((ROOT / "compose.offline.yaml").read_text())["services"]
    for name in ("api", "api-replica"):
        period = offline.get(name, {}).get("stop_grace_period") or services[name].get("stop_grace_period")
        assert period and seconds(period) > bound, (
            f"{name}: stop_grace_period {period!r} should exceed {bound} s (workers x grace + margin)"
        )


def test_seconds_reads_compose_durations():
    assert seconds("15s") == 15 and seconds("1m30s") == 90 and seconds("500ms") == 0.5
