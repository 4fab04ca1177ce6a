// The shopping page controller: keeps one feedback session per browser tab, wires painting, the slate, the
// feedback history, filters, the pop-out and history navigation (pushState/popstate) together.
import { ApiClient, ApiError } from "./api.js";
import { $ } from "./dom.js";
import { HistoryView } from "./history.js";
import { KeyboardPainter } from "./keyboard-paint.js";
import { Painter } from "./painter.js";
import { Popout } from "./popout.js";
import { SeedView } from "./seed.js";
import { SlateView } from "./slate.js";
import { StatusView } from "./status.js";

const SESSION_KEY = "lookaway.session";

class Shop {
  constructor(root) {
    this.root = root;
    this.api = new ApiClient(root.dataset.apiRoot, $(root, "input[name=csrfmiddlewaretoken]").value);
    this.productId = Number(root.dataset.productId);
    this.sessionId = sessionStorage.getItem(SESSION_KEY);
    this.state = null;
    this.queue = Promise.resolve(); // API actions run one at a time, in order
    this.pending = 0;

    const shopUrl = (id) => root.dataset.shopUrl.replace(/\/0\/$/, `/${id}/`);
    this.shopUrl = shopUrl;
    this.seed = new SeedView(root);
    this.slate = new SlateView(root, shopUrl);
    this.history = new HistoryView(root);
    this.status = new StatusView($(root, "[data-status]"));
    this.painter = new Painter($(root, "[data-paint-canvas]"), root.querySelector("[data-brush-cursor]"));
    this.keyboardPainter = new KeyboardPainter(
      this.painter,
      $(root, "[data-cell-cursor]"),
      $(root, "[data-paint-announce]"),
    );
    this.popout = new Popout($(root, "[data-popout]"), this.api, {
      shopUrl,
      onSelect: (id) => this.goTo(id),
      onError: (error) => this.showError(error),
      currentSeed: () => this.productId,
    });
    this.submitButton = $(root, "[data-submit-feedback]");
    this.clearButton = $(root, "[data-paint-clear]");
    this.filters = $(root, "[data-filters]");
    this.bind();
  }

  bind() {
    const root = this.root;
    for (const radio of root.querySelectorAll("input[name=paint-tool]")) {
      radio.addEventListener("change", () => this.painter.setTool(radio.value));
    }
    const size = $(root, "[data-brush-size]");
    size.addEventListener("input", () => {
      this.painter.setBrushSize(Number(size.value));
      size.setAttribute("aria-valuetext", `${size.value} pixels`);
    });
    this.painter.setBrushSize(Number(size.value));
    this.painter.addEventListener("change", () => this.updatePaintButtons());
    this.clearButton.addEventListener("click", () => this.painter.clear());
    this.submitButton.addEventListener("click", () => this.submitFeedback());

    $(root, "[data-undo]").addEventListener("click", () => this.act((id) => this.api.undo(id), "Undone."));
    $(root, "[data-reset]").addEventListener("click", () =>
      this.act((id) => this.api.reset(id), "Started over: all feedback removed."),
    );
    $(root, "[data-chips]").addEventListener("click", (event) => {
      const button = event.target.closest("[data-remove-feedback]");
      if (!button) return;
      const feedbackId = button.dataset.removeFeedback;
      this.act((id) => this.api.removeFeedback(id, feedbackId), "Feedback removed.");
    });

    $(root, "[data-page-prev]").addEventListener("click", () => this.loadPage(this.slate.page - 1));
    $(root, "[data-page-next]").addEventListener("click", () => this.loadPage(this.slate.page + 1));

    this.filters.addEventListener("change", () => this.applyFilters());
    this.filters.addEventListener("reset", () => setTimeout(() => this.applyFilters()));
    this.filters.addEventListener("submit", (event) => event.preventDefault());
    $(root, "[data-type-filter-remove]").addEventListener("click", () => this.setKeepType(false));
    $(root, "[data-type-filter-restore]").addEventListener("click", () => this.setKeepType(true));
    const filtersPanel = $(root, "[data-filters-panel]");
    document.addEventListener("click", (event) => {
      if (filtersPanel.open && !filtersPanel.contains(event.target)) filtersPanel.open = false;
    });
    filtersPanel.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !filtersPanel.open) return;
      filtersPanel.open = false;
      filtersPanel.querySelector("summary").focus();
    });

    const slate = $(root, "[data-slate]");
    slate.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-product-id]");
      if (!link || event.defaultPrevented || event.button !== 0) return;
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return; // new tab or window
      event.preventDefault();
      this.goTo(Number(link.dataset.productId));
    });
    this.popout.attach(slate);

    window.addEventListener("popstate", (event) => {
      const id = event.state?.productId ?? this.productIdFromUrl();
      if (id && id !== this.productId) this.goTo(id, { push: false });
    });
  }

  productIdFromUrl() {
    const match = window.location.pathname.match(/\/(\d+)\/?$/);
    return match ? Number(match[1]) : null;
  }

  // --- actions --------------------------------------------------------------------------------------------
  /**
   * Queue `call(sessionId)`, an API call answering the session state; show a loading state, render the answer.
   * A session is opened first when the page has none yet (its first load failed). Resolves to success.
   */
  act(call, successMessage = "", { needsSession = true } = {}) {
    const run = async () => {
      this.setBusy(true);
      try {
        if (needsSession && !this.sessionId) this.render(await this.openSession());
        const state = await call(this.sessionId);
        this.render(state);
        if (successMessage) this.status.show(successMessage);
        else this.status.clear();
        return true;
      } catch (error) {
        this.showError(error);
        return false;
      } finally {
        this.setBusy(false);
      }
    };
    this.queue = this.queue.then(run);
    return this.queue;
  }

  async start() {
    history.replaceState({ productId: this.productId }, "", window.location.href);
    const ok = await this.act(() => this.openSession(), "", { needsSession: false });
    if (!ok && !this.state) this.slate.renderUnavailable();
  }

  /** Resume this tab's session (set to this page's product), or create one. */
  async openSession() {
    if (this.sessionId) {
      try {
        const state = await this.api.getSession(this.sessionId, { k: this.slate.k });
        return state.seed?.id === this.productId ? state : await this.api.setSeed(this.sessionId, this.productId);
      } catch (error) {
        if (!(error instanceof ApiError) || ![403, 404].includes(error.status)) throw error;
        // The session expired or belongs to another browser: start a new one.
      }
    }
    const state = await this.api.createSession(this.productId);
    this.sessionId = String(state.id);
    sessionStorage.setItem(SESSION_KEY, this.sessionId);
    return state;
  }

  async submitFeedback() {
    const { width, height } = this.seed.naturalSize;
    const mask = this.painter.toMask(width, height);
    if (mask.coverage === 0) {
      this.status.error("Paint over the part of the photo you don't like first.");
      return;
    }
    const body = { mask: mask.dataUrl, width, height, seed_id: this.productId };
    const send = async (id) => {
      try {
        return await this.api.addFeedback(id, body);
      } catch (error) {
        // Another tab of this browser moved the session to another seed: come back to this one and retry.
        if (!(error instanceof ApiError) || error.status !== 400 || !error.data?.seed_id) throw error;
        await this.api.setSeed(id, this.productId);
        return this.api.addFeedback(id, body);
      }
    };
    const ok = await this.act(send, "Updated: these avoid what you painted.");
    if (ok) this.painter.clear();
  }

  loadPage(page) {
    if (page < 1) return;
    this.act((id) => this.api.getSession(id, { page, k: this.slate.k }));
  }

  applyFilters() {
    const filters = Object.fromEntries(new FormData(this.filters));
    this.act((id) => this.api.setFilters(id, filters));
  }

  /** Make `productId` the seed; `push` adds a history entry (false when following back/forward). */
  async goTo(productId, { push = true } = {}) {
    this.popout.close();
    const ok = await this.act((id) => this.api.setSeed(id, productId));
    if (!ok) return;
    this.painter.clear();
    if (push) history.pushState({ productId }, "", this.shopUrl(productId));
    window.scrollTo({ top: 0, behavior: "smooth" });
    $(this.root, "[data-seed-name]").focus({ preventScroll: true });
  }

  // --- rendering ------------------------------------------------------------------------------------------
  render(state) {
    this.state = state;
    this.productId = state.seed?.id ?? this.productId;
    this.root.dataset.productId = String(this.productId);
    this.seed.render(state.seed);
    const feedbackCount = this.history.render(state.feedback);
    this.slate.render(state.slate, { showReasons: feedbackCount > 0 });
    this.renderFilters(state.filters || {});
    this.renderTypeFilter(state);
  }

  /** The default filter that keeps the seed's kind of product: a chip to remove it, or a button to bring it back. */
  renderTypeFilter(state) {
    const box = $(this.root, "[data-type-filter]");
    const chip = $(box, ".type-filter__chip");
    const restore = $(box, "[data-type-filter-restore]");
    const applied = state.default_filter || {};
    const kind = (f) => [f.article_type, f.gender].filter(Boolean).join(" · ");
    const seedKind = state.seed ? kind(state.seed) : "";
    chip.hidden = !kind(applied);
    $(chip, "[data-type-filter-label]").textContent = `${kind(applied)} first`;
    restore.hidden = state.keep_type !== false || !seedKind;
    restore.textContent = `Show ${seedKind} first`;
    box.hidden = chip.hidden && restore.hidden;
  }

  setKeepType(keepType) {
    const filters = Object.fromEntries(new FormData(this.filters));
    this.act((id) => this.api.setFilters(id, { ...filters, keep_type: keepType }));
  }

  renderFilters(filters) {
    let count = 0;
    for (const select of this.filters.querySelectorAll("select")) {
      select.value = filters[select.name] || "";
      if (select.value) count += 1;
    }
    const badge = $(this.root, "[data-filters-count]");
    badge.textContent = String(count);
    badge.hidden = count === 0;
  }

  setBusy(busy) {
    this.pending += busy ? 1 : -1;
    const loading = this.pending > 0;
    this.slate.setBusy(loading);
    this.root.classList.toggle("is-busy", loading);
    this.updatePaintButtons();
  }

  updatePaintButtons() {
    const busy = this.pending > 0;
    this.submitButton.disabled = busy || this.painter.isEmpty;
    this.submitButton.setAttribute("aria-busy", String(busy));
    this.clearButton.disabled = this.painter.isEmpty;
  }

  showError(error) {
    if (error?.name === "AbortError") return;
    console.warn(error);
    this.status.error(error instanceof ApiError ? error.message : "Something went wrong. Please try again.");
  }
}

const root = document.getElementById("shop");
if (root) {
  const shop = new Shop(root);
  shop.start();
}
