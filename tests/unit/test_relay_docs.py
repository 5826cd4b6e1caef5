"""docs/protocol.md covers every message, error code and end reason, and its examples decode."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import protocol as p
from protocol.messages import GUIDANCE_TYPES, SIGNALING_TYPES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")


def _examples() -> list[dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC, flags=re.DOTALL)
    found = []
    for block in blocks:
        for line in block.strip().splitlines():
            found.append(json.loads(line))
    return found


EXAMPLES = [e for e in _examples() if "type" in e]


@pytest.mark.parametrize("type_name", sorted(SIGNALING_TYPES) + sorted(GUIDANCE_TYPES))
def test_every_message_has_a_section_and_an_example(type_name: str) -> None:
    headings = [line for line in DOC.splitlines() if line.startswith("#### ")]
    assert any(f"`{type_name}`" in h for h in headings)
    assert any(e["type"] == type_name for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: str(e["type"]))
def test_examples_are_valid_messages(example: dict[str, object]) -> None:
    text = json.dumps(example, ensure_ascii=False)
    if example["type"] in GUIDANCE_TYPES:
        p.decode_guidance(text)
    else:
        p.decode_signaling(text)


def test_every_error_code_and_end_reason_is_documented() -> None:
    for code in p.ErrorCode:
        assert f"| `{code.value}` |" in DOC, code
    for reason in p.EndReason:
        assert f"`{reason.value}`" in DOC, reason


def test_every_key_name_is_listed() -> None:
    section = DOC.split("#### `key_guide`", 1)[1].split("#### `key_guide_clear`", 1)[0]
    listed = set(re.findall(r"`([^`\s]+)`", section)) | set(re.findall(r"`` (`) ``", section))
    for start, end in (("A", "Z"), ("0", "9")):
        listed |= {chr(c) for c in range(ord(start), ord(end) + 1)}
    listed |= {f"F{n}" for n in range(1, 13)}
    assert listed >= p.KEY_NAMES, sorted(p.KEY_NAMES - listed)
