"""Read numbers back out of a rendered tearsheet (cells carry ``data-key`` / ``data-value``)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass
class ValueCell:
    tag: str
    key: str
    side: str
    value: str
    source: str = ""
    text: str = ""


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[ValueCell] = []
        self.open: list[ValueCell | None] = []
        self.images: list[str] = []
        self.srcs: list[str] = []
        self.hrefs: list[str] = []
        self.tags: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.images.append(a.get("src", ""))
            return
        if "src" in a:
            self.srcs.append(a["src"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if tag in ("meta", "link", "br", "hr", "input"):
            return
        cell = ValueCell(tag=tag, key=a["data-key"], side=a.get("data-side", ""), value=a.get("data-value", ""),
                         source=a.get("data-source", "")) \
            if "data-key" in a else None
        self.open.append(cell)
        if cell is not None:
            self.cells.append(cell)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("img", "meta", "link", "br", "hr", "input"):
            return
        if self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        for cell in self.open:
            if cell is not None:
                cell.text += data


def parse_tearsheet(html: str) -> _Cells:
    """Cells with ``data-key`` (their key, side, exact value and visible text), image sources,
    other ``src``/``href`` attributes, tag names and element ids."""
    parser = _Cells()
    parser.feed(html)
    parser.close()
    for cell in parser.cells:
        cell.text = " ".join(cell.text.split())
    return parser
