"""Open a local HTML file in headless Chromium (Debian's ``chromium``) and report what it drew.

Driven over the Chrome DevTools protocol on ``--remote-debugging-pipe`` (commands on the
child's fd 3, replies and events on fd 4, each a JSON message ended by a NUL byte), so it needs
nothing but the browser and the standard library: no chromedriver package to keep at the
browser's exact version (selenium), no browser build of its own to download (playwright).
``--dump-dom`` / ``--screenshot`` on the command line would not report console errors.

Run as a script to screenshot a report:
``python headless_chromium.py report.html out.png [scale] [max-height] [css-selector-to-start-at]``
(``docs/img/weekly_report.png``: ``0.6 1150 '#forecast'`` on ``make run``'s report).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# What the page counts, once plotly has drawn: every graph div, the ones plotly turned into a
# plot (class js-plotly-plot, an svg.main-svg inside) and the ones with a drawn trace in them
# (bars, scatter points/lines, a heatmap's image).
_CHARTS_JS = """(() => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  const plotted = divs.filter(d => d.classList.contains('js-plotly-plot')
                                   && d.querySelector('svg.main-svg'));
  const drawn = plotted.filter(d => d.querySelector(
      '.cartesianlayer .trace .point path, .cartesianlayer .trace path.js-line,'
      + ' .cartesianlayer .hm image'));
  return JSON.stringify({
    divs: divs.map(d => d.id), plotted: plotted.map(d => d.id), drawn: drawn.map(d => d.id),
    main_svgs: document.querySelectorAll('.plotly-graph-div svg.main-svg').length,
    height: Math.ceil(document.documentElement.scrollHeight)});
})()"""


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageResult:
    divs: list[str]  # every plotly graph div's id, in page order
    plotted: list[str]  # those plotly turned into a plot
    drawn: list[str]  # those with a trace drawn in them
    main_svgs: int
    height: int  # of the page, CSS px
    console_errors: list[str] = field(default_factory=list)  # console.error, uncaught, log errors
    png: bytes | None = None


class _Pipe:
    def __init__(self, binary: str, width: int, user_data_dir: str):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child, before exec: the protocol's fds are 3 and 4
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [
            binary,
            "--headless",
            "--remote-debugging-pipe",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--hide-scrollbars",
            f"--user-data-dir={user_data_dir}",
            f"--window-size={width},900",
        ]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
        self.proc = subprocess.Popen(
            [*args, "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # not close_fds: it would close 3 and 4 after the wiring; Python's own fds are
            # not inheritable, so nothing else leaks into the browser
            close_fds=False,
            preexec_fn=wire,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, method: str, deadline: float) -> dict:
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} event")
            self.events.append(self._read())

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)


def _console_error(event: dict) -> str | None:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        exception = details.get("exception", {})
        return f"uncaught: {exception.get('description') or details.get('text')}"
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
        return f"console.{params['type']}: {text}"
    if method == "Log.entryAdded" and params["entry"]["level"] == "error":
        entry = params["entry"]
        return f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".strip()
    return None


def render_page(
    html: Path,
    *,
    width: int = 1280,
    screenshot: bool = True,
    scale: float = 1.0,
    max_height: int | None = None,
    clip_from: str | None = None,
    timeout_s: float = 90,
) -> PageResult:
    """Load ``html`` (a local file), wait until plotly has drawn every chart (or ``timeout_s``
    has passed), and return the charts drawn, the console errors and a PNG of the page
    (``max_height`` CSS px from the top, or from the element ``clip_from`` selects, if given;
    ``scale`` < 1 shrinks it)."""
    binary = chromium_path()
    if binary is None:
        raise FileNotFoundError("chromium is not installed")
    deadline = time.monotonic() + timeout_s
    with tempfile.TemporaryDirectory(prefix="unitcost-chromium-") as profile:
        pipe = _Pipe(binary, width, profile)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Log"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            pipe.send("Page.navigate", {"url": html.resolve().as_uri()}, session=session)
            pipe.wait_event("Page.loadEventFired", deadline)
            state = _charts(pipe, session)
            # plotly draws synchronously on load here; poll in case a chart is deferred
            while len(state["drawn"]) < len(state["divs"]) and time.monotonic() < deadline:
                time.sleep(0.2)
                state = _charts(pipe, session)
            png = None
            if screenshot:
                top = 0
                if clip_from:
                    found = pipe.send(
                        "Runtime.evaluate",
                        {
                            "expression": f"document.querySelector({json.dumps(clip_from)})"
                            ".getBoundingClientRect().top + window.scrollY",
                            "returnByValue": True,
                        },
                        session=session,
                    )
                    top = int(found["result"]["value"])
                height = state["height"] - top
                height = min(height, max_height) if max_height else height
                pipe.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": width, "height": state["height"], "deviceScaleFactor": 1,
                     "mobile": False},
                    session=session,
                )  # fmt: skip
                shot = pipe.send(
                    "Page.captureScreenshot",
                    {
                        "format": "png",
                        "clip": {"x": 0, "y": top, "width": width, "height": height,
                                 "scale": scale},
                        "captureBeyondViewport": True,
                    },
                    session=session,
                )  # fmt: skip
                png = base64.b64decode(shot["data"])
            errors = [e for e in map(_console_error, pipe.events) if e]
        finally:
            pipe.close()
    return PageResult(**state, console_errors=errors, png=png)


def _charts(pipe: _Pipe, session: str) -> dict:
    result = pipe.send(
        "Runtime.evaluate", {"expression": _CHARTS_JS, "returnByValue": True}, session=session
    )
    return json.loads(result["result"]["value"])


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    scale = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    max_height = int(sys.argv[4]) if len(sys.argv) > 4 else None
    clip_from = sys.argv[5] if len(sys.argv) > 5 else None
    page = render_page(source, scale=scale, max_height=max_height, clip_from=clip_from)
    target.write_bytes(page.png)
    print(
        f"{len(page.drawn)} of {len(page.divs)} charts drawn, "
        f"{len(page.console_errors)} console errors: {page.console_errors}"
    )
