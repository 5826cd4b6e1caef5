// @ts-check
/**
 * A real Chromium as the customer, driven line by line: testbed/browser.py starts this
 * script, writes one JSON command per line on stdin and reads one JSON answer per line
 * on stdout. Debian's chromium, non-headless (headless Chromium cannot capture a screen)
 * on the X display in DISPLAY, with the whole screen picked automatically in place of the
 * picker. playwright-core never downloads a browser. MADOGUCHI_CHROMIUM_ARGS adds flags.
 *
 * Commands: {"do": "goto", "url"} | {"do": "click", "selector"} | {"do": "fill", "selector", "text"}
 * | {"do": "wait", "selector", "state"?, "timeout_ms"?} | {"do": "text", "selector"}
 * | {"do": "fill", "selector", "text", "frame"?} | {"do": "type", "selector", "text", "delay_ms"?} | {"do": "mouse", "x", "y", "steps"?} | {"do": "click_xy", "x", "y"}
 * | {"do": "audit"} (web/e2e/audit.js) | {"do": "press", "key"} | {"do": "eval", "script"} | {"do": "screenshot", "path", "width"?, "height"?, "full"?}
 * | {"do": "new_page", "user_agent"?, "viewport"?, "touch"?, "init_script"?} | {"do": "close_page"} | {"do": "quit"}
 * | {"do": "tap", "x", "y"} (a touch screen's tap: new_page with touch) | {"do": "viewport", "width", "height"} (resize the page's viewport).
 * `init_script` names a file (e.g. e2e/leak-hook.js) run in every frame before the page's scripts.
 * Answers: {"ok": true, "value"?} or {"ok": false, "error"}. Console messages of the page
 * arrive as {"console": type, "text"} lines at any time.
 */

import { createInterface } from "node:readline";

import { chromium } from "playwright-core";

import { accessibilityProblems, firstContentfulPaint, worstContrast } from "./audit.js";

/** Flags for a quiet, deterministic browser that shares the whole X screen without asking. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--disable-dev-shm-usage",
  "--password-store=basic",
  // Every party is on this machine: offer the loopback address and real host addresses
  // (not mDNS names, which need multicast DNS the operator's aioice may not have).
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  // Two browsers may share the display (a customer and the operator's view): a covered window
  // must keep rendering and running its timers as a visible one does.
  "--disable-backgrounding-occluded-windows",
  "--disable-renderer-backgrounding",
  "--disable-background-timer-throttling",
  "--window-position=0,0",
  "--window-size=1280,900",
];

/** @param {object} line */
function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.MADOGUCHI_CHROMIUM ?? "/usr/bin/chromium",
    headless: false,
    // MADOGUCHI_PICKER=ask leaves the browser's picker to the person (or xdotool).
    // MADOGUCHI_CHROMIUM_ARGS: more flags, space-separated (a lab's origin to treat as secure).
    args: [
      ...(process.env.MADOGUCHI_PICKER === "ask" ? [] : ["--auto-select-desktop-capture-source=Entire"]),
      ...CHROMIUM_ARGS,
      ...(process.env.MADOGUCHI_CHROMIUM_ARGS ?? "").split(" ").filter(Boolean),
    ],
    env: { ...process.env, LANGUAGE: "en" },
  });
  /** @type {import("playwright-core").BrowserContext | null} */
  let context = null;
  /** @type {import("playwright-core").Page | null} */
  let page = null;

  /**
   * @param {string | undefined} userAgent
   * @param {{width: number, height: number} | undefined} [viewport] a fixed viewport (phone emulation)
   * @param {boolean} [touch] touch events and a coarse pointer
   * @param {string} [initScript] a file run in every frame before the page's own scripts
   */
  async function newPage(userAgent, viewport, touch, initScript) {
    await context?.close();
    context = await browser.newContext({
      viewport: viewport ?? null,
      ...(userAgent ? { userAgent } : {}),
      ...(touch ? { hasTouch: true, isMobile: true } : {}),
    });
    if (initScript) await context.addInitScript({ path: initScript });
    page = await context.newPage();
    page.on("console", (message) => emit({ console: message.type(), text: message.text() }));
    page.on("pageerror", (error) => emit({ console: "pageerror", text: String(error) }));
    return page;
  }

  /** @returns {import("playwright-core").Page} */
  function current() {
    if (page === null) throw new Error("no page: send new_page or goto first");
    return page;
  }

  /**
   * @param {Record<string, any>} command
   * @returns {Promise<unknown>}
   */
  async function run(command) {
    switch (command.do) {
      case "new_page":
        await newPage(command.user_agent, command.viewport, command.touch, command.init_script);
        return null;
      case "goto":
        if (page === null) await newPage(undefined);
        await current().goto(command.url, { waitUntil: "load" });
        return null;
      case "click":
        await current().click(command.selector, { timeout: command.timeout_ms ?? 10_000 });
        return null;
      case "audit":
        return {
          problems: await current().evaluate(accessibilityProblems),
          contrast: await current().evaluate(worstContrast),
          first_paint_ms: await current().evaluate(firstContentfulPaint),
        };
      case "press":
        await current().keyboard.press(command.key);
        return null;
      case "fill":
        // "frame": the selector of an iframe whose document holds the field.
        if (command.frame) await current().frameLocator(command.frame).locator(command.selector).fill(command.text);
        else await current().fill(command.selector, command.text);
        return null;
      case "type":
        await current().locator(command.selector).pressSequentially(command.text, { delay: command.delay_ms ?? 0 });
        return null;
      case "tap":
        await current().touchscreen.tap(command.x, command.y);
        return null;
      case "viewport":
        await current().setViewportSize({ width: command.width, height: command.height });
        return null;
      case "click_xy":
        await current().mouse.click(command.x, command.y);
        return null;
      case "mouse":
        await current().mouse.move(command.x, command.y, { steps: command.steps ?? 5 });
        return null;
      case "wait":
        await current().waitForSelector(command.selector, {
          state: command.state ?? "visible",
          timeout: command.timeout_ms ?? 10_000,
        });
        return null;
      case "text":
        return await current().textContent(command.selector);
      case "eval":
        return await current().evaluate(command.script);
      case "screenshot":
        if (command.width && command.height) {
          await current().setViewportSize({ width: command.width, height: command.height });
        }
        await current().screenshot({ path: command.path, fullPage: command.full ?? true });
        return command.path;
      case "close_page":
        await current().close({ runBeforeUnload: true });
        page = null;
        return null;
      default:
        throw new Error(`unknown command ${JSON.stringify(command.do)}`);
    }
  }

  emit({ ok: true, value: { version: browser.version() } });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const command = JSON.parse(line);
    if (command.do === "quit") break;
    try {
      emit({ ok: true, value: (await run(command)) ?? null });
    } catch (error) {
      emit({ ok: false, error: error instanceof Error ? error.message.split("\n")[0] : String(error) });
    }
  }
  await browser.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
