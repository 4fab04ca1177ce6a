// The slate of recommendations: cards with thumbnail, name, key attributes and the engine's reason.
import { attributeLine, h, thumbnail } from "./dom.js";

/** Build one recommendation card; `shopUrl(id)` gives the product's shopping-page URL. */
export function slateCard(item, shopUrl, { position, showReason }) {
  const { product } = item;
  const reasonId = `reason-${product.id}`;
  const reason = showReason ? item.reason : "";
  return h(
    "li",
    { class: "slate-card", dataset: { productId: product.id } },
    h(
      "a",
      {
        class: "slate-card__link",
        href: shopUrl(product.id),
        dataset: { productId: product.id },
        "aria-describedby": reason ? reasonId : null,
      },
      h("span", { class: "slate-card__media" }, thumbnail(product, { eager: position < 4 })),
      h("span", { class: "slate-card__name" }, product.name),
    ),
    h("p", { class: "slate-card__meta" }, attributeLine(product)),
    reason
      ? h("p", { class: "slate-card__reason", id: reasonId }, h("span", { class: "visually-hidden" }, "Why: "), reason)
      : null,
    h(
      "button",
      {
        class: "slate-card__more",
        type: "button",
        "aria-haspopup": "dialog",
        "aria-expanded": "false",
        "aria-label": `More like ${product.name}`,
        title: "More like this",
        dataset: { popoutFor: product.id },
      },
      moreIcon(),
    ),
  );
}

function moreIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const [x, y] of [[4, 4], [14, 4], [4, 14], [14, 14]]) {
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    Object.entries({ x, y, width: 6, height: 6, rx: 1.5 }).forEach(([name, value]) => rect.setAttribute(name, value));
    svg.append(rect);
  }
  return svg;
}

export class SlateView {
  /**
   * @param {HTMLElement} root  the shop element holding the slate, its empty state and the page controls
   * @param {(id: number) => string} shopUrl
   */
  constructor(root, shopUrl) {
    this.list = root.querySelector("[data-slate]");
    this.empty = root.querySelector("[data-slate-empty]");
    this.prev = root.querySelector("[data-page-prev]");
    this.next = root.querySelector("[data-page-next]");
    this.status = root.querySelector("[data-page-status]");
    this.shopUrl = shopUrl;
    this.page = 1;
    this.k = Number(root.dataset.slateSize) || 8;
  }

  setBusy(busy) {
    this.list.setAttribute("aria-busy", String(busy));
    this.list.classList.toggle("is-loading", busy);
  }

  /** The first load failed (the status line says why): replace the placeholders with a short note. */
  renderUnavailable() {
    this.list.replaceChildren();
    this.empty.textContent = "Recommendations are not available right now.";
    this.empty.hidden = false;
    this.next.disabled = true;
  }

  /** Show one slate page; the engine's reasons are shown once feedback is steering the slate. */
  render(slate, { showReasons = false } = {}) {
    const items = slate?.items || [];
    this.page = slate?.page || 1;
    this.k = slate?.k || this.k;
    const cards = items.map((item, position) => slateCard(item, this.shopUrl, { position, showReason: showReasons }));
    this.list.replaceChildren(...cards);
    this.empty.textContent =
      this.page > 1
        ? "That's all for now. Go back a page, or change a filter."
        : "No recommendations match. Try removing a filter or some feedback.";
    this.empty.hidden = items.length > 0;
    this.prev.disabled = this.page <= 1;
    this.next.disabled = items.length < this.k;
    this.status.textContent = `Page ${this.page}`;
  }
}
