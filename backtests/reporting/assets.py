"""What the page's scripts need, inlined: the plotly.js bundle (once per page) and our small JS.

plotly.js ships with the ``plotly`` Python package (``plotly/package_data/plotly.min.js``,
about 4.8 MB). Inlined as is it would fill the 5 MB budget on its own, so it is stored
gzip-compressed and base64-encoded (about 2 MB) in a non-executed ``<script>`` element and
unpacked in the browser with the standard ``DecompressionStream`` (Chromium 80+, Firefox 113+,
Safari 16.4+): no network, no external file. Compression is deterministic (``mtime=0``).
"""

from __future__ import annotations

import base64
import functools
import gzip
import re
from importlib import resources
from pathlib import Path


def _plotly_path() -> Path:
    import plotly  # only for the location of its bundled plotly.min.js

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@functools.lru_cache(maxsize=1)
def plotly_bundle() -> tuple[str, str]:
    """``(version, base64 of the gzip-compressed plotly.min.js)``."""
    data = _plotly_path().read_bytes()
    match = re.search(rb"plotly\.js v([0-9][0-9A-Za-z.\-]*)", data[:400])
    version = match.group(1).decode("ascii") if match else "unknown"
    return version, base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode("ascii")


@functools.lru_cache(maxsize=1)
def page_script() -> str:
    """The page's own JS: sortable/filterable tables and drawing the charts."""
    return resources.files("backtests.reporting").joinpath("templates/tearsheet.js").read_text(encoding="utf-8")
