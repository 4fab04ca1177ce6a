// The seed section: photo, name, breadcrumb and attribute list, re-rendered when the seed changes in place.
import { h } from "./dom.js";

function attributes(card) {
  const category = [card.master_category, card.sub_category].filter(Boolean).join(" › ");
  const season = [card.season, card.year].filter(Boolean).join(" ");
  const rows = [
    ["Type", card.article_type],
    ["Category", category],
    ["Colour", card.base_colour],
    ["For", card.gender],
    ["Season", season],
    ["Usage", card.usage],
  ];
  return rows
    .filter(([, value]) => value)
    .map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, String(value))));
}

export class SeedView {
  constructor(root) {
    this.root = root;
    this.stage = root.querySelector("[data-stage]");
    this.image = root.querySelector("[data-seed-image]");
    this.name = root.querySelector("[data-seed-name]");
    this.breadcrumb = root.querySelector("[data-seed-breadcrumb]");
    this.attributes = root.querySelector("[data-seed-attributes]");
    this.card = { id: Number(root.dataset.productId) }; // the server rendered this product
  }

  /** The photo's own pixel size: the mask is sent at this resolution. */
  get naturalSize() {
    const width = this.image?.naturalWidth || this.card?.width || 224;
    const height = this.image?.naturalHeight || this.card?.height || 224;
    return { width, height };
  }

  render(card) {
    if (!card) return;
    const changed = this.card.id !== card.id;
    this.card = card;
    if (!changed) return;
    const width = card.width || 224;
    const height = card.height || 224;
    this.stage.style.aspectRatio = `${width} / ${height}`;
    if (this.image) {
      Object.assign(this.image, { src: card.image_url, alt: card.name, width, height });
    }
    this.name.textContent = card.name;
    this.breadcrumb.textContent = card.article_type || card.master_category || "";
    this.attributes.replaceChildren(...attributes(card));
    document.title = `${card.name} · Lookaway`;
  }
}
