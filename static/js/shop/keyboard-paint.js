// Painting without a pointer: the paint canvas takes keyboard focus; the arrow keys move a visible cell cursor over
// a CELLS x CELLS grid laid over the photo (Home/End: first/last column) and Space or Enter paints or unpaints the
// cell under it. A painted cell is a rectangle among the painter's operations, so Clear, the mask sent by "Show me
// something else" and the pointer tools treat it like any other painting. Moves and changes are announced in a
// polite live region ("Cell 3,4 painted. 2 cells painted.").

const CELLS = 8; // 64 cells: fine enough to pick out a collar or a sleeve, few enough to walk with the arrow keys

const MOVES = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
  Home: [-CELLS, 0],
  End: [CELLS, 0],
};

export class KeyboardPainter {
  /**
   * @param {import("./painter.js").Painter} painter  the painter of the canvas over the photo
   * @param {HTMLElement} cursor  the cell cursor, positioned over the canvas in percentages
   * @param {HTMLElement} announcer  an aria-live region
   */
  constructor(painter, cursor, announcer) {
    this.painter = painter;
    this.canvas = painter.canvas;
    this.cursor = cursor;
    this.announcer = announcer;
    this.column = 0;
    this.row = 0;
    this.canvas.tabIndex = 0;
    this.canvas.dataset.cells = String(CELLS);
    this.canvas.addEventListener("keydown", (event) => this.onKeydown(event));
    this.canvas.addEventListener("focus", () => this.showCursor(this.canvas.matches(":focus-visible")));
    this.canvas.addEventListener("blur", () => this.showCursor(false));
    painter.addEventListener("change", () => this.placeCursor()); // e.g. Clear: the cell is no longer painted
    this.placeCursor();
  }

  get paintedCount() {
    return this.painter.ops.filter((op) => op.cell).length;
  }

  onKeydown(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const move = MOVES[event.key];
    if (move) {
      event.preventDefault(); // no page scroll
      this.column = clamp(this.column + move[0]);
      this.row = clamp(this.row + move[1]);
      this.showCursor(true);
      this.announce(`Cell ${this.label}, ${this.cellOp() ? "painted" : "not painted"}.`);
    } else if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      this.showCursor(true);
      this.toggle();
    }
  }

  toggle() {
    const op = this.cellOp();
    if (op) this.painter.removeOp(op);
    else this.painter.addOp(this.cellRect());
    const count = this.paintedCount;
    const total = `${count} ${count === 1 ? "cell" : "cells"} painted`;
    this.announce(`Cell ${this.label} ${op ? "not painted" : "painted"}. ${total}.`);
  }

  // --- cells ---------------------------------------------------------------------------------------------
  get key() {
    return `${this.column},${this.row}`;
  }

  /** Column and row counted from 1, as announced. */
  get label() {
    return `${this.column + 1},${this.row + 1}`;
  }

  cellOp() {
    return this.painter.ops.find((op) => op.cell === this.key) || null;
  }

  cellRect() {
    const x0 = this.column / CELLS;
    const y0 = this.row / CELLS;
    return { type: "rect", x0, y0, x1: x0 + 1 / CELLS, y1: y0 + 1 / CELLS, cell: this.key };
  }

  // --- cursor and announcements ------------------------------------------------------------------------------
  showCursor(visible) {
    this.cursor.hidden = !visible;
    if (visible) this.placeCursor();
  }

  placeCursor() {
    const size = 100 / CELLS;
    Object.assign(this.cursor.style, {
      left: `${this.column * size}%`,
      top: `${this.row * size}%`,
      width: `${size}%`,
      height: `${size}%`,
    });
    this.cursor.toggleAttribute("data-painted", Boolean(this.cellOp()));
  }

  announce(message) {
    this.announcer.textContent = message;
  }
}

function clamp(index) {
  return Math.min(CELLS - 1, Math.max(0, index));
}
