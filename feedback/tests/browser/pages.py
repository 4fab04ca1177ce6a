"""A page object for the shopping page: the few actions and reads the browser tests need."""

from __future__ import annotations

from dataclasses import dataclass, field

SLATE_READY = "[data-slate][aria-busy=false] .slate-card:not(.slate-card--skeleton)"


@dataclass
class ShopPage:
    """Wraps a Playwright page; collects console errors and uncaught exceptions from the moment it is created."""

    page: object
    console_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        self.page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))

    # --- navigation -----------------------------------------------------------------------------------------
    def open(self, product_id: int) -> ShopPage:
        self.page.goto(f"/shop/{product_id}/")
        self.wait_idle()
        return self

    def wait_idle(self) -> None:
        """Wait until no API call is pending and the slate shows products."""
        self.page.wait_for_selector("#shop:not(.is-busy)", state="attached")
        self.page.wait_for_selector(SLATE_READY)

    @property
    def seed_id(self) -> int:
        return int(self.page.get_attribute("#shop", "data-product-id"))

    @property
    def seed_name(self) -> str:
        return self.page.inner_text("[data-seed-name]")

    def slate_ids(self) -> list[int]:
        return [
            int(i)
            for i in self.page.eval_on_selector_all(
                ".slate [data-product-id].slate-card", "cards => cards.map(c => c.dataset.productId)"
            )
        ]

    def chip_count(self) -> int:
        return self.page.locator("[data-chips] .chip").count()

    def status_text(self) -> str:
        return self.page.inner_text("[data-status]")

    # --- painting ---------------------------------------------------------------------------------------------
    def canvas_box(self) -> dict:
        self.page.locator("[data-paint-canvas]").scroll_into_view_if_needed()
        return self.page.locator("[data-paint-canvas]").bounding_box()

    def choose_tool(self, tool: str) -> None:
        self.page.locator(f"input[name=paint-tool][value={tool}]").check(force=True)

    def drag(self, start: tuple[float, float], end: tuple[float, float], steps: int = 10) -> None:
        """Drag the mouse over the photo between two points given as fractions of its width and height."""
        box = self.canvas_box()
        mouse = self.page.mouse
        mouse.move(box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"])
        mouse.down()
        mouse.move(box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"], steps=steps)
        mouse.up()

    def touch_stroke(self, points: list[tuple[float, float]]) -> None:
        """A real one-finger touch stroke (Chrome DevTools touch input, so Pointer Events say pointerType "touch")."""
        box = self.canvas_box()
        cdp = self.page.context.new_cdp_session(self.page)

        def at(point: tuple[float, float]) -> list[dict]:
            return [{"x": box["x"] + point[0] * box["width"], "y": box["y"] + point[1] * box["height"], "id": 1}]

        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": at(points[0])})
        for point in points[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": at(point)})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()

    def long_press(self, selector: str, seconds: float = 0.7) -> None:
        """Hold one finger on the element's centre (real touch input), then lift it."""
        element = self.page.locator(selector).first
        element.scroll_into_view_if_needed()
        box = element.bounding_box()
        point = [{"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2, "id": 2}]
        cdp = self.page.context.new_cdp_session(self.page)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point})
        self.page.wait_for_timeout(seconds * 1000)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()

    def submit(self) -> None:
        """Press "Show me something else" and wait for the answer."""
        self.page.click("[data-submit-feedback]")
        self.wait_idle()
