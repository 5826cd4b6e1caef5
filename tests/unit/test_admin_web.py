"""The admin web's pure parts: sessions and CSRF, words, filters, settings, the accounts' role."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from relay.accounts import AccountError, Accounts
from relay.admin_i18n import MESSAGES, pick_lang, text
from relay.admin_session import AdminSessions
from relay.admin_web import parse_when, session_rows
from relay.config import RelayConfig
from relay.settings import Settings, SettingsError, check_terms, parse_capacity, terms_version
from relay.store import Pairing

TEMPLATES = Path(__file__).resolve().parents[2] / "relay" / "admin_templates"


def test_sessions_idle_timeout_restarts_with_each_use() -> None:
    sessions = AdminSessions(idle_timeout_s=10)
    cookie, session = sessions.start(100.0, username="boss")
    assert sessions.get(cookie, 109.0) is session
    assert sessions.get(cookie, 118.0) is session  # 9 s after the last use
    assert sessions.get(cookie, 128.0) is None  # 10 s idle: gone, and stays gone
    assert sessions.get(cookie, 128.1) is None
    assert len(sessions) == 0


def test_csrf_token_is_the_sessions_own() -> None:
    sessions = AdminSessions(idle_timeout_s=10)
    _, one = sessions.start(0.0)
    _, two = sessions.start(0.0)
    assert one.csrf != two.csrf
    assert one.csrf_ok(one.csrf)
    assert not one.csrf_ok(two.csrf)
    assert not one.csrf_ok(None)
    assert not one.csrf_ok("")


def test_unknown_cookies_and_the_cap() -> None:
    sessions = AdminSessions(idle_timeout_s=10, max_sessions=3)
    cookies = [sessions.start(float(i))[0] for i in range(5)]
    assert len(sessions) == 3
    assert sessions.get(cookies[0], 5.0) is None  # the oldest went first
    assert sessions.get(cookies[4], 5.0) is not None
    assert sessions.get("made up", 5.0) is None
    assert sessions.get(None, 5.0) is None
    sessions.prune(14.5)  # cookie 2 last used at 2.0, 3 at 3.0, 4 at 5.0
    assert len(sessions) == 1


def test_end_user_logs_out_everywhere() -> None:
    sessions = AdminSessions(idle_timeout_s=10)
    a, _ = sessions.start(0.0, username="boss")
    b, _ = sessions.start(0.0, username="boss")
    c, _ = sessions.start(0.0, username="other")
    assert sessions.end_user("boss") == 2
    assert sessions.get(a, 1.0) is None
    assert sessions.get(b, 1.0) is None
    assert sessions.get(c, 1.0) is not None


def test_every_word_in_both_languages_and_every_template_key_defined() -> None:
    for key, (ja, en) in MESSAGES.items():
        assert ja.strip(), key
        assert en.strip(), key
        assert ja != en or key == "title", key
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""t\(["'](\w+)["']\)""", template.read_text()))
    assert used - set(MESSAGES) == set()
    # Keys built in templates: mode_<client>, phase_<phase>, issued_by_<role>, the capacity keys.
    for key in ("mode_agent", "mode_browser", "phase_pending", "phase_active", "issued_by_agent"):
        assert key in MESSAGES
    assert text("en", "end_session") == "End session"
    assert text("ja", "end_session") == "セッションを終了"  # docs/glossary.md end_session
    assert text("ja", "codes_waiting") == "待機中の受付番号"  # customer_number: 受付番号


def test_language_choice() -> None:
    assert pick_lang("en", "ja", "ja") == "en"
    assert pick_lang(None, "en-GB,en;q=0.8", None) == "en"
    assert pick_lang(None, "ja,en;q=0.5", None) == "ja"
    assert pick_lang(None, "", None) == "ja"
    assert pick_lang("fr", "en", "ja") == "ja"


def test_parse_when() -> None:
    assert parse_when("") is None
    assert parse_when("2026-01-31") == 1769817600.0
    assert parse_when("2026-01-31", end=True) == 1769817600.0 + 86400
    assert parse_when("2026-01-31T09:00") == 1769817600.0 + 9 * 3600
    assert parse_when("2026-01-31T09:00+09:00") == 1769817600.0
    with pytest.raises(ValueError):
        parse_when("31/01/2026")


def test_session_rows_hold_no_screen_and_sort_by_age() -> None:
    def pairing(pid: str, phase: str, created: float, started: float | None = None) -> Pairing:
        return Pairing(
            id=pid,
            code=pid * 4,
            issued_by="agent",
            phase=phase,  # type: ignore[arg-type]
            created_at=created,
            code_expires_at=created + 600,
            operator="hanako" if phase != "waiting" else None,
            started_at=started,
            client="browser" if pid == "3" else "agent",
        )

    waiting, sessions = session_rows(
        [pairing("2", "active", 50.0, 80.0), pairing("1", "waiting", 90.0), pairing("3", "pending", 10.0)],
        100.0,
    )
    assert [(r.code, r.seconds) for r in waiting] == [("1111", 10)]
    assert [(r.code, r.phase, r.mode, r.seconds) for r in sessions] == [
        ("3333", "pending", "browser", 90),
        ("2222", "active", "agent", 20),  # counted from the start of sharing
    ]


def test_capacity_form() -> None:
    form = {"max_sessions": "20", "max_sessions_per_operator": " 3 ", "max_live_codes": "40"}
    assert parse_capacity(form) == {"max_sessions": 20, "max_sessions_per_operator": 3, "max_live_codes": 40}
    for bad in (
        {**form, "max_sessions": "0"},
        {**form, "max_live_codes": "x"},
        {**form, "max_sessions": "2"},
    ):
        with pytest.raises(SettingsError):
            parse_capacity(bad)


def test_terms_text() -> None:
    assert check_terms("  a\r\nb ") == "a\nb"
    with pytest.raises(SettingsError):
        check_terms("   ")
    assert terms_version("a") != terms_version("b")
    assert len(terms_version("a")) == 12


def test_settings_override_the_config_keep_history_and_survive(tmp_path: Path) -> None:
    config = RelayConfig(data_dir=tmp_path)
    settings = Settings(config.settings_db, config)
    assert settings.terms("en") == config.terms_en
    assert settings.limits() == config.limits
    changed = settings.change({"terms_en": "New", "max_sessions": 7, "max_live_codes": 100}, "boss", 10.0)
    assert changed == {"terms_en": "New", "max_sessions": "7"}  # 100 was the value already
    assert settings.change({"terms_en": "New"}, "boss", 11.0) == {}
    settings.change({"terms_en": "Newer"}, "chief", 12.0)
    again = Settings(config.settings_db, config)
    assert again.terms("en") == "Newer"
    assert again.terms("ja") == config.terms_ja
    assert again.limits().max_sessions == 7
    assert [(h.admin, h.key, h.value) for h in again.history()] == [
        ("chief", "terms_en", "Newer"),
        ("boss", "max_sessions", "7"),
        ("boss", "terms_en", "New"),
    ]
    with sqlite3.connect(config.settings_db) as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM settings_history")


def test_accounts_role_and_last_login(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path / "a.sqlite3")
    accounts.add("hanako", "long enough 1", "Hanako", "ACME")
    accounts.add("boss", "long enough 2", "Boss", "admin", role="admin")
    with pytest.raises(AccountError):
        accounts.add("x", "long enough 3", "X", "Y", role="root")  # type: ignore[arg-type]
    assert [a.username for a in accounts.list("operator")] == ["hanako"]
    assert [a.username for a in accounts.list("admin")] == ["boss"]
    assert accounts.get("hanako").last_login is None  # type: ignore[union-attr]
    accounts.touch_login("hanako", 1234.5)
    assert accounts.get("hanako").last_login == 1234.5  # type: ignore[union-attr]
    assert accounts.check_password("boss", "long enough 2").role == "admin"  # type: ignore[union-attr]


def test_an_accounts_database_from_before_roles_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE operators (username TEXT PRIMARY KEY, display_name TEXT NOT NULL, "
            "organisation TEXT NOT NULL, password_hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, "
            "created_at REAL NOT NULL);"
            "INSERT INTO operators VALUES ('old', 'Old', 'ACME', 'x', 0, 1.0);"
        )
    accounts = Accounts(path)
    old = accounts.get("old")
    assert old is not None
    assert old.role == "operator"
    assert old.last_login is None


def test_the_longest_terms_fit_in_one_form_post() -> None:
    from urllib.parse import urlencode

    from relay.config import Limits
    from relay.settings import TERMS_MAX_CHARS

    body = urlencode({"csrf": "x" * 43, "ja": "規" * TERMS_MAX_CHARS, "en": "W" * TERMS_MAX_CHARS})
    assert len(body.encode()) < Limits().max_message_bytes  # else aiohttp answers 413
    with pytest.raises(SettingsError):
        check_terms("規" * (TERMS_MAX_CHARS + 1))


def test_every_notice_has_words() -> None:
    from relay.admin_web import _NOTICES

    assert _NOTICES - set(MESSAGES) == set()
