"""The page around the sections: page.html (the skeleton) and style.css, both package data."""
from __future__ import annotations

import platform
from importlib import resources
from string import Template

import numpy as np

from .html import checks_table, esc, pre
from .registry import Section

__all__ = ["render_page", "render_section"]


def _data(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def render_section(s: Section) -> str:
    """One <section>: title, intro, verdicts, blocks, the error if it raised, its time."""
    parts = [f'<section id="{esc(s.key)}"><h2>{esc(s.title)}</h2>',
             f'<p class="intro">{esc(s.intro)}</p>']
    if s.checks:
        parts.append("<h3>Verdicts</h3>" + checks_table(s.checks))
    parts.extend(s.blocks)
    if s.error:
        parts.append(f'<div class="error"><b>This section failed:</b>{pre(s.error)}</div>')
    parts.append(f'<p class="time">{s.seconds:.1f} s</p></section>')
    return "\n".join(parts)


def render_page(sections: list[Section], quick: bool, seconds: float) -> str:
    """index.html: the summary table, then every section."""
    from .. import __version__

    n_checks = sum(len(s.checks) for s in sections)
    n_pass = sum(c.passed for s in sections for c in s.checks)
    n_err = sum(bool(s.error) for s in sections)
    summary = "".join(
        f'<tr><td><a href="#{esc(s.key)}">{esc(s.title)}</a></td>'
        f'<td>{"error" if s.error else f"{sum(c.passed for c in s.checks)}/{len(s.checks)}"}'
        f"</td><td>{s.seconds:.1f} s</td></tr>" for s in sections)
    return Template(_data("page.html")).substitute(
        css=_data("style.css"), version=esc(__version__), numpy=esc(np.__version__),
        python=esc(platform.python_version()),
        mode="quick mode (smaller experiments)" if quick else "full mode",
        seconds=f"{seconds:.0f}", verdict="pass" if n_pass == n_checks and not n_err else "fail",
        n_pass=n_pass, n_checks=n_checks,
        failed_sections=f', <span class="fail">{n_err} sections failed</span>' if n_err else "",
        summary=summary, body="".join(render_section(s) for s in sections))
