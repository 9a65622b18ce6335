"""What a section is: its declaration (key, title, function) and what its function fills in.

A section module declares itself once, with the ``section`` decorator::

    @section("dead-relu", "3. Dead ReLUs", intro="A ReLU unit whose input ...")
    def build(ctx: Context, s: Section) -> None:
        ...                                  # run experiments, then s.check / s.add / s.attach

The decorator turns the function into a SectionSpec (key, title, intro, build); the lecture's
order lives in ``sections/__init__.py``. Nothing here imports matplotlib or viz.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import html

if TYPE_CHECKING:
    from .context import Context

__all__ = ["Check", "Artefact", "Section", "SectionSpec", "section"]


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
               embed: bool = False) -> None:
        """Write a file named `name` next to index.html and link it here, in block order.

        content: the file's text or bytes, or a function called with the file's path. With
        a title or text, a block links the file (embed: also shows an HTML page in a frame);
        without either, the file is only written (link it yourself from another block).
        """
        if "/" in name or "\\" in name or name in ("", ".", "..", "index.html", "results.json"):
            raise ValueError(f"Section.attach: {name!r} is not a plain file name of its own")
        if any(f.name == name for f in self.files):
            raise ValueError(f"Section.attach: {self.key!r} already attaches {name!r}")
        self.files.append(Artefact(name, content))
        if title or text:
            self.add(html.artefact_block(name, title, text, embed))


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
