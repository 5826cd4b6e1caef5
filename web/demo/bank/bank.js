// @ts-check
/**
 * The demo bank's own page script (not Madoguchi's): a show-password toggle, a software
 * keyboard widget, a one-time-password field in a shadow root and a field that a script
 * fills. It exists so co-browsing can be shown and tested against what real bank pages do.
 */

(() => {
  const password = /** @type {HTMLInputElement | null} */ (document.getElementById("password"));
  const toggle = document.getElementById("show-password");
  if (password !== null && toggle !== null) {
    toggle.addEventListener("click", () => {
      const shown = password.type === "password";
      password.type = shown ? "text" : "password";
      toggle.setAttribute("aria-pressed", String(shown));
      toggle.textContent = shown ? "パスワードを隠す" : "パスワードを表示";
    });
  }

  const keyboard = document.getElementById("soft-keyboard");
  const open = document.getElementById("open-keyboard");
  if (keyboard !== null && open !== null && password !== null) {
    // Shuffled digits, as bank software keyboards do; each key appends to the password.
    const digits = ["7", "3", "9", "1", "5", "0", "8", "2", "6", "4"];
    for (const digit of digits) {
      const key = document.createElement("button");
      key.type = "button";
      key.className = "soft-key";
      key.textContent = digit;
      key.addEventListener("click", () => {
        password.value += digit;
      });
      keyboard.append(key);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "soft-key soft-close";
    close.id = "close-keyboard";
    close.textContent = "閉じる";
    close.addEventListener("click", () => {
      keyboard.hidden = true;
    });
    keyboard.append(close);
    open.addEventListener("click", () => {
      keyboard.hidden = false;
    });
  }

  const fill = document.getElementById("fill-ref");
  const ref = /** @type {HTMLInputElement | null} */ (document.getElementById("ref"));
  if (fill !== null && ref !== null) {
    fill.addEventListener("click", () => {
      ref.value = fill.dataset.value ?? "REF-000000";
    });
  }

  if (!customElements.get("otp-field")) {
    customElements.define(
      "otp-field",
      class extends HTMLElement {
        connectedCallback() {
          if (this.shadowRoot !== null) return;
          const root = this.attachShadow({ mode: "open" });
          const label = document.createElement("label");
          label.textContent = "ワンタイムパスワード ";
          const input = document.createElement("input");
          input.id = "otp-input";
          input.type = "text";
          input.inputMode = "numeric";
          input.autocomplete = "one-time-code";
          label.append(input);
          root.append(label);
        }
      },
    );
  }
})();
