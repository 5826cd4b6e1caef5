"""The admin web's words in Japanese and English (one vocabulary with the programs, docs/glossary.md).

``text(lang, key)`` is what the templates call as ``t("key")``; a key missing in one
language is a test failure (tests/unit/test_admin_web.py), never a blank on a page.
"""

from __future__ import annotations

__all__ = ["LANGS", "MESSAGES", "pick_lang", "text"]

LANGS = ("ja", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (ja, en)
    "title": ("窓口 管理", "Madoguchi admin"),
    "login": ("ログイン", "Log in"),
    "logout": ("ログアウト", "Log out"),
    "username": ("ユーザー名", "Username"),
    "password": ("パスワード", "Password"),
    "login_failed": (
        "ユーザー名またはパスワードが違うか、管理者のアカウントではありません。",
        "Wrong username or password, or not an administrator account.",
    ),
    "login_limited": (
        "ログインの失敗が多すぎます。しばらくしてからお試しください。",
        "Too many failed logins; try again later.",
    ),
    "login_disabled": ("このアカウントは無効です。", "This account is disabled."),
    "session_expired": (
        "しばらく操作がなかったため、ログアウトしました。",
        "You were logged out after a while without activity.",
    ),
    "csrf_refused": (
        "このフォームは古くなっています。ページを開き直してください。",
        "This form is out of date; open the page again.",
    ),
    "nav_overview": ("概要", "Overview"),
    "nav_operators": ("オペレーター", "Operators"),
    "nav_audit": ("監査ログ", "Audit trail"),
    "nav_settings": ("設定", "Settings"),
    "other_lang": ("English", "日本語"),
    "alarm_on": (
        "番号の入力ミスが異常に多くなっています (推測による攻撃の可能性)。"
        "監査ログの claim_failed を確認してください。",
        "Unusually many wrong numbers are being tried (possibly guessing). "
        "Check claim_failed in the audit trail.",
    ),
    "codes_waiting": ("待機中の受付番号", "Numbers waiting"),
    "sessions": ("セッション", "Sessions"),
    "capacity": ("使用中の枠", "Capacity used"),
    "capacity_sessions": ("セッションと確認待ち", "Sessions and claims"),
    "capacity_codes": ("受付番号", "Numbers"),
    "no_codes": ("待機中の受付番号はありません。", "No numbers are waiting."),
    "nodes": ("中継サーバー(ノード)", "Relay nodes"),
    "node": ("ノード", "Node"),
    "node_connections": ("接続", "Connections"),
    "node_sessions": ("セッションと確認待ち", "Sessions and claims"),
    "node_codes": ("待機中の受付番号", "Numbers waiting"),
    "nodes_unavailable": (
        "共有ストア (Redis) に接続できません。新しい受付は止まっています。",
        "The shared store (Redis) cannot be reached: nothing new can start.",
    ),
    "no_sessions": ("セッションはありません。", "No sessions."),
    "code": ("番号", "Number"),
    "issued_by": ("発行", "Issued by"),
    "issued_by_agent": ("お客さま", "Customer"),
    "issued_by_operator": ("オペレーター", "Operator"),
    "waiting_for": ("経過", "Waiting"),
    "mode": ("方式", "Mode"),
    "mode_agent": ("詳細版 (アプリ)", "App"),
    "mode_browser": ("通常版 (ブラウザ)", "Browser"),
    "mode_cobrowse": ("コブラウズ (Webサイト)", "Co-browsing (website)"),
    "phase": ("状態", "State"),
    "phase_pending": ("許可の確認中", "Waiting for Allow"),
    "phase_active": ("共有中", "Sharing"),
    "operator": ("オペレーター", "Operator"),
    "duration": ("時間", "Duration"),
    "reason": ("理由", "Reason"),
    "end_session": ("セッションを終了", "End session"),
    "session_ended": ("セッションを終了しました。", "The session was ended."),
    "session_gone": ("そのセッションはすでに終了しています。", "That session has already ended."),
    "reason_required": ("理由を入力してください (200文字まで)。", "Enter a reason (up to 200 characters)."),
    "screen_never_shown": (
        "画面の内容はここには表示されません。",
        "Screen content is never shown here.",
    ),
    "display_name": ("表示名 (お客さまに表示)", "Display name (shown to the customer)"),
    "organisation": ("組織名 (お客さまに表示)", "Organisation (shown to the customer)"),
    "status": ("状態", "Status"),
    "active": ("有効", "Active"),
    "disabled": ("無効", "Disabled"),
    "last_login": ("最終ログイン (UTC)", "Last login (UTC)"),
    "sessions_today": ("本日のセッション (UTC)", "Sessions today (UTC)"),
    "never": ("なし", "never"),
    "add_operator": ("オペレーターを追加", "Add operator"),
    "disable": ("無効にする", "Disable"),
    "enable": ("有効にする", "Enable"),
    "new_password": ("新しいパスワード", "New password"),
    "reset_password": ("パスワードを再設定", "Reset password"),
    "operator_added": ("オペレーターを追加しました。", "The operator was added."),
    "operator_disabled": ("オペレーターを無効にしました。", "The operator was disabled."),
    "operator_enabled": ("オペレーターを有効にしました。", "The operator was enabled."),
    "password_reset": ("パスワードを再設定しました。", "The password was reset."),
    "from": ("開始 (UTC)", "From (UTC)"),
    "to": ("終了 (UTC)", "To (UTC)"),
    "event": ("イベント", "Event"),
    "filter": ("絞り込む", "Filter"),
    "export_csv": ("CSVで書き出す", "Export CSV"),
    "time": ("日時 (UTC)", "Time (UTC)"),
    "ip": ("IPアドレス", "IP address"),
    "detail": ("詳細", "Detail"),
    "newest_rows": ("新しい順に最大200件を表示します。", "Showing up to the 200 newest rows."),
    "no_rows": ("該当する記録はありません。", "No matching rows."),
    "bad_filter": (
        "日時は 2026-01-31 や 2026-01-31T09:00 の形で入力してください。",
        "Enter dates as 2026-01-31 or 2026-01-31T09:00.",
    ),
    "capacity_limits": ("同時に扱える数", "Capacity limits"),
    "max_sessions": ("セッションと確認待ちの合計", "Sessions and claims in all"),
    "max_sessions_per_operator": ("オペレーター1人あたりのセッション", "Sessions per operator"),
    "max_live_codes": ("待機中の受付番号", "Numbers waiting"),
    "save": ("保存", "Save"),
    "terms": ("利用規約 (お客さまが同意する文)", "Terms (what the customer agrees to)"),
    "terms_ja": ("日本語", "Japanese"),
    "terms_en": ("英語", "English"),
    "version": ("版", "Version"),
    "saved": ("保存しました。", "Saved."),
    "unchanged": ("変更はありませんでした。", "Nothing changed."),
    "history": ("変更履歴", "History"),
    "admin": ("管理者", "Admin"),
    "setting": ("項目", "Setting"),
    "value": ("値", "Value"),
    "no_history": ("変更はまだありません。", "No changes yet."),
    "invalid_value": ("入力された値を保存できません", "The value cannot be saved"),
    "branding": ("お客さまに表示する会社名と色", "Branding shown to the customer"),
    "branding_hint": (
        "スタートページと、サイトの画面共有のボタンに表示します。",
        "Shown on the start page and on the site's screen sharing button.",
    ),
    "site_company_name": ("会社名", "Company name"),
    "site_brand_colour": ("ブランドカラー", "Brand colour"),
    "cobrowse": ("サイトの画面共有 (コブラウズ) のルール", "Co-browsing rules (the site's pages)"),
    "cobrowse_hint": (
        "1行に1つ。次にお客さまがページを開いたときから使われます。入力欄の内容は常に隠します。",
        "One a line. Used from the customer's next page. What the customer types is always hidden.",
    ),
    "cobrowse_shareable": (
        "共有するページのパス (* は任意の文字列。ほかのページは共有しません)",
        "Paths of the pages that may be shared (* matches anything; no other page is shared)",
    ),
    "cobrowse_mask_selectors": (
        "文字を隠す要素 (CSSセレクター)",
        "Elements whose text is hidden (CSS selectors)",
    ),
    "cobrowse_block_selectors": (
        "まったく送らない要素 (オペレーターには灰色の枠)",
        "Elements never sent (a grey box for the operator)",
    ),
    "cobrowse_keyboard_selectors": (
        "ソフトウェアキーボード (表示中は共有を一時停止)",
        "Software keyboards (sharing pauses while one is shown)",
    ),
}


def text(lang: str, key: str) -> str:
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def pick_lang(query: str | None, accept_language: str, current: str | None) -> str:
    """``?lang=`` if given, else the session's language, else the browser's first choice (ja unless en)."""
    if query in LANGS:
        return query
    if current in LANGS:
        return current
    first = accept_language.split(",", maxsplit=1)[0].strip().lower()
    return "en" if first.startswith("en") else "ja"
