"""The lecture as a report: run every experiment of CS231n lecture 6 and write one HTML page.

``build_report(out="report", quick=False)`` runs, in the lecture's order, backprop through a
neuron, activation functions, dead ReLUs, data preprocessing, weight initialization, batch
normalization, babysitting the learning process, hyperparameter search and monitoring, on
built-in data (a 2-D cloud, random gaussians and scikit-learn's bundled 8x8 digits: nothing is
downloaded). It writes:

    out/index.html         the report: the lecture's claims beside the measured numbers and a
                           verdict, figures as inline PNG, graphs as inline SVG
    out/results.json       every check, number and attached file, for scripts and CI
    out/backprop.html      the backprop animation (embedded in index.html)
    out/search_*.csv|json  the hyperparameter-search tables

The command line is ``tinygrad-lite report [--quick] [--out DIR] [--sections KEY ...]``.

How it is organised::

    registry.py     Check, Section (what a section fills in), SectionSpec and @section
    context.py      Context: quick mode, the digits, figure and graph blocks (unique SVG ids)
    html.py         escaped HTML blocks (viz's escaper), tables, numbers, artefact links
    page.py         index.html around the sections, from page.html and style.css (package data)
    build.py        build_report: runs the sections, writes the page, the files, results.json
    sections/       one module per lecture section, each ``@section(key, title, intro)`` on
                    its ``build(ctx, s)``; sections/__init__.py lists them in order (SECTIONS)

The experiments themselves live in ``tinygrad_lite.experiments`` (numpy only), shared with
``examples/``; a section calls them and lays out their results: ``s.check(claim, measured,
passed)`` records a verdict, ``s.add(block)`` appends HTML (``ctx.figure(fig, caption)``,
``ctx.graph(graph, caption)``, ``html.table(...)``), ``s.numbers`` goes to results.json.

Adding an artefact to a section (an extra page, a table, data): inside the section's build,
where its link should appear, call::

    s.attach("dead_relu_explorer.html", page_text, title="Explore the dead units",
             text="One sentence on what the page shows.", embed=False)

The file is written next to index.html (content: str, bytes, or a function taking the path,
such as ``SearchResult.to_csv``), linked from the section in block order (``embed=True``
also shows an HTML page in a frame, as the backprop animation is), and listed under the
section's "files" in results.json. Artefacts must be self-contained (no network), as the page
is. A new section: a module in ``sections/`` plus one line in SECTIONS.

Importing this package imports neither matplotlib, graphviz nor viz; a run needs the viz
extra (and scikit-learn, the data extra, for the digits). Nothing is kept between runs.
"""
from .build import MissingExtraError, build_report
from .registry import Check, Section, SectionSpec, section
from .sections import SECTIONS

__all__ = ["build_report", "Check", "Section", "SectionSpec", "section", "SECTIONS",
           "MissingExtraError"]
