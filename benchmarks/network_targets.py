"""Issue 15's targets per link profile, as data, checked against a network run's JSON.

``madoguchi bench --network PROFILE`` runs stock aiortc (``baseline``) and the tuned
pipeline (``madoguchi``) through the same emulated link; :func:`check_network_targets`
turns that report into one row per target: the profile's own goals (on the tuned
pipeline) and, on every profile, "beats stock aiortc in the same run" on latency and on
longest freeze. The outage goals (and ``mobile``'s "session survives" and "the
operator's end reaches the agent") are not bench figures: ``python -m testbed.outage_lab``
measures them, and :func:`check_outage_targets` reads its JSON. In a bench report those
rows say where they are measured, as "not measured".

A figure that is missing is "not measured", never a pass. Where ``null`` is itself the
observation (no readable picture ever came, no fresh picture after the link returned, the
session did not end) the target says so with ``null_is_failure`` and the row is "not met".

Pure: no I/O except :func:`check_file` and :func:`main` (``python -m
benchmarks.network_targets DIR``), which prints the rows of every result file in a
directory (scripts/network_matrix.sh's output), or, given one directory per run, whether
each target held on every run (:func:`held_on_every_run`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

__all__ = [
    "BEATS_STOCK",
    "MOVING_WORKLOADS",
    "TARGETS",
    "NetworkTarget",
    "check_file",
    "check_network_targets",
    "check_outage_targets",
    "held_on_every_run",
    "main",
    "measured_elsewhere",
    "render_held",
    "render_network_targets",
    "summary_counts",
]

logger = logging.getLogger(__name__)

MET: Final = "met"
NOT_MET: Final = "not met"
NOT_MEASURED: Final = "not measured"

MOVING_WORKLOADS = ("scroll", "typing")
"""Scenarios the targets are checked on: a freeze or a frame rate means nothing on a still screen."""

_OUTAGE_LAB = "python -m testbed.outage_lab"


Op = Literal["<=", ">=", "is", "given"]


class _Missing:
    """A key absent from the JSON (an older run, another command), unlike a ``null`` value."""


_MISSING = _Missing()


@dataclasses.dataclass(frozen=True)
class NetworkTarget:
    """One goal of issue 15's "Targets" table for one profile.

    ``path`` leads to the figure in the tuned pipeline's entry of a bench scenario
    (``source="bench"``) or in the outage lab's JSON (``source="outage_lab"``). The shown
    value is the figure times ``scale`` (a share -> %), divided by the figure at ``per``
    when given (0 when that is 0: nothing to repair, nothing unrepairable).
    ``op="is"`` compares with ``limit`` (a bool); ``op="given"`` wants a non-empty value
    (an end's reason).
    """

    profile: str
    label: str
    path: tuple[str, ...]
    op: Op
    limit: float | bool = 0.0
    unit: str = ""
    scale: float = 1.0
    per: tuple[str, ...] | None = None
    source: Literal["bench", "outage_lab"] = "bench"
    null_is_failure: bool = False
    note: str = ""
    """How the figure stands for the goal, where it is a proxy; shown with the row."""

    @property
    def goal(self) -> str:
        if self.op == "is":
            return "yes" if self.limit else "no"
        if self.op == "given":
            return "a reason given"
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.op} {self.limit:g}{unit}"

    def measure(self, figures: Mapping[str, Any]) -> float | bool | str | _Missing | None:
        value = _lookup(figures, self.path)
        if isinstance(value, _Missing) or value is None:
            return value
        if self.op in ("is", "given"):
            return value if isinstance(value, bool | str) else _MISSING
        if not _is_number(value):
            return _MISSING
        if self.per is not None:
            total = _lookup(figures, self.per)
            if not _is_number(total):
                return _MISSING
            # A packet NACKed before the window can arrive inside it: the window's
            # unrepairable count can dip below zero. Nothing is less than nothing lost.
            value = 0.0 if total == 0 else max(0.0, float(value)) / float(total)
        return round(float(value) * self.scale, 3)

    def row(self, figures: Mapping[str, Any] | None, scenario: str | None, note: str = "") -> dict[str, Any]:
        """This target's row against ``figures`` (None: not measured here, ``note`` says where)."""
        value = _MISSING if figures is None else self.measure(figures)
        notes = [note, self.note]
        met: bool | None
        if isinstance(value, _Missing):
            met, shown = None, None
            if figures is not None:
                notes.insert(0, "figure missing from this JSON")
        elif value is None:
            met, shown = (False if self.null_is_failure else None), None
            notes.insert(0, "null in this run" if figures is not None else "")
        elif self.op == "is":
            met, shown = value is self.limit, value
        elif self.op == "given":
            met, shown = bool(value), value
        else:
            assert isinstance(value, float)
            met = value <= float(self.limit) if self.op == "<=" else value >= float(self.limit)
            shown = value
        return _row(
            met,
            profile=self.profile,
            scenario=scenario,
            target=self.label,
            goal=self.goal,
            value=shown,
            unit=self.unit,
            note="; ".join(n for n in notes if n),
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _lookup(figures: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = figures
    for key in path:
        if value is None:
            return None  # e.g. ``agent_end: null``: the thing the key describes did not happen
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _row(met: bool | None, **fields: Any) -> dict[str, Any]:
    """profile, scenario, target, goal, value, unit, met, status, note: the row's keys in this order."""
    row = {k: fields[k] for k in ("profile", "scenario", "target", "goal", "value", "unit")}
    return {
        **row,
        "met": met,
        "status": {True: MET, False: NOT_MET, None: NOT_MEASURED}[met],
        "note": fields["note"],
    }


_FIRST = ("first_picture_s",)
_MEDIAN = ("latency_ms", "median")
_P95 = ("latency_ms", "p95")
_FREEZE = ("freeze", "longest_ms")
_FRESH = ("fresh_picture_s",)
_DECODE_NOTE = "aiortc's 'failed to decode' count in the window (a garbled picture it shows is not counted)"


def _first(profile: str, limit: float, label: str = "first picture") -> NetworkTarget:
    # null: no readable picture came at all, which fails the goal rather than missing it.
    note = "first picture whose stamp reads"
    return NetworkTarget(profile, label, _FIRST, "<=", limit, "s", null_is_failure=True, note=note)


def _decode_errors(profile: str, label: str) -> NetworkTarget:
    return NetworkTarget(profile, label, ("repair", "decode_errors"), "<=", 0, note=_DECODE_NOTE)


def _lab(
    profile: str, label: str, path: tuple[str, ...], goal: tuple[Op, float | bool], unit: str = ""
) -> NetworkTarget:
    # In the lab's JSON null means it did not happen (no fresh picture, no end): a failure.
    op, limit = goal
    return NetworkTarget(profile, label, path, op, limit, unit, source="outage_lab", null_is_failure=True)


def _lan(profile: str) -> tuple[NetworkTarget, ...]:
    requests = ("repair", "session_keyframe_requests")
    note = "PLIs the operator sent, warm-up included"
    return (
        _first(profile, 1.0, "first sharp picture"),
        NetworkTarget(profile, "keyframe requests (whole session)", requests, "<=", 0, note=note),
    )


TARGETS: dict[str, tuple[NetworkTarget, ...]] = {
    "dsl": (
        _first("dsl", 1.5),
        NetworkTarget("dsl", "latency median", _MEDIAN, "<=", 150, "ms"),
        NetworkTarget("dsl", "latency p95", _P95, "<=", 400, "ms"),
        NetworkTarget("dsl", "longest freeze", _FREEZE, "<=", 1000, "ms"),
        NetworkTarget("dsl", "frozen", ("freeze", "frozen_share"), "<=", 3, "%", scale=100),
        NetworkTarget("dsl", "received fps", ("fps",), ">=", 10, "fps"),
        NetworkTarget("dsl", "PSNR mean", ("psnr_db", "mean"), ">=", 38, "dB"),
        NetworkTarget("dsl", "PSNR min", ("psnr_db", "min"), ">=", 30, "dB"),
        _decode_errors("dsl", "no corrupt frame shown"),
        NetworkTarget(
            "dsl",
            "sent rate / link rate",
            ("link_share",),
            "<=",
            90,
            "%",
            scale=100,
            note="received rate; both directions share the link",
        ),
    ),
    "dsl-bloat": (
        NetworkTarget("dsl-bloat", "latency median", _MEDIAN, "<=", 200, "ms"),
        NetworkTarget("dsl-bloat", "latency p95", _P95, "<=", 500, "ms"),
    ),
    "loss1": (
        NetworkTarget("loss1", "latency p95", _P95, "<=", 100, "ms"),
        NetworkTarget("loss1", "longest freeze", _FREEZE, "<=", 300, "ms"),
        _decode_errors("loss1", "decode errors shown"),
        NetworkTarget(
            "loss1",
            "unrepairable / NACKed packets",
            ("repair", "unrepairable"),
            "<=",
            1,
            "%",
            scale=100,
            per=("repair", "nacked_packets"),
        ),
    ),
    "loss5": (
        NetworkTarget("loss5", "received fps", ("fps",), ">=", 15, "fps"),
        NetworkTarget("loss5", "latency p95", _P95, "<=", 400, "ms"),
        NetworkTarget("loss5", "longest freeze", _FREEZE, "<=", 1000, "ms"),
    ),
    "mobile": (
        _first("mobile", 3.0),
        NetworkTarget("mobile", "latency median", _MEDIAN, "<=", 300, "ms"),
        NetworkTarget("mobile", "longest freeze", _FREEZE, "<=", 2000, "ms"),
        _lab("mobile", "session survives", ("survived",), ("is", True)),
        _lab("mobile", "operator's end reaches the agent", ("end_reaches_agent_s",), ("<=", 1.0), "s"),
    ),
    "outage5": (
        _lab("outage5", "fresh picture after the link returns", _FRESH, ("<=", 1.0), "s"),
        _lab("outage5", "pictures over 300 ms old from 2 s after the return", ("stale_after_2s",), ("<=", 0)),
        _lab("outage5", "stale pictures replayed after the return", ("stale_after_return",), ("<=", 0)),
    ),
    "outage30": (
        _lab("outage30", "session survives, no user action", ("survived",), ("is", True)),
        _lab("outage30", "fresh picture after the link returns", _FRESH, ("<=", 3.0), "s"),
    ),
    "outage120": (
        _lab("outage120", "agent's end, with a reason", ("agent_end", "reason"), ("given", True)),
        _lab("outage120", "console's end, with a reason", ("operator_end", "reason"), ("given", True)),
        _lab("outage120", "agent stops capturing", ("agent_capture_stopped",), ("is", True)),
    ),
    "lan-1440p": _lan("lan-1440p"),
    "lan-4k": (
        *_lan("lan-4k"),
        NetworkTarget("lan-4k", "latency median", _MEDIAN, "<=", 40, "ms"),
        NetworkTarget("lan-4k", "agent CPU % of a core", ("agent_cpu_percent",), "<=", 60, "%"),
    ),
}
"""Issue 15's "Targets" table; outage goals and ``mobile``'s session goals come from the outage lab."""

BEATS_STOCK: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("latency median", _MEDIAN),
    ("longest freeze", _FREEZE),
)
"""On every profile the tuned pipeline must beat stock aiortc in the same run on these (lower is better)."""


def _outage_note(target: NetworkTarget) -> str:
    if target.profile.startswith("outage"):
        return f"measured by {_OUTAGE_LAB} --outage {target.profile.removeprefix('outage')}"
    return f"measured by {_OUTAGE_LAB} --profile {target.profile} --outage 0"


def _beats_stock(profile: str, scenario: str | None, entry: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    for label, path in BEATS_STOCK:
        tuned: Any = _MISSING
        stock: Any = _MISSING
        if entry is not None:
            tuned_figures, stock_figures = entry.get("madoguchi"), entry.get("baseline")
            if isinstance(tuned_figures, Mapping):
                tuned = _lookup(tuned_figures, path)
            if isinstance(stock_figures, Mapping):
                stock = _lookup(stock_figures, path)
        met: bool | None = None
        note = ""
        if isinstance(tuned, int | float) and isinstance(stock, int | float):
            met = tuned < stock
        elif _is_number(tuned) and stock is None:
            # Stock aiortc showed no picture whose stamp reads in the whole window (none came,
            # or none readable): the tuned one did, so it is ahead, by more than the window.
            met = True
            note = "stock aiortc: no readable picture in the window"
        elif entry is not None:
            nothing, missing = "no readable picture in the window", "figure missing from this JSON"
            why = [
                f"{name}: {nothing if v is None else missing}"
                for name, v in (("tuned", tuned), ("stock aiortc", stock))
                if not _is_number(v)
            ]
            note = "; ".join(why)
        goal = f"< {stock:g} ms (stock aiortc)" if _is_number(stock) else "< stock aiortc"
        value = tuned if _is_number(tuned) else None
        target = f"beats stock aiortc: {label}"
        rows.append(
            _row(
                met,
                profile=profile,
                scenario=scenario,
                target=target,
                goal=goal,
                value=value,
                unit="ms",
                note=note,
            )
        )
    return rows


def _moving(name: str, entry: Any) -> bool:
    workload = entry.get("workload") if isinstance(entry, Mapping) else None
    if isinstance(workload, str):
        return workload in MOVING_WORKLOADS
    return name.rsplit("-", 1)[-1] in MOVING_WORKLOADS


def check_network_targets(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every target of the run's profile, per scroll or typing scenario, then the "beats stock" rows.

    ``report`` is ``madoguchi bench --network PROFILE``'s JSON (``network.name`` is the
    profile, ``link_share`` already added). Raises ValueError for a run without a link.
    """
    network = report.get("network")
    if not isinstance(network, Mapping) or not isinstance(network.get("name"), str):
        raise ValueError("not a network run: the report has no network.name")
    profile: str = network["name"]
    targets = TARGETS.get(profile, ())
    scenarios = report.get("scenarios")
    moving = [
        (name, entry)
        for name, entry in (scenarios.items() if isinstance(scenarios, Mapping) else ())
        if _moving(name, entry) and isinstance(entry, Mapping)
    ]
    rows: list[dict[str, Any]] = []
    if not moving:
        note = "no scroll or typing scenario in this run"
        rows += [t.row(None, None, note) for t in targets]
        for row in _beats_stock(profile, None, None):
            rows.append({**row, "note": note})
        return rows
    for name, entry in moving:
        tuned = entry.get("madoguchi")
        for target in targets:
            if target.source == "outage_lab":
                rows.append(target.row(None, name, _outage_note(target)))
            elif isinstance(tuned, Mapping):
                rows.append(target.row(tuned, name))
            else:
                rows.append(target.row(None, name, "the tuned pipeline did not run"))
        rows += _beats_stock(profile, name, entry)
    return rows


def check_outage_targets(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The outage lab's targets for its profile (``outageN``, or e.g. ``mobile`` with ``--outage 0``).

    ``result`` is ``python -m testbed.outage_lab --json``'s output. A profile with no
    outage-lab goal gives no rows. "Beats stock aiortc" is not checked here: the lab runs
    one pipeline per invocation (``--stock`` for stock aiortc), not both in the same run.
    """
    outage_s = result.get("outage_s")
    link = result.get("link")
    profile = link.get("profile") if isinstance(link, Mapping) else None
    if not isinstance(profile, str):
        if not isinstance(outage_s, int | float):
            raise ValueError("not an outage lab result: no link.profile and no outage_s")
        profile = f"outage{int(outage_s)}"
    scenario = f"outage lab, {result.get('media', '?')}, {result.get('scene', '?')} scene"
    if _is_number(outage_s):
        scenario += f", {outage_s:g} s outage"
    return [t.row(result, scenario) for t in TARGETS.get(profile, ()) if t.source == "outage_lab"]


def check_file(path: Path) -> list[dict[str, Any]] | None:
    """The rows of one result file: a network bench or an outage lab JSON; None for anything else."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        logger.warning("%s: unreadable: %s", path, exc)
        return None
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("network"), Mapping) and "scenarios" in data:
        return check_network_targets(data)
    if "outage_s" in data and "survived" in data:
        return check_outage_targets(data)
    return None


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = (
            f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:.1f}".removesuffix(".0")
        )
    else:
        text = str(value)
    return f"{text} {unit}" if unit else text


def render_network_targets(rows: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table of the rows: profile, scenario, target, goal, measured, status (and a note)."""
    lines = [
        "| profile | scenario | target | goal | measured | status | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        status = "**not met**" if r["status"] == NOT_MET else r["status"]
        lines.append(
            f"| {r['profile']} | {r['scenario'] or '-'} | {r['target']} | {r['goal']} "
            f"| {_fmt(r['value'], r['unit'])} | {status} | {r['note']} |"
        )
    return "\n".join(lines)


def measured_elsewhere(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows without "not measured" placeholders that another file of the run measured.

    A bench report lists ``mobile``'s "session survives" as not measured (the outage lab
    measures it); in a directory holding both results the lab's row stands alone."""
    measured = {(r["profile"], r["target"]) for r in rows if r["status"] != NOT_MEASURED}
    return [r for r in rows if r["status"] != NOT_MEASURED or (r["profile"], r["target"]) not in measured]


def held_on_every_run(runs: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One row per (profile, target) across runs: its status in each, and whether it held in all.

    Issue 15 asks every goal to hold on two full runs; a goal missing from a run did not hold
    there ("not measured")."""
    keys: dict[tuple[str, str], None] = {}
    for rows in runs:
        for r in rows:
            keys.setdefault((r["profile"], r["target"]), None)
    combined = []
    for profile, target in keys:
        statuses = []
        for rows in runs:
            found = [r["status"] for r in rows if (r["profile"], r["target"]) == (profile, target)]
            statuses.append(NOT_MET if NOT_MET in found else MET if found and MET in found else NOT_MEASURED)
        held = all(status == MET for status in statuses)
        combined.append({"profile": profile, "target": target, "runs": statuses, "held": held})
    return combined


def render_held(combined: Sequence[Mapping[str, Any]], names: Sequence[str]) -> str:
    """A Markdown table of :func:`held_on_every_run`'s rows, one column per run."""
    lines = [
        "| profile | target | " + " | ".join(names) + " | held on every run |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " | --- |",
    ]
    for r in combined:
        cells = " | ".join("**not met**" if s == NOT_MET else s for s in r["runs"])
        lines.append(f"| {r['profile']} | {r['target']} | {cells} | {'yes' if r['held'] else '**no**'} |")
    return "\n".join(lines)


def summary_counts(rows: Sequence[Mapping[str, Any]]) -> str:
    """``"12 met, 3 not met, 2 not measured"``."""
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in (MET, NOT_MET, NOT_MEASURED)}
    return ", ".join(f"{n} {s}" for s, n in counts.items())


def _rows_of(files: Sequence[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in files:
        found = check_file(path)
        if found is None:
            print(f"{path}: skipped (not a network bench or outage lab result)", file=sys.stderr)
            continue
        rows += [{**r, "note": "; ".join(n for n in (path.name, r["note"]) if n)} for r in found]
    return [dict(r) for r in measured_elsewhere(rows)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.network_targets",
        description="Print issue 15's network targets for a directory of bench and outage lab JSON files; "
        "given several directories (one run each), also whether each target held on every run.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="JSON files, or directories of them")
    args = parser.parse_args(argv)
    dirs = [path for path in args.paths if path.is_dir()]
    if len(dirs) > 1 and len(dirs) == len(args.paths):
        runs = [_rows_of(sorted(d.glob("*.json"))) for d in dirs]
        if not all(runs):
            print("a run directory holds no network bench or outage lab result", file=sys.stderr)
            return 2
        for d, rows in zip(dirs, runs, strict=True):
            print(f"## {d}\n\n{render_network_targets(rows)}\n\n{summary_counts(rows)}\n")
        combined = held_on_every_run(runs)
        held = sum(1 for r in combined if r["held"])
        print(f"## Every run\n\n{render_held(combined, [d.name for d in dirs])}\n")
        print(f"{held} of {len(combined)} targets held on all {len(dirs)} runs")
        return 0
    files: list[Path] = []
    for path in args.paths:
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    rows = _rows_of(files)
    if not rows:
        print("no network bench or outage lab result found", file=sys.stderr)
        return 2
    print(render_network_targets(rows))
    print(f"\n{summary_counts(rows)} (issue 15 asks for each to hold on two full runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
