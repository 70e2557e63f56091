"""The plotly.js the report inlines: plotly's cartesian partial bundle, not the full one.

The full bundle (``plotly.offline.get_plotlyjs()``, 4.8 MB) has every trace type; the report
draws bar, scatter and heatmap traces only (``CHART_TRACES``), all in the cartesian bundle
(1.5 MB): the HTML file is a third of the size, small enough to mail. The file is vendored
(``vendor/README.md``: where it comes from, how to update it) and must match the plotly.js
version of the installed ``plotly`` package, which writes the figures' JSON.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

VENDOR = Path(__file__).parent / "vendor"
BUNDLE = VENDOR / "plotly-cartesian-4.1.1.min.js"
# Trace types in the cartesian bundle (its package README): what a report chart may use.
BUNDLE_TRACES = frozenset(
    {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour",
     "image", "pie", "scatter", "scatterternary", "violin"}
)  # fmt: skip
_VERSION = re.compile(r"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+)")


def version_of(js: str) -> str:
    """The version in a plotly.js bundle's header comment ("plotly.js v4.1.1")."""
    match = _VERSION.search(js[:500])
    if match is None:
        raise ValueError("no plotly.js version in the bundle's header")
    return match.group(1)


@cache
def plotly_js() -> str:
    """The bundle's text, to inline in a <script>."""
    return BUNDLE.read_text(encoding="utf-8")
