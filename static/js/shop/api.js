// The session API client: JSON in and out, the CSRF token on writes, and errors a shopper can read.

/** A failed API call, with a message written for the shopper. */
export class ApiError extends Error {
  constructor(message, { status = 0, data = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.data = data;
  }

  get isNotFound() {
    return this.status === 404;
  }
}

const NETWORK_MESSAGE = "We couldn't reach the shop. Check your connection and try again.";
const SERVER_MESSAGE = "Something went wrong on our side. Please try again in a moment.";

/** Turn DRF's error bodies ({detail: msg} or {field: [msg, ...]}) into one sentence. */
export function errorMessage(status, data) {
  if (status >= 500 || status === 0) return SERVER_MESSAGE;
  if (data && typeof data === "object") {
    if (typeof data.detail === "string") return data.detail;
    // Field errors are written as whole sentences by the API: show them without the field names.
    const messages = Object.values(data)
      .flatMap((value) => (Array.isArray(value) ? value : [value]))
      .filter((text) => typeof text === "string");
    if (messages.length) return messages.join(" ");
  }
  return `The request failed (${status}). Please try again.`;
}

export class ApiClient {
  /**
   * @param {string} root  the API root, e.g. "/api/v1/"
   * @param {string} csrfToken  Django's CSRF token (sent as X-CSRFToken on writes)
   */
  constructor(root, csrfToken) {
    this.root = root.endsWith("/") ? root : `${root}/`;
    this.csrfToken = csrfToken;
  }

  async request(method, path, { body, params, signal } = {}) {
    const url = new URL(path, new URL(this.root, window.location.origin));
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    }
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = this.csrfToken;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(NETWORK_MESSAGE);
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(errorMessage(response.status, data), { status: response.status, data });
    return data;
  }

  // --- sessions -------------------------------------------------------------------------------------------
  createSession(seedId) {
    return this.request("POST", "sessions/", { body: seedId ? { seed_id: seedId } : {} });
  }

  getSession(id, { page = 1, k } = {}) {
    return this.request("GET", `sessions/${id}/`, { params: { page, k } });
  }

  setSeed(id, productId) {
    return this.request("POST", `sessions/${id}/seed/`, { body: { product_id: productId } });
  }

  setFilters(id, filters) {
    return this.request("POST", `sessions/${id}/filters/`, { body: filters });
  }

  addFeedback(id, mask) {
    return this.request("POST", `sessions/${id}/feedback/`, { body: mask });
  }

  undo(id) {
    return this.request("POST", `sessions/${id}/undo/`);
  }

  removeFeedback(id, feedbackId) {
    return this.request("DELETE", `sessions/${id}/feedback/${feedbackId}/`);
  }

  reset(id) {
    return this.request("POST", `sessions/${id}/reset/`);
  }

  // --- products -------------------------------------------------------------------------------------------
  similar(productId, { k = 4, page = 1, filters = {} } = {}) {
    return this.request("GET", `products/${productId}/similar/`, { params: { k, page, ...filters } });
  }
}
