// @ts-check
/**
 * Injected by the leak test before any page script (Playwright's addInitScript, in every
 * frame): a copy of everything the page hands to the network leaves a record in
 * `window.__madoguchiSent` — data-channel and websocket messages, fetch and XHR bodies,
 * beacons — so the test can search it for the secrets it typed. Text is kept as text,
 * binary as base64.
 */
(() => {
  /** @type {{via: string, label: string, text?: string, b64?: string}[]} */
  const sent = [];
  Object.defineProperty(window, "__madoguchiSent", { value: sent, enumerable: false });

  /** @param {Uint8Array} bytes */
  const b64 = (bytes) => {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  };

  /**
   * @param {string} via
   * @param {string} label
   * @param {unknown} data
   */
  const keep = (via, label, data) => {
    if (typeof data === "string") sent.push({ via, label, text: data });
    else if (data instanceof ArrayBuffer) sent.push({ via, label, b64: b64(new Uint8Array(data)) });
    else if (ArrayBuffer.isView(data)) sent.push({ via, label, b64: b64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) });
    else if (data === undefined || data === null) sent.push({ via, label, text: "" });
    else sent.push({ via, label, text: `[unrecorded ${Object.prototype.toString.call(data)}]` });
  };

  const channelSend = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = /** @type {typeof channelSend} */ (
    function (/** @type {any} */ data) {
      keep("datachannel", this.label, data);
      return channelSend.call(this, data);
    }
  );
  const socketSend = WebSocket.prototype.send;
  WebSocket.prototype.send = /** @type {typeof socketSend} */ (
    function (/** @type {any} */ data) {
      keep("websocket", this.url, data);
      return socketSend.call(this, data);
    }
  );
  const originalFetch = window.fetch;
  window.fetch = /** @type {typeof fetch} */ (
    (input, init) => {
      keep("fetch", String(input instanceof Request ? input.url : input), init?.body ?? "");
      return originalFetch(input, init);
    }
  );
  const xhrSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (/** @type {any} */ body) {
    keep("xhr", "", body ?? "");
    return xhrSend.call(this, body);
  };
  const beacon = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, data) => {
    keep("beacon", String(url), data ?? "");
    return beacon(url, data);
  };
})();
