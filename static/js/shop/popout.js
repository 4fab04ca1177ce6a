// The pop-out on a recommendation: that product's own top recommendations, fetched lazily and cached.
// Opens when the mouse moves onto a card and rests there a moment (never when cards merely appear under a still
// pointer), on a touch long-press, or with the card's "More like this" button
// (keyboard: Enter/Space). Escape, a click outside or leaving it with the mouse closes it.
import { attributeLine, h, thumbnail } from "./dom.js";

const HOVER_DELAY_MS = 350;
const CLOSE_DELAY_MS = 250;
const LONG_PRESS_MS = 500;
const LONG_PRESS_SLOP_PX = 10;
const POPOUT_SIZE = 4;

export class Popout {
  /**
   * @param {HTMLElement} element  the [data-popout] dialog
   * @param {import("./api.js").ApiClient} api
   * @param {object} options
   * @param {(id: number) => string} options.shopUrl  the shopping-page URL of a product
   * @param {(id: number) => void} options.onSelect  called when a product in the pop-out is chosen
   * @param {(error: Error) => void} options.onError  called when the recommendations cannot be loaded
   * @param {() => number} options.currentSeed  the product being viewed: never listed in the pop-out
   */
  constructor(element, api, { shopUrl, onSelect, onError, currentSeed }) {
    this.element = element;
    this.api = api;
    this.shopUrl = shopUrl;
    this.onSelect = onSelect;
    this.onError = onError;
    this.currentSeed = currentSeed;
    this.title = element.querySelector("[data-popout-title]");
    this.list = element.querySelector("[data-popout-list]");
    this.cache = new Map(); // product id -> Promise of slate items
    this.trigger = null; // the card the pop-out is open for
    this.openTimer = null;
    this.closeTimer = null;
    this.press = null; // a touch long-press in progress
    this.hoverCard = null; // the card the moving pointer is over (its pop-out opens after HOVER_DELAY_MS)
    this.pointer = null; // the pointer's last position seen over the slate
    this.suppressClick = false;

    element.querySelector("[data-popout-close]").addEventListener("click", () => this.close({ restoreFocus: true }));
    element.addEventListener("mouseenter", () => clearTimeout(this.closeTimer));
    element.addEventListener("mouseleave", () => this.scheduleClose());
    element.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-product-id]");
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      this.close();
      this.onSelect(Number(link.dataset.productId));
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.element.hidden) this.close({ restoreFocus: true });
    });
    document.addEventListener("pointerdown", (event) => {
      if (!this.element.hidden && !this.element.contains(event.target) && !this.trigger?.contains(event.target)) {
        this.close();
      }
    });
  }

  /** Listen on the slate (event delegation: cards come and go). */
  attach(slate) {
    // Hover intent from real pointer movement only: `mouseover` also fires when new cards are rendered under a
    // still pointer (after choosing a recommendation, or going back), which opened the pop-out by itself.
    slate.addEventListener("pointermove", (event) => this.hover(event));
    slate.addEventListener("mouseout", (event) => {
      const card = event.target.closest(".slate-card[data-product-id]");
      if (!card || card.contains(event.relatedTarget) || this.element.contains(event.relatedTarget)) return;
      clearTimeout(this.openTimer);
      this.hoverCard = null;
      if (card === this.trigger) this.scheduleClose();
    });
    slate.addEventListener("click", (event) => {
      const button = event.target.closest("[data-popout-for]");
      if (!button) return;
      const card = button.closest(".slate-card");
      if (card === this.trigger && !this.element.hidden) this.close({ restoreFocus: true });
      else this.open(card, { focus: true });
    });
    // Capture phase: the click that ends a long-press must not also open the product (or close the pop-out).
    slate.addEventListener(
      "click",
      (event) => {
        if (!this.suppressClick) return;
        this.suppressClick = false;
        event.preventDefault();
        event.stopPropagation();
      },
      true,
    );
    slate.addEventListener("pointerdown", (event) => this.startPress(event));
    slate.addEventListener("pointermove", (event) => this.movePress(event));
    for (const type of ["pointerup", "pointercancel"]) slate.addEventListener(type, () => this.endPress());
    slate.addEventListener("contextmenu", (event) => {
      if (event.target.closest(".slate-card") && this.press?.fired) event.preventDefault();
    });
  }

  // --- hover (mouse, pen) ------------------------------------------------------------------------------------
  hover(event) {
    if (event.pointerType === "touch") return;
    const moved = this.pointer === null || this.pointer.x !== event.clientX || this.pointer.y !== event.clientY;
    this.pointer = { x: event.clientX, y: event.clientY };
    const card = event.target.closest(".slate-card[data-product-id]");
    if (!moved || !card) return;
    if (card !== this.hoverCard || card === this.trigger) clearTimeout(this.closeTimer); // back from the pop-out
    if (card === this.hoverCard) return;
    this.hoverCard = card;
    clearTimeout(this.openTimer);
    if (card !== this.trigger) this.openTimer = setTimeout(() => this.open(card), HOVER_DELAY_MS);
  }

  // --- touch long-press ------------------------------------------------------------------------------------
  startPress(event) {
    if (event.pointerType !== "touch") return;
    const card = event.target.closest(".slate-card[data-product-id]");
    if (!card) return;
    this.suppressClick = false;
    this.press = { card, x: event.clientX, y: event.clientY, fired: false };
    this.press.timer = setTimeout(() => {
      this.press.fired = true;
      this.suppressClick = true;
      this.open(card);
    }, LONG_PRESS_MS);
  }

  movePress(event) {
    if (!this.press || event.pointerType !== "touch") return;
    if (Math.hypot(event.clientX - this.press.x, event.clientY - this.press.y) > LONG_PRESS_SLOP_PX) this.endPress();
  }

  endPress() {
    if (this.press) clearTimeout(this.press.timer);
    this.press = null;
  }

  // --- open / close -----------------------------------------------------------------------------------------
  scheduleClose() {
    clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(() => this.close(), CLOSE_DELAY_MS);
  }

  async open(card, { focus = false } = {}) {
    clearTimeout(this.openTimer);
    clearTimeout(this.closeTimer);
    if (this.trigger && this.trigger !== card) this.setExpanded(false);
    const productId = Number(card.dataset.productId);
    const name = card.querySelector(".slate-card__name")?.textContent || "this";
    this.trigger = card;
    this.title.textContent = `More like ${name}`;
    const placeholder = () => h("li", { class: "popout__item popout__item--skeleton" });
    const placeholders = Array.from({ length: POPOUT_SIZE }, placeholder);
    this.list.replaceChildren(...placeholders);
    this.element.hidden = false;
    this.element.setAttribute("aria-busy", "true");
    this.setExpanded(true);
    this.position(card);
    if (focus) this.element.querySelector("[data-popout-close]").focus();
    try {
      const items = await this.similar(productId);
      if (this.trigger !== card) return; // another card was opened meanwhile
      const seed = this.currentSeed();
      this.render(items.filter(({ product }) => product.id !== seed).slice(0, POPOUT_SIZE));
      if (focus) this.list.querySelector("a")?.focus();
    } catch (error) {
      if (this.trigger !== card) return;
      this.list.replaceChildren(h("li", { class: "popout__message" }, "Couldn't load similar products."));
      this.onError(error);
    } finally {
      if (this.trigger === card) this.element.setAttribute("aria-busy", "false");
    }
  }

  close({ restoreFocus = false } = {}) {
    clearTimeout(this.openTimer);
    clearTimeout(this.closeTimer);
    if (this.element.hidden) return;
    const trigger = this.trigger;
    this.setExpanded(false);
    this.element.hidden = true;
    this.trigger = null;
    if (restoreFocus) trigger?.querySelector("[data-popout-for]")?.focus();
  }

  setExpanded(expanded) {
    this.trigger?.querySelector("[data-popout-for]")?.setAttribute("aria-expanded", String(expanded));
  }

  similar(productId) {
    if (!this.cache.has(productId)) {
      // One more than shown: the product being viewed may be among them and is left out.
      const request = this.api.similar(productId, { k: POPOUT_SIZE + 1 }).then((data) => data.results || []);
      request.catch(() => this.cache.delete(productId)); // retry next time after a failure
      this.cache.set(productId, request);
    }
    return this.cache.get(productId);
  }

  render(items) {
    if (!items.length) {
      this.list.replaceChildren(h("li", { class: "popout__message" }, "No similar products found."));
      return;
    }
    this.list.replaceChildren(
      ...items.map(({ product }) =>
        h(
          "li",
          { class: "popout__item" },
          h(
            "a",
            { class: "popout__link", href: this.shopUrl(product.id), dataset: { productId: product.id } },
            thumbnail(product, { className: "popout__image" }),
            h("span", { class: "popout__name" }, product.name),
            h("span", { class: "popout__meta" }, attributeLine(product)),
          ),
        ),
      ),
    );
  }

  /** Place the pop-out beside the card (right if there is room, else left); phones get a bottom sheet (CSS). */
  position(card) {
    const container = this.element.offsetParent || document.body;
    const box = card.getBoundingClientRect();
    const origin = container.getBoundingClientRect();
    const width = this.element.offsetWidth;
    const gap = 12;
    const fitsRight = box.right + gap + width <= document.documentElement.clientWidth - 8;
    const left = fitsRight ? box.right + gap : Math.max(8, box.left - gap - width);
    this.element.style.setProperty("--popout-left", `${left - origin.left}px`);
    this.element.style.setProperty("--popout-top", `${box.top - origin.top}px`);
    this.element.dataset.side = fitsRight ? "right" : "left";
  }
}
