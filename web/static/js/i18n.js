// @ts-check
/**
 * The pages' words in Japanese and English, with the agent's vocabulary (agent/ui/i18n):
 * 受付番号 for the code, 許可する / 許可しない, 一時停止, 共有をやめる, オペレーター.
 * Elements carry `data-i18n="key"` (text) or `data-i18n-label="key"` (aria-label);
 * {@link applyTranslations} fills them. test/i18n.test.js checks that every key used in
 * the HTML exists in both languages and that their {placeholders} agree.
 * @module i18n
 */

/** @typedef {"ja" | "en"} Lang */

/** @type {Record<string, {ja: string, en: string}>} */
export const STRINGS = {
  title: { ja: "画面共有サポート", en: "Screen sharing support" },
  lang_switch: { ja: "English", en: "日本語" },
  lang_switch_label: { ja: "英語で表示する", en: "Show in Japanese" },
  // --- start page
  intro: {
    ja: "お電話でサポート中のお客さまの画面を、オペレーターが見ながらご案内するサービスです。",
    en: "While you are on the phone with us, an operator can see your screen and guide you.",
  },
  is_heading: { ja: "このサービスでできること・できないこと", en: "What this service is and is not" },
  is_view_only: {
    ja: "オペレーターは画面を見て指し示すことだけができ、お客さまのパソコンを操作することはできません。",
    en: "The operator can only see your screen and point at things. The operator cannot operate your computer.",
  },
  is_not_recorded: { ja: "共有中の画面は録画・保存しません。", en: "Your screen is never recorded or stored." },
  is_no_advice: {
    ja: "操作方法のご案内のためのサービスです。投資の助言は行いません。",
    en: "This service helps you with how to use our services. It does not give investment advice.",
  },
  who_heading: { ja: "ご利用いただける方", en: "Who can use it" },
  who_text: {
    ja: "いまオペレーターとお電話でお話し中のお客さまがご利用いただけます。",
    en: "Customers who are on a call with one of our operators right now.",
  },
  choose_heading: { ja: "共有の方法を選んでください", en: "Choose how to share" },
  normal_heading: { ja: "通常版（インストール不要）", en: "Normal (nothing to install)" },
  normal_text: {
    ja: "このブラウザーから画面を共有します。オペレーターが画面を見ながらご案内します。",
    en: "Share your screen from this browser. The operator sees it and guides you.",
  },
  normal_needs: {
    ja: "必要なもの：パソコンの Chrome または Edge の最新版",
    en: "You need: an up-to-date Chrome or Edge on a computer",
  },
  normal_sysinfo: {
    ja: "送信するパソコンの情報：OS とそのバージョン、ブラウザーとそのバージョン",
    en: "Computer information sent: the operating system and its version, the browser and its version",
  },
  normal_start: { ja: "通常版で始める", en: "Start (normal)" },
  detailed_heading: { ja: "詳細版（ツールをダウンロード）", en: "Detailed (download the tool)" },
  detailed_text: {
    ja: "ツールをダウンロードして実行します。オペレーターが画面上の場所を指し示したり、キーボードの案内を表示したりできます。",
    en: "Download and run the tool. The operator can also point at places on your screen and show which keys to press.",
  },
  detailed_needs: { ja: "必要なもの：Windows 10 または 11 のパソコン", en: "You need: a Windows 10 or 11 computer" },
  detailed_sysinfo: {
    ja: "送信するパソコンの情報：OS、機種、CPU、メモリー、ディスク、ブラウザー、メールソフト、ネットワーク、セキュリティソフト、インストール済みのプログラムなど",
    en: "Computer information sent: operating system, model, processor, memory, disk, browser, e-mail program, network, security software, installed programs and more",
  },
  detailed_download: { ja: "ツールをダウンロードする", en: "Download the tool" },
  download_info: {
    ja: "{name}（{size}）SHA-256：{sha256}",
    en: "{name} ({size}) SHA-256: {sha256}",
  },
  download_run: {
    ja: "ダウンロードしたファイルをダブルクリックして実行してください。インストールは不要で、終了すると自動的に削除されます。",
    en: "Double-click the downloaded file to run it. Nothing is installed, and it removes itself when you close it.",
  },
  download_none: {
    ja: "ツールのダウンロードは、オペレーターがご案内します。",
    en: "The operator will tell you where to download the tool.",
  },
  size_mb: { ja: "{amount} MB", en: "{amount} MB" },
  phone_line: { ja: "お電話：{phone}{hours}", en: "Phone: {phone}{hours}" },
  code_heading: { ja: "番号をお持ちの方", en: "I have a 6-digit code" },
  code_text: {
    ja: "オペレーターからお伝えした6桁の番号を入力してください。",
    en: "Type the 6-digit code the operator read out to you.",
  },
  code_label: { ja: "6桁の番号", en: "6-digit code" },
  code_submit: { ja: "番号で始める", en: "Start with this code" },
  code_invalid: { ja: "6桁の数字を入力してください。", en: "Please type the 6 digits." },
  terms_heading: { ja: "利用規約", en: "Terms of use" },
  terms_loading: { ja: "利用規約を読み込んでいます…", en: "Loading the terms of use…" },
  env_heading: { ja: "推奨環境", en: "Recommended environment" },
  env_text: {
    ja: "通常版：Windows・Mac の Chrome / Edge 最新版。詳細版：Windows 10 / 11。スマートフォン・タブレットでは画面を共有できません。",
    en: "Normal: the latest Chrome or Edge on Windows or Mac. Detailed: Windows 10 or 11. Phones and tablets cannot share their screen.",
  },
  // --- normal mode
  consent_heading: { ja: "はじめる前に", en: "Before we start" },
  consent_text: {
    ja: "利用規約をお読みください。お客さまの画面は、「同意して共有する画面を選ぶ」を押し、さらにオペレーターからの依頼を許可したあとで、はじめてオペレーターに表示されます。",
    en: "Please read the terms of use. Your screen is shown to the operator only after you press “Agree and choose the screen” and then allow the operator's request.",
  },
  consent_close: {
    ja: "共有を始める前に、個人的な文書やメールなど、見られたくない画面は閉じておいてください。",
    en: "Before sharing, please close personal documents, e-mail and anything else you do not want the operator to see.",
  },
  agree: { ja: "同意して共有する画面を選ぶ", en: "Agree and choose the screen" },
  cancel: { ja: "キャンセル", en: "Cancel" },
  unsupported_heading: {
    ja: "このブラウザーでは画面を共有できません",
    en: "This browser cannot share your screen",
  },
  unsupported_mobile: {
    ja: "スマートフォンやタブレットからは画面を共有できません。パソコンの Chrome または Edge でこのページを開くか、お電話でオペレーターにお伝えください。",
    en: "Screens cannot be shared from a phone or a tablet. Please open this page in Chrome or Edge on a computer, or tell the operator on the phone.",
  },
  unsupported_browser: {
    ja: "このブラウザーは画面の共有に対応していません。最新の Chrome または Edge でこのページを開くか、お電話でオペレーターにお伝えください。",
    en: "This browser does not support screen sharing. Please open this page in an up-to-date Chrome or Edge, or tell the operator on the phone.",
  },
  picker_cancelled: {
    ja: "共有する画面が選ばれなかったため、共有は始まっていません。もう一度お試しください。",
    en: "No screen was chosen, so nothing is shared. Please try again.",
  },
  connecting: { ja: "サポートセンターに接続しています…", en: "Connecting to the support centre…" },
  unreachable_heading: { ja: "サポートセンターに接続できません", en: "Cannot connect to the support centre" },
  unreachable_text: {
    ja: "パソコンがインターネットにつながっているかご確認のうえ、もう一度お試しください。お客さまの画面は共有されていません。",
    en: "Please check that this computer is connected to the internet, then try again. Your screen has not been shared.",
  },
  busy_heading: { ja: "ただいま混み合っています", en: "All lines are busy" },
  busy_text: {
    ja: "申し訳ございません。ただいま回線が混み合っております。{minutes}分ほどたってから、もう一度お試しください。お客さまの画面は共有されていません。",
    en: "Sorry, all our lines are busy right now. Please try again in about {minutes} minutes. Your screen has not been shared.",
  },
  busy_text_minute: {
    ja: "申し訳ございません。ただいま回線が混み合っております。1分ほどたってから、もう一度お試しください。お客さまの画面は共有されていません。",
    en: "Sorry, all our lines are busy right now. Please try again in about a minute. Your screen has not been shared.",
  },
  bad_code_heading: { ja: "この番号は使えません", en: "This code cannot be used" },
  bad_code_text: {
    ja: "番号が違うか、有効期限が切れています。オペレーターに新しい番号をお尋ねのうえ、入力し直してください。",
    en: "The code is wrong or has expired. Please ask the operator for a new code and type it again.",
  },
  expired_heading: { ja: "受付番号の有効期限が切れました", en: "This number has expired" },
  error_heading: { ja: "共有を始められませんでした", en: "Sharing could not be started" },
  error_text: {
    ja: "サポートセンターとの通信で問題が起きました。もう一度お試しいただくか、オペレーターにお伝えください。",
    en: "Something went wrong on the way to the support centre. Please try again, or tell the operator.",
  },
  try_again: { ja: "もう一度試す", en: "Try again" },
  reconnecting: {
    ja: "接続が途切れました。つなぎ直しています…",
    en: "The connection was interrupted. Reconnecting…",
  },
  reconnecting_number: {
    ja: "接続が途切れました。つなぎ直しています…\u3000受付番号は変わりません。",
    en: "The connection was interrupted. Reconnecting… Your number stays the same.",
  },
  your_number: { ja: "受付番号", en: "Your number" },
  read_number: { ja: "オペレーターにこの番号をお伝えください。", en: "Please read this number to the operator." },
  waiting_operator: {
    ja: "オペレーターが番号を入力するのをお待ちください…",
    en: "Waiting for the operator to enter the number…",
  },
  number_valid: { ja: "この番号の有効期限：あと{time}", en: "This number is valid for {time}." },
  request_heading: { ja: "オペレーターに画面を見せてもよろしいですか？", en: "May the operator see your screen?" },
  request_who: {
    ja: "{organisation}の{name}が、お客さまの画面の表示をお願いしています。",
    en: "{name} of {organisation} would like to see your screen.",
  },
  request_check: {
    ja: "お電話でお話ししている担当者であることをご確認ください。",
    en: "Please check that this is the person you are speaking to on the phone.",
  },
  request_view_only: {
    ja: "オペレーターは画面を見ることだけができ、お客さまのパソコンを操作することはできません。共有はいつでも止められます。",
    en: "The operator can only see your screen. The operator cannot operate your computer. You can stop sharing at any time.",
  },
  request_countdown: {
    ja: "お返事がない場合、{seconds}秒後に自動的にお断りします。",
    en: "If you do not answer, the request is declined in {seconds} s.",
  },
  sysinfo_preview: {
    ja: "許可すると、次のパソコンの情報もオペレーターに送信されます：",
    en: "If you allow, this information about your computer is also sent to the operator:",
  },
  allow: { ja: "許可する", en: "Allow" },
  deny: { ja: "許可しない", en: "Do not allow" },
  starting: { ja: "画面の共有を始めています…", en: "Starting screen sharing…" },
  sharing_with: { ja: "{name}と画面を共有しています", en: "Sharing your screen with {name}" },
  sharing_paused: { ja: "共有を一時停止中（{name}）", en: "Sharing paused ({name})" },
  paused_note: {
    ja: "「再開」を押すまで、オペレーターには新しい画面は表示されません。",
    en: "The operator cannot see anything new until you press Resume.",
  },
  time_shared: { ja: "共有している時間：{time}", en: "Time shared: {time}" },
  pause: { ja: "一時停止", en: "Pause" },
  resume: { ja: "再開", en: "Resume" },
  stop: { ja: "■ 共有をやめる", en: "■ Stop sharing" },
  background_note: {
    ja: "このタブは開いたままにしてください。ほかのウィンドウに切り替えても共有は続きます。",
    en: "Keep this tab open. Sharing goes on while you use other windows.",
  },
  pointer_caption: {
    ja: "オペレーターが指し示している場所（通常版では、画面の上には表示できません）",
    en: "Where the operator is pointing (in the normal mode it cannot be drawn on your screen itself)",
  },
  ended_heading: { ja: "画面の共有を終了しました", en: "Screen sharing has ended" },
  not_shared_heading: { ja: "画面は共有されませんでした", en: "Your screen was not shared" },
  ended_note: {
    ja: "オペレーターからお客さまの画面は見えなくなりました。",
    en: "The operator can no longer see your screen.",
  },
  password_reminder: {
    ja: "画面の共有中にパスワードを入力された場合は、念のため、すぐにパスワードを変更してください。",
    en: "If you typed a password while your screen was shared, please change it now, to be safe.",
  },
  start_again: { ja: "もう一度始める", en: "Start again" },
  end_you: { ja: "お客さまが共有を終了しました。", en: "You stopped sharing." },
  end_operator: { ja: "オペレーターが共有を終了しました。", en: "The operator ended the session." },
  end_relay: { ja: "サポートセンターが共有を終了しました。", en: "The support centre ended the session." },
  end_lost: { ja: "オペレーターとの接続が切れました。", en: "The connection to the operator was lost." },
  end_denied: { ja: "お客さまが依頼をお断りになりました。", en: "You declined the request." },
  end_timeout: {
    ja: "時間内にお返事がなかったため、お断りしました。",
    en: "The request was not answered in time, so it was declined.",
  },
  minutes_seconds: { ja: "{minutes}分{seconds}秒", en: "{minutes} min {seconds} s" },
  item_os: { ja: "OS", en: "Operating system" },
  item_os_version: { ja: "バージョン", en: "Version" },
  item_browser: { ja: "ブラウザー", en: "Web browser" },
  item_browser_version: { ja: "ブラウザーのバージョン", en: "Web browser version" },
  not_available: { ja: "取得できませんでした", en: "not available" },
  browser_note: {
    ja: "ブラウザーは、いまお使いのものです（既定のブラウザーはウェブページからは分かりません）。",
    en: "The browser is the one you are using now (a web page cannot tell which one is your default).",
  },
};

/**
 * The language: `?lang=` first, then the browser's preference (Japanese unless it prefers English).
 * @param {string} search location.search
 * @param {readonly string[]} languages navigator.languages
 * @returns {Lang}
 */
export function chooseLang(search, languages) {
  const asked = new URLSearchParams(search).get("lang");
  if (asked === "ja" || asked === "en") return asked;
  const first = (languages[0] ?? "ja").toLowerCase();
  return first.startsWith("en") ? "en" : "ja";
}

/**
 * @param {Lang} lang
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 * @returns {string}
 */
export function t(lang, key, params = {}) {
  const entry = STRINGS[key];
  if (entry === undefined) throw new Error(`no text for ${key}`);
  return entry[lang].replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/**
 * @param {Lang} lang
 * @param {number} totalSeconds
 * @returns {string}
 */
export function duration(lang, totalSeconds) {
  const s = Math.max(0, Math.round(totalSeconds));
  return t(lang, "minutes_seconds", { minutes: Math.floor(s / 60), seconds: s % 60 });
}

/**
 * Fill every `data-i18n` / `data-i18n-label` element under `root`, and the document's language.
 * @param {ParentNode} root
 * @param {Lang} lang
 */
export function applyTranslations(root, lang) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(lang, /** @type {HTMLElement} */ (el).dataset.i18n ?? "");
  }
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(lang, /** @type {HTMLElement} */ (el).dataset.i18nLabel ?? ""));
  }
  document.documentElement.lang = lang;
  document.title = t(lang, "title");
}
