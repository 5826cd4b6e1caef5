"""The co-browse rules and the branding as admin-web settings: parsing, checks, and what they override."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.config import RelayConfig
from relay.settings import Branding, Settings, SettingsError, parse_branding, parse_cobrowse_rules

EMPTY = {
    "cobrowse_shareable": "",
    "cobrowse_mask_selectors": "",
    "cobrowse_block_selectors": "",
    "cobrowse_keyboard_selectors": "",
}


def test_rules_are_one_a_line_blank_lines_dropped() -> None:
    form = {
        **EMPTY,
        "cobrowse_shareable": " /\r\n\r\n/account/*  \n",
        "cobrowse_mask_selectors": ".a, .b\n#c",
    }
    assert parse_cobrowse_rules(form) == {
        **EMPTY,
        "cobrowse_shareable": "/\n/account/*",
        "cobrowse_mask_selectors": ".a, .b\n#c",
    }
    assert parse_cobrowse_rules({}) == EMPTY  # an empty form shares nothing


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("cobrowse_shareable", "account/*", "starting with /"),
        ("cobrowse_mask_selectors", "#x { color: red }", "never needs"),
        ("cobrowse_block_selectors", "</textarea><script>", "never needs"),
        ("cobrowse_keyboard_selectors", "a\x00b", "never needs"),
        ("cobrowse_mask_selectors", "x" * 201, "200 characters"),
        ("cobrowse_mask_selectors", "\n".join(f".c{i}" for i in range(51)), "50 lines"),
    ],
)
def test_bad_rules_are_refused_with_the_field_named(key: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError, match=says) as refused:
        parse_cobrowse_rules({**EMPTY, key: value})
    assert str(refused.value).startswith(key)


def test_branding_is_a_short_name_and_a_colour() -> None:
    assert parse_branding({"site_company_name": " みどり銀行 ", "site_brand_colour": "#0A7D3B"}) == {
        "site_company_name": "みどり銀行",
        "site_brand_colour": "#0a7d3b",
    }
    for bad in ({"site_brand_colour": "red"}, {"site_brand_colour": "#0a7d3b; x"}):
        with pytest.raises(SettingsError, match="site_brand_colour"):
            parse_branding(bad)
    for name in ("x" * 61, "<b>Bank</b>", "Ba\nnk"):
        with pytest.raises(SettingsError, match="site_company_name"):
            parse_branding({"site_company_name": name, "site_brand_colour": "#000000"})


def test_the_admin_s_rules_and_branding_override_relay_toml_and_survive(tmp_path: Path) -> None:
    config = RelayConfig(
        data_dir=tmp_path,
        cobrowse_shareable=("/",),
        cobrowse_mask_selectors=(".name",),
        site_company_name="Bank",
    )
    settings = Settings(config.settings_db, config)
    assert settings.cobrowse_rules() == {
        "shareable": ["/"],
        "mask_selectors": [".name"],
        "block_selectors": [],
        "keyboard_selectors": [],
    }
    assert settings.branding() == Branding("Bank", "#1d4f91")
    unchanged = parse_cobrowse_rules({**EMPTY, "cobrowse_shareable": "/", "cobrowse_mask_selectors": ".name"})
    assert settings.change(unchanged, "boss", 1.0) == {}
    masks = {**unchanged, "cobrowse_mask_selectors": ".name\n.balance"}
    assert settings.change(masks, "boss", 2.0) == {"cobrowse_mask_selectors": ".name\n.balance"}
    settings.change({**masks, "cobrowse_shareable": ""}, "boss", 3.0)  # nothing shared any more
    settings.change(parse_branding({"site_company_name": "", "site_brand_colour": "#0a7d3b"}), "boss", 4.0)
    again = Settings(config.settings_db, config)
    assert again.cobrowse_rules()["mask_selectors"] == [".name", ".balance"]
    assert again.cobrowse_rules()["shareable"] == []  # empty overrides the file's list too
    assert again.branding() == Branding("", "#0a7d3b")
