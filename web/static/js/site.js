// @ts-check
/**
 * The administrator's branding and the packaged agent, from `GET /api/site`: company name,
 * logo, phone and hours, and the download's name, size and SHA-256 (relay/web.py).
 * @module site
 */

import { t } from "./i18n.js";

/**
 * @typedef {object} SiteInfo
 * @property {string} company_name
 * @property {string} phone
 * @property {string} hours
 * @property {boolean} logo
 * @property {{name: string, size_bytes: number, sha256: string} | null} download
 */

/** @returns {Promise<SiteInfo | null>} null when the relay cannot be reached */
export async function fetchSite() {
  try {
    const response = await fetch("/api/site");
    if (!response.ok) return null;
    return /** @type {SiteInfo} */ (await response.json());
  } catch {
    return null;
  }
}

/**
 * @param {import("./i18n.js").Lang} lang
 * @param {number} bytes
 * @returns {string}
 */
export function megabytes(lang, bytes) {
  const mb = bytes / (1024 * 1024);
  return t(lang, "size_mb", { amount: mb >= 10 ? mb.toFixed(0) : mb.toFixed(1) });
}

/**
 * Fill the `data-site` elements: company name, logo, phone (with hours).
 * @param {SiteInfo} site
 * @param {import("./i18n.js").Lang} lang
 */
export function applySite(site, lang) {
  for (const el of document.querySelectorAll('[data-site="company_name"]')) el.textContent = site.company_name;
  if (site.logo) {
    for (const el of document.querySelectorAll('[data-site="logo"]')) {
      const img = document.createElement("img");
      img.src = "/site/logo";
      img.alt = site.company_name;
      img.className = "logo";
      el.replaceChildren(img);
    }
  }
  if (site.phone) {
    const hours = site.hours ? ` (${site.hours})` : "";
    for (const el of document.querySelectorAll('[data-site="phone"]')) {
      el.textContent = t(lang, "phone_line", { phone: site.phone, hours });
    }
  }
}
