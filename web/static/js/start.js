// @ts-check
/**
 * The start page: the two ways in (normal in this browser, detailed with the tool), the
 * 6-digit code field (R2) and the terms. Everything else on the page is static HTML.
 * @module start
 */

import { applyTranslations, chooseLang, t } from "./i18n.js";
import { isOperatorCode } from "./protocol.js";
import { applySite, fetchSite, megabytes } from "./site.js";

const lang = chooseLang(location.search, navigator.languages);

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function $(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing`);
  return el;
}

async function loadTerms() {
  try {
    const response = await fetch(`/api/terms?lang=${lang}`);
    const body = await response.json();
    if (typeof body.text === "string") $("terms").textContent = body.text;
  } catch {
    // The terms are shown again before sharing starts; the page stays usable.
  }
}

function main() {
  applyTranslations(document, lang);
  $("lang-switch").setAttribute("href", `?lang=${lang === "ja" ? "en" : "ja"}`);
  $("start-normal").setAttribute("href", `/share?lang=${lang}`);
  /** @type {HTMLInputElement} */ ($("code-lang")).value = lang;
  const input = /** @type {HTMLInputElement} */ ($("code-input"));
  $("code-form").addEventListener("submit", (event) => {
    // Full-width digits (０-９) typed with a Japanese IME count as digits.
    const code = input.value.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0)).trim();
    if (!isOperatorCode(code)) {
      event.preventDefault();
      $("code-error").hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    input.value = code;
  });
  void loadTerms();
  void fetchSite().then((site) => {
    if (site === null) return;
    applySite(site, lang);
    const download = site.download;
    if (download !== null) {
      $("download-info").textContent = t(lang, "download_info", {
        name: download.name,
        size: megabytes(lang, download.size_bytes),
        sha256: download.sha256,
      });
      for (const id of ["download-info", "download-run", "download"]) $(id).hidden = false;
      $("download-none").hidden = true;
    }
  });
}

main();
