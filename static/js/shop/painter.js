// The painting overlay on the seed photo: brush, eraser and rectangle through Pointer Events (mouse, touch, pen).
//
// What the shopper paints is kept as a list of operations in normalised image coordinates (0..1 on both axes, brush
// sizes as a fraction of the image width). The visible canvas replays them at its own resolution (CSS size times
// devicePixelRatio, redrawn on resize) and the mask sent to the server replays them at the photo's own pixel size,
// so the mask is correct on any screen density and at any display size.

const PAINT_COLOUR = "#e11d48";

export class Painter extends EventTarget {
  /**
   * @param {HTMLCanvasElement} canvas  overlay positioned exactly over the photo
   * @param {HTMLElement} cursor  optional ring that follows a mouse or pen to preview the brush
   */
  constructor(canvas, cursor = null) {
    super();
    this.canvas = canvas;
    this.cursor = cursor;
    this.context = canvas.getContext("2d");
    this.ops = [];
    this.tool = "brush";
    this.brushPixels = 28;
    this.active = null; // the operation being drawn and its pointer id
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(canvas);
    for (const type of ["pointerdown", "pointermove", "pointerup", "pointercancel", "pointerleave"]) {
      canvas.addEventListener(type, (event) => this[`on${type}`](event));
    }
    canvas.addEventListener("contextmenu", (event) => event.preventDefault());
    this.resize();
  }

  get isEmpty() {
    return this.ops.length === 0;
  }

  setTool(tool) {
    this.tool = tool;
    this.canvas.dataset.tool = tool;
  }

  setBrushSize(pixels) {
    this.brushPixels = pixels;
  }

  clear() {
    this.ops = [];
    this.active = null;
    this.redraw();
    this.changed();
  }

  /** Add a finished operation (e.g. a cell painted with the keyboard). */
  addOp(op) {
    this.ops.push(op);
    this.redraw();
    this.changed();
  }

  /** Remove one operation added before (a keyboard cell painted again). */
  removeOp(op) {
    this.ops = this.ops.filter((other) => other !== op);
    this.redraw();
    this.changed();
  }

  /** Render the painted region at `width` x `height` (the photo's own pixels) as a PNG data URL. */
  toMask(width, height) {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    this.replay(context, width, height, "#ffffff");
    const alpha = context.getImageData(0, 0, width, height).data;
    let painted = 0;
    for (let i = 3; i < alpha.length; i += 4) if (alpha[i] >= 128) painted += 1;
    return { dataUrl: canvas.toDataURL("image/png"), width, height, coverage: painted / (width * height) };
  }

  // --- drawing ---------------------------------------------------------------------------------------------
  resize() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(this.canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(this.canvas.clientHeight * ratio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.redraw();
    }
  }

  redraw() {
    const { width, height } = this.canvas;
    this.context.clearRect(0, 0, width, height);
    this.replay(this.context, width, height, PAINT_COLOUR);
    if (this.active) this.drawOp(this.context, this.active.op, width, height, PAINT_COLOUR);
  }

  replay(context, width, height, colour) {
    for (const op of this.ops) this.drawOp(context, op, width, height, colour);
  }

  drawOp(context, op, width, height, colour) {
    context.save();
    context.globalCompositeOperation = op.erase ? "destination-out" : "source-over";
    context.fillStyle = colour;
    context.strokeStyle = colour;
    if (op.type === "rect") {
      const x = Math.min(op.x0, op.x1) * width;
      const y = Math.min(op.y0, op.y1) * height;
      context.fillRect(x, y, Math.abs(op.x1 - op.x0) * width, Math.abs(op.y1 - op.y0) * height);
    } else {
      this.drawStroke(context, op.points, op.size * width, width, height);
    }
    context.restore();
  }

  drawStroke(context, points, lineWidth, width, height) {
    if (points.length === 1) {
      const [[x, y]] = points;
      context.beginPath();
      context.arc(x * width, y * height, lineWidth / 2, 0, Math.PI * 2);
      context.fill();
      return;
    }
    context.lineWidth = lineWidth;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(points[0][0] * width, points[0][1] * height);
    for (const [x, y] of points.slice(1)) context.lineTo(x * width, y * height);
    context.stroke();
  }

  // --- pointer events ------------------------------------------------------------------------------------
  point(event) {
    const box = this.canvas.getBoundingClientRect();
    const clamp = (value) => Math.min(1, Math.max(0, value));
    return [clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)];
  }

  onpointerdown(event) {
    if (this.active || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    try {
      this.canvas.setPointerCapture(event.pointerId); // keep the stroke when the pointer leaves the photo
    } catch {
      // Synthetic pointers (scripts, tests) cannot be captured; drawing works without capture.
    }
    const [x, y] = this.point(event);
    const op =
      this.tool === "rect"
        ? { type: "rect", x0: x, y0: y, x1: x, y1: y }
        : {
            type: "stroke",
            erase: this.tool === "eraser",
            size: this.brushPixels / this.canvas.clientWidth,
            points: [[x, y]],
          };
    this.active = { op, pointerId: event.pointerId };
    this.redraw();
  }

  onpointermove(event) {
    this.moveCursor(event);
    if (!this.active || event.pointerId !== this.active.pointerId) return;
    event.preventDefault();
    const { op } = this.active;
    const events = event.getCoalescedEvents?.() || [];
    for (const sample of events.length ? events : [event]) {
      const [x, y] = this.point(sample);
      if (op.type === "rect") Object.assign(op, { x1: x, y1: y });
      else op.points.push([x, y]);
    }
    this.redraw();
  }

  onpointerup(event) {
    if (!this.active || event.pointerId !== this.active.pointerId) return;
    const { op } = this.active;
    this.active = null;
    const degenerateRect = op.type === "rect" && (op.x0 === op.x1 || op.y0 === op.y1);
    if (!degenerateRect) this.ops.push(op);
    this.redraw();
    this.changed();
  }

  onpointercancel(event) {
    // The browser took the gesture over (e.g. a system gesture): keep what was drawn so far.
    this.onpointerup(event);
  }

  onpointerleave(event) {
    if (this.cursor && event.pointerType !== "touch") this.cursor.hidden = true;
  }

  moveCursor(event) {
    if (!this.cursor) return;
    const showRing = event.pointerType !== "touch" && this.tool !== "rect";
    this.cursor.hidden = !showRing;
    if (!showRing) return;
    const box = this.canvas.getBoundingClientRect();
    this.cursor.style.setProperty("--size", `${this.brushPixels}px`);
    this.cursor.style.transform = `translate(${event.clientX - box.left}px, ${event.clientY - box.top}px)`;
  }

  changed() {
    this.dispatchEvent(new Event("change"));
  }
}
