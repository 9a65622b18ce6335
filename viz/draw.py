"""Drawing: ``draw_graph`` and the graphviz object it returns, rendered without system Graphviz.

``draw_graph(root, path)`` measures the graph (viz.analysis), builds its DOT text (viz.dot)
and returns a :class:`GradGraph`, a graphviz.Digraph whose rendering (``pipe``, ``render``,
Jupyter's inline SVG) goes through viz.render: the system ``dot`` when present, else
graphviz-pure.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

try:
    import graphviz
except ModuleNotFoundError as e:  # the viz extra is not installed
    if e.name != "graphviz":
        raise
    raise ModuleNotFoundError(
        "viz.draw_graph needs the graphviz package, which comes with the viz extra: from a "
        "clone of the repository, pip install -e \".[viz]\"; from a wheel or PyPI, "
        "pip install \"tinygrad_lite[viz]\"", name="graphviz") from None

from .analysis import analyze
from .dot import EDGE_ATTR, FONT, GRAPH_ATTR, NODE_ATTR, graph_body, legend_label, spine
from .escape import is_blank
from .info import EXPLODING_RATIO, MARK_FRACTION, SATURATION, VANISHING_RATIO, GraphInfo
from .modules import module_classes
from .render import TIMEOUT, RenderTimeoutError, find_dot, format_of, render_source

__all__ = ["GradGraph", "draw_graph", "LR_MAX_DEPTH"]

LR_MAX_DEPTH = 5  # rankdir=None: graphs this deep or less read left to right, deeper top down


class GradGraph(graphviz.Digraph):
    """A graphviz.Digraph of a gradient-flow graph that renders without system Graphviz.

    ``.info`` is the :class:`GraphInfo` (every node's statistics); ``.source`` the DOT text;
    ``.write(path)`` renders by the path's suffix (.svg, .png, .dot); ``.pipe()``,
    ``.render()`` and Jupyter's inline SVG use the system ``dot`` when present, else
    graphviz-pure (see viz.render.find_dot). ``.timeout``: seconds a render may take.
    """

    info: GraphInfo | None = None
    _prefer: str | None = None
    timeout: float = TIMEOUT

    def _render(self, format: str, **options) -> bytes:
        """The rendered bytes; a render past ``timeout`` raises a message on drawing less."""
        engine = options.pop("engine", None)
        if engine is None and self.engine != "dot":  # the graph's own engine attribute
            engine = self.engine
        source = self.source
        if format.lower() in RASTER and "graphviz-pure" in os.path.basename(
                find_dot(self._prefer)):
            # graphviz-pure draws pixels with fonts of its own; its sans is metric-compatible
            # with Helvetica (and it draws a font it lacks, such as DejaVu Sans, as a serif)
            source = source.replace(f'fontname="{FONT}"', 'fontname=Helvetica')
        try:
            data = render_source(source, format, prefer=self._prefer,
                                 timeout=self.timeout, engine=engine, **options)
        except RenderTimeoutError as e:
            raise RenderTimeoutError(self._too_slow(str(e))) from None
        if format.lower() == "svg" and not options.get("renderer"):
            data = tidy_svg(data.decode("utf-8")).encode("utf-8")
        return data

    def _too_slow(self, what: str) -> str:
        info = self.info
        n = len(info.nodes) if info is not None else self.source.count("[id=")
        edges = len(info.edges) if info is not None else None
        size = f"{n:,} nodes" + (f" and {edges:,} edges" if edges is not None else "")
        return (f"draw_graph: rendering {size} took longer than the time limit "
                f"({what}). Draw less: collapse='modules' with model= (one node per module), "
                f"depth=N (only the N hops nearest the output), or a smaller max_nodes= "
                f"(refuse large graphs early); or allow more time with timeout=")

    def pipe(self, format=None, renderer=None, formatter=None, neato_no_op=None,
             quiet=False, *, engine=None, encoding=None):
        """As graphviz's pipe: the rendered bytes (str with ``encoding``), with this renderer.

        renderer, formatter, engine and neato_no_op go to the program as ``-Tformat:renderer
        :formatter``, ``-Kengine`` and ``-n``; quiet is accepted (warnings are dropped anyway).
        """
        data = self._render(format or self.format or "svg", renderer=renderer,
                            formatter=formatter, engine=engine, neato_no_op=neato_no_op)
        return data.decode(encoding) if encoding else data

    def write(self, path: str | os.PathLike) -> str:
        """Render to ``path`` in the format its suffix names (.svg, .png, .dot/.gv)."""
        return _write_bytes(path, self._render(format_of(path)))

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None,
               renderer=None, formatter=None, neato_no_op=None, quiet=False,
               quiet_view=False, *, outfile=None, engine=None, raise_if_result_exists=False,
               overwrite_source=False):
        """As graphviz's render (saves the source, then the output), with this renderer.

        view is not supported here (it would open a viewer); the output path is returned.
        """
        if view:
            raise ValueError("GradGraph.render: view=True is not supported; open the "
                             "returned path yourself")
        options = dict(renderer=renderer, formatter=formatter, engine=engine,
                       neato_no_op=neato_no_op)
        if outfile is not None:
            out = os.path.join(directory, outfile) if directory else str(outfile)
            fmt = format or format_of(out)
        else:
            src = self.save(filename, directory=directory)
            fmt = format or self.format or "svg"
            out = f"{src}.{fmt}"
        if raise_if_result_exists and os.path.exists(out):
            raise FileExistsError(f"GradGraph.render: {out} exists (raise_if_result_exists)")
        result = _write_bytes(out, self._render(fmt, **options))
        if cleanup and outfile is None:
            os.remove(src)
        return result

    def copy(self):
        """A copy that keeps ``info``, the renderer and the time limit."""
        new = super().copy()
        new.info, new._prefer, new.timeout = self.info, self._prefer, self.timeout
        return new


RASTER = ("png", "jpeg", "jpg", "gif", "bmp", "tif", "tiff", "webp")


def tidy_svg(svg: str) -> str:
    """The SVG as a reader should get it.

    * An edge drawn through the node that holds its numbers (viz.dot) becomes one group
      again, ``e_{src}_{dst}_{index}``: both halves and the numbers, as an edge label would be.
    * Node and edge groups lose their ``<title>`` and comments, which hold DOT node names
      (internal ids) that a viewer shows on hover; the tooltips say what each is.
    * The font names a sans-serif fallback, for viewers without DejaVu Sans (narrower, so the
      text still fits the boxes measured for DejaVu Sans).
    """
    top = svg.find("<svg")
    svg = svg[:top] + re.sub(r"<!--.*?-->\n?", "", svg[top:], flags=re.S)  # DOT names
    svg = re.sub(r'(<g id="[^"]*" class="(?:node|edge|cluster)[^"]*">)\s*<title>.*?</title>',
                 r"\1", svg, flags=re.S)
    for eid in re.findall(r'<g id="(e_[^"]*?)_tail" class="edge', svg):
        tail = svg.find(f'<g id="{eid}_tail" class="edge')
        label = svg.find(f'<g id="{eid}_numbers" class="node')
        if label < 0 or f'<g id="{eid}" class="edge' not in svg:
            continue
        parts = {}
        for start in sorted((tail, label), reverse=True):  # cut the later one first
            end = _group_end(svg, start)
            parts[start] = svg[svg.index(">", start) + 1:end - len("</g>")].strip()
            svg = svg[:start] + svg[end:].lstrip("\n")
        main = svg.index(f'<g id="{eid}" class="edge')
        head = svg.index(">", main) + 1  # the halves, then the numbers on top
        svg = svg[:head] + "\n" + parts[tail] + "\n" + parts[label] + svg[head:]
    return svg.replace(f'font-family="{FONT}"', f'font-family="{FONT},Verdana,sans-serif"')


def _group_end(svg: str, start: int) -> int:
    """The index just past the ``</g>`` that closes the ``<g`` at ``start``."""
    depth = 0
    for m in re.compile(r"<g[\s>]|</g>").finditer(svg, start):
        depth += 1 if m.group().startswith("<g") else -1
        if depth == 0:
            return m.end()
    raise ValueError("tidy_svg: a group that never closes")


def _write_bytes(path: str | os.PathLike, data: bytes) -> str:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return str(out)


def draw_graph(root, path=None, params=None, *, model=None, max_nodes=500, depth=None,
               collapse=None, saturation=SATURATION, mark_fraction=MARK_FRACTION,
               vanishing=VANISHING_RATIO, exploding=EXPLODING_RATIO, legend=True, title=None,
               rankdir=None, digits=4, renderer=None, timeout=TIMEOUT) -> GradGraph:
    """Draw the graph behind ``root`` with values, gradients, and unhealthy units marked.

    Returns a GradGraph (a graphviz.Digraph; ``.info`` holds every statistic); writes SVG,
    PNG or DOT to ``path`` by its suffix. Call it after ``root.backward()`` to see gradients
    (before, it shows the forward pass only).

    * params: dict name -> Value, or a Module (``named_parameters()``): names parameter leaves.
    * model: a Module (clusters by parameter: a node joins the module of its nearest parameter
      ancestor) or the trace from ``with viz.trace_modules(model) as trace:`` (exact clusters).
    * max_nodes: refuse a larger graph with a message saying how to collapse it;
      collapse="modules" draws one node per module; depth=N only the N hops nearest the
      output (the rest becomes one "more" node).
    * saturation: |f'| below which a sigmoid/tanh/ELU activation counts as saturated;
      mark_fraction: the dead or saturated fraction from which a node is marked;
      vanishing / exploding: gradient RMS relative to the reference near the output.
    * rankdir: "LR" (left to right, as the lecture's slides draw a neuron), "TB" (top to
      bottom: a network's layers stack down the page, so it fits a notebook's width), or
      None: "LR" for graphs at most 5 nodes deep, "TB" for deeper ones.
    * legend, title, digits (significant digits of one-element numbers), renderer (None,
      "system" or "graphviz-pure"), timeout (seconds a render may take before a
      RenderTimeoutError that says how to draw less).
    """
    info = analyze(root, params, model=model, depth=depth, collapse=collapse,
                   max_nodes=max_nodes, saturation=saturation, mark_fraction=mark_fraction,
                   vanishing=vanishing, exploding=exploding)
    classes = module_classes(model) if model is not None else {}
    if rankdir is None:
        rankdir = "LR" if len(spine(info)) <= LR_MAX_DEPTH else "TB"
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'TB', 'RL', 'BT' or None, "
                         f"not {rankdir!r}")
    lines = graph_body(info, classes, legend=legend, digits=digits, rankdir=rankdir)
    g = GradGraph(name="gradient_flow", format="svg",
                  graph_attr={"rankdir": rankdir, **GRAPH_ATTR}, node_attr=NODE_ATTR,
                  edge_attr=EDGE_ATTR, body=lines)
    if legend or not is_blank(title):  # the graph's label: bottom right, apart from the layout
        g.body.insert(0, f"\tlabel={legend_label(info.settings, title, legend, info.nodes)}\n")
        g.body.insert(1, "\tlabelloc=b labeljust=r\n")
    g.info, g._prefer, g.timeout = info, renderer, timeout
    if path is not None:
        g.write(path)
    return g

