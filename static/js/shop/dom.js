// Tiny DOM helpers: build elements declaratively without innerHTML (no escaping bugs).

/**
 * Create an element. `attrs` keys: `class`, `dataset` (object), `on<event>` (listener), booleans (set when true),
 * anything else as an attribute. Children may be strings, nodes, or null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** The one element matching `selector` inside `root`; throws when the template is missing it. */
export function $(root, selector) {
  const element = root.querySelector(selector);
  if (!element) throw new Error(`Missing element ${selector}`);
  return element;
}

/** A product card's short attribute line, e.g. "Shirts · Blue · Men". */
export function attributeLine(card) {
  return [card.article_type, card.base_colour, card.gender].filter(Boolean).join(" · ");
}

/** A lazily loaded product thumbnail with its intrinsic size set (no layout shift). */
export function thumbnail(card, { className = "", eager = false } = {}) {
  return h("img", {
    class: className,
    src: card.image_url,
    alt: "",
    width: card.width || 224,
    height: card.height || 224,
    loading: eager ? "eager" : "lazy",
    decoding: "async",
  });
}
