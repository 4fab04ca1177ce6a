// The feedback history: one chip per active feedback, showing the seed thumbnail with the painted mask on top.
// Feedback given on another article type than the current seed's is paused (kept, not steering): its chip says so.
import { h, thumbnail } from "./dom.js";

function chip(feedback, position) {
  const label = `Feedback ${position} on ${feedback.seed.name}`;
  let mask = null;
  if (feedback.mask_url) {
    mask = h("span", { class: "chip__mask", "aria-hidden": "true" });
    mask.style.setProperty("--mask", `url("${feedback.mask_url}")`);
  }
  const paused = feedback.paused
    ? h("span", { class: "chip__paused", title: `Paused: it steers ${feedback.seed.article_type} again` }, "paused")
    : null;
  return h(
    "li",
    { class: feedback.paused ? "chip chip--paused" : "chip", dataset: { feedbackId: feedback.id } },
    h("span", { class: "chip__thumb" }, thumbnail(feedback.seed, { className: "chip__image" }), mask),
    h(
      "span",
      { class: "chip__label", title: feedback.seed.name },
      h("span", { class: "chip__number" }, `#${position}`),
      " ",
      feedback.seed.name,
      paused ? " " : null,
      paused,
    ),
    h(
      "button",
      {
        class: "chip__remove",
        type: "button",
        "aria-label": `Remove ${label}`,
        dataset: { removeFeedback: feedback.id },
      },
      "×",
    ),
  );
}

export class HistoryView {
  constructor(root) {
    this.list = root.querySelector("[data-chips]");
    this.empty = root.querySelector("[data-chips-empty]");
    this.undo = root.querySelector("[data-undo]");
    this.reset = root.querySelector("[data-reset]");
  }

  /** Render the active feedback, oldest first; returns how many there are. */
  render(feedback) {
    const active = (feedback || []).filter((item) => item.active !== false).sort((a, b) => a.order - b.order);
    this.list.replaceChildren(...active.map((item, index) => chip(item, index + 1)));
    this.empty.hidden = active.length > 0;
    this.undo.disabled = active.length === 0;
    this.reset.disabled = active.length === 0;
    return active.length;
  }
}
