"""What a section is: its declaration (key, title, function) and what its function fills in.

A section module declares itself once, with the ``section`` decorator::

    @section("dead-relu", "3. Dead ReLUs", intro="A ReLU unit whose input ...")
    def build(ctx: Context, s: Section) -> None:
        ...                                  # run experiments, then s.check / s.add / s.attach

The decorator turns the function into a SectionSpec (key, title, intro, build); the lecture's
order lives in ``sections/__init__.py``. Nothing here imports matplotlib or viz.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import html

if TYPE_CHECKING:
    from .context import Context

__all__ = ["Check", "Artefact", "Section", "SectionSpec", "section", "safe_file_name"]


@dataclass
class Check:
    """One verdict: the lecture's claim, what we measured, and whether it holds."""

    claim: str
    measured: str
    passed: bool

    def to_dict(self) -> dict:
        return {"claim": self.claim, "measured": self.measured, "passed": bool(self.passed)}


#: what an artefact file holds: text, bytes, or a function that writes the file at a path
Content = str | bytes | Callable[[str], Any]


@dataclass
class Artefact:
    """A file written next to index.html for one section (a page, a table, data)."""

    name: str
    content: Content


@dataclass
class Section:
    """One part of the lecture as its function filled it: prose, checks, HTML blocks, files.

    blocks   HTML fragments, in page order (figures, graphs, tables, links to artefacts)
    files    artefacts to write into the output folder (see attach)
    numbers  plain data for results.json
    """

    key: str
    title: str
    intro: str = ""
    checks: list[Check] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    files: list[Artefact] = field(default_factory=list)
    numbers: dict = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    def check(self, claim: str, measured: str, passed) -> None:
        """Record a verdict: the lecture's claim, the measured numbers, whether it holds."""
        self.checks.append(Check(claim, measured, bool(passed)))

    def add(self, block: str) -> None:
        """Append an HTML block (already escaped: build it with report.html)."""
        self.blocks.append(block)

    def attach(self, name: str, content: Content, *, title: str = "", text: str = "",
               embed: bool = False) -> str:
        """Write a file named `name` next to index.html and link it here, in block order.

        content: the file's text or bytes, or a function called with the file's path. With
        a title or text, a block links the file; embed: the page (text or UTF-8 bytes) is
        also shown in a sandboxed frame held inside index.html, so that the page works
        copied alone. Without a title or text, the file is only written (link it yourself).
        The name is made safe first (see safe_file_name); returns the name used.
        """
        name = safe_file_name(name)
        if any(f.name == name for f in self.files):
            raise ValueError(f"Section.attach: {self.key!r} already attaches {name!r}")
        page = None
        if embed:
            if callable(content):
                raise ValueError(f"Section.attach: {name!r} is embedded, so its content must be "
                                 f"the page's text, not a function")
            page = content.decode("utf-8") if isinstance(content, bytes) else content
        self.files.append(Artefact(name, content))
        if title or text or embed:
            self.add(html.artefact_block(name, title, text, page))
        return name


#: characters that no attachment name keeps: those Windows refuses, and % # ? that a URL reads
_UNSAFE = frozenset('<>:"|?*%#')
#: names the report writes itself (compared case-insensitively)
RESERVED = frozenset({"index.html", "results.json"})


def safe_file_name(name: str) -> str:
    """An attachment's name as written: every control, format or separator character (tabs,
    newlines, U+2028, right-to-left marks, zero-width spaces) and every one of <>:"|?*%#
    becomes "_"; the result is NFC-normalised.

    Raises ValueError for a name with a path separator, an empty one, one starting with "."
    (hidden, and the build's own staging folder starts so), or one the report writes itself.
    """
    raw = str(name)
    if "/" in raw or "\\" in raw:
        raise ValueError(f"Section.attach: {raw!r} is not a plain file name of its own")
    safe = "".join("_" if c in _UNSAFE or (unicodedata.category(c)[0] in "CZ" and c != " ")
                   else c for c in unicodedata.normalize("NFC", raw)).strip()
    if not safe or safe.startswith(".") or safe.lower() in RESERVED:
        raise ValueError(f"Section.attach: {raw!r} is not a plain file name of its own")
    return safe


@dataclass(frozen=True)
class SectionSpec:
    """A declared section: key (the HTML anchor and --sections name), title, intro, build."""

    key: str
    title: str
    build: Callable[[Context, Section], None]
    intro: str = ""

    def new(self) -> Section:
        """An empty Section for this spec, for build() to fill."""
        return Section(self.key, self.title, self.intro)


def section(key: str, title: str, intro: str = "") -> Callable[
        [Callable[[Context, Section], None]], SectionSpec]:
    """Declare a section: decorates build(ctx, s) and returns its SectionSpec."""
    def declare(build: Callable[[Context, Section], None]) -> SectionSpec:
        return SectionSpec(key, title, build, intro)
    return declare
