"""The report as a reader sees it: rendered by headless Chromium (Debian's ``chromium``).

The fixture week's report (tests/fixtures/report/warehouse.sql) is opened from disk with no
network; every plotly chart must be drawn (a plot, with a trace in it) and the console must
show no error (uncaught exception, console.error, failed load). The PNG of the page is kept at
``var/test/weekly_report.png`` to look at. Skipped, saying so, where chromium is not installed
(`.ci/run` installs it in CI).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from headless_chromium import chromium_path, render_page

from pipelines.report.render import write_report

SCREENSHOT = Path(__file__).parents[3] / "var" / "test" / "weekly_report.png"
# by hand from the fixture: fleet daily cost, savings, forecast (chat-8b), busy heatmap;
# a waterfall for big-70b, chat-8b and spare-8b; modelled vs actual for the two with traffic
CHARTS = [
    "chart-daily_cost",
    "chart-waterfall-big-70b",
    "chart-modelled-vs-actual-big-70b",
    "chart-waterfall-chat-8b",
    "chart-modelled-vs-actual-chat-8b",
    "chart-waterfall-spare-8b",
    "chart-forecast",
    "chart-busy_heatmap",
    "chart-savings",
]


@pytest.fixture(scope="module")
def page(tables, tmp_path_factory):
    if chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install chromium): report not rendered")
    files = write_report(tables, tmp_path_factory.mktemp("browser"))
    return render_page(files.html)


def test_every_chart_is_drawn_with_no_console_error(page):
    assert page.console_errors == []
    assert page.divs == CHARTS
    assert page.plotted == CHARTS  # plotly built each one (svg.main-svg inside)
    assert page.drawn == CHARTS  # and drew its bars, lines or heatmap in it
    assert page.main_svgs >= len(CHARTS)


def test_the_page_is_saved_as_a_png(page):
    assert page.png[:8] == b"\x89PNG\r\n\x1a\n"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.write_bytes(page.png)
    width = int.from_bytes(page.png[16:20], "big")
    height = int.from_bytes(page.png[20:24], "big")
    assert width == 1280 and height == page.height > 2000  # the whole page, not the viewport
    print(f"screenshot: {SCREENSHOT} ({width} x {height})")


def test_the_check_sees_a_broken_page(tmp_path, tables):
    """The harness itself: a chart whose script fails (plotly.js missing) is neither plotted
    nor drawn, and the errors reach the list the test above asserts empty."""
    if chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!DOCTYPE html><html><body><div id="c" class="plotly-graph-div"></div>'
        '<script>Plotly.newPlot("c", [{"type": "bar", "y": [1]}]);</script>'
        '<script>console.error("also this")</script></body></html>',
        encoding="utf-8",
    )
    result = render_page(broken, screenshot=False, timeout_s=20)
    assert (result.divs, result.plotted, result.drawn) == (["c"], [], [])
    assert len(result.console_errors) == 2
    assert "Plotly is not defined" in result.console_errors[0]
    assert result.console_errors[1] == "console.error: also this"
