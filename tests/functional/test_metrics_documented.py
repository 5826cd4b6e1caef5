"""Every metric a relay serves at /metrics is in docs/operations.md's list, and nothing else is.

The list is what dashboards are built from ("Metrics", Grafana-ready): a metric added
without a line there, or a line left for a metric that is gone, fails here. Labels
are checked too wherever the relay has already created a series for them.
"""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from relay.server import running_relay
from relay.testing import fast_config

DOC = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")


def documented() -> dict[str, set[str]]:
    """name -> label names, from the table rows of the "## Metrics" section."""
    section = DOC.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    found: dict[str, set[str]] = {}
    for match in re.finditer(r"^\| `(madoguchi_[a-z_]+)(?:\{([a-z_, ]+)\})?`", section, flags=re.MULTILINE):
        name, labels = match.groups()
        assert name not in found, f"{name} is listed twice"
        found[name] = {label.strip() for label in labels.split(",")} if labels else set()
    return found


async def served(tmp_path: Path) -> dict[str, set[str]]:
    async with (
        running_relay(fast_config(tmp_path)) as relay,
        aiohttp.ClientSession() as http,
        http.get(f"{relay.url}/metrics") as reply,
    ):
        text = await reply.text()
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        name = f"{family.name}_total" if family.type == "counter" else family.name
        labels: set[str] = set()
        for sample in family.samples:
            if not sample.name.endswith("_created"):
                labels |= set(sample.labels)
        found[name] = labels
    # prometheus_client serves each counter's creation time as a gauge family of its own.
    return {
        name: labels
        for name, labels in found.items()
        if not (name.endswith("_created") and f"{name.removesuffix('_created')}_total" in found)
    }


async def test_every_served_metric_is_documented_and_every_documented_one_is_served(tmp_path: Path) -> None:
    docs, relay = documented(), await served(tmp_path)
    assert len(docs) >= 10  # the section was found and parsed
    assert sorted(set(relay) - set(docs)) == [], "served but not in docs/operations.md"
    assert sorted(set(docs) - set(relay)) == [], "in docs/operations.md but not served"
    for name, labels in relay.items():
        if labels:  # series exist: their label names are the documented ones
            assert labels == docs[name], name
