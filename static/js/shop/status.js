// The aria-live status line: errors in plain words (they stay until the next action) and short confirmations.

export class StatusView {
  constructor(element) {
    this.element = element;
    this.timer = null;
  }

  show(message, { kind = "info", timeout = 4000 } = {}) {
    clearTimeout(this.timer);
    this.element.textContent = message;
    this.element.dataset.kind = kind;
    this.element.hidden = false;
    if (kind !== "error" && timeout) this.timer = setTimeout(() => this.clear(), timeout);
  }

  error(message) {
    this.show(message, { kind: "error" });
  }

  clear() {
    clearTimeout(this.timer);
    this.element.textContent = "";
    delete this.element.dataset.kind;
  }
}
