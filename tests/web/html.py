"""Reading pages the way a test needs to: the text of an element by id, every id, every link and resource."""

from __future__ import annotations

from html.parser import HTMLParser

_VOID = {"meta", "link", "br", "img", "input", "hr", "use", "path", "circle"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.texts: dict[str, list[str]] = {}
        self.ids: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("href", "src"):
            if values.get(name) is not None and tag != "use":
                self.urls.append(str(values[name]))
        if tag in _VOID:
            return
        element_id = values.get("id")
        if element_id:
            self.ids.append(element_id)
            self.texts.setdefault(element_id, [])
        self.stack.append((tag, element_id))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("href") is not None and tag != "use":
            self.urls.append(str(values["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self.stack:
            if element_id:
                self.texts[element_id].append(data)


class Page:
    """A parsed page."""

    def __init__(self, html: str) -> None:
        collector = _Collector()
        collector.feed(html)
        self.html = html
        self.ids = collector.ids
        self.urls = collector.urls
        self._texts = collector.texts

    def text(self, element_id: str) -> str:
        """The element's text, whitespace collapsed."""
        assert element_id in self._texts, f"no element #{element_id}; ids: {self.ids}"
        return " ".join("".join(self._texts[element_id]).split())

    def with_prefix(self, prefix: str) -> list[str]:
        return [i for i in self.ids if i.startswith(prefix)]
