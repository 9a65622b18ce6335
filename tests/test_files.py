"""Safe files: models as .npz without pickle, a CIFAR loader that refuses code, and drawings
that escape every user-supplied string (labels, parameter names, titles) in DOT, SVG, HTML."""
import html.parser
import os
import pickle
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest

from tinygrad_lite import Value, nn
from tinygrad_lite.data import UnsafePickleError, load_cifar10

CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


class _Payload:
    """Unpickling this object runs code that writes a marker file: the attack to refuse."""

    def __init__(self, marker, how="exec"):
        self.marker, self.how = str(marker), how

    def __reduce__(self):
        if self.how == "exec":
            return exec, (f"open({self.marker!r}, 'w').write('pwned')",)
        if self.how == "system":
            return os.system, (f"touch {self.marker}",)
        return subprocess.call, (["touch", self.marker],)


def _model():
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Linear(3, 4, rng=rng), nn.BatchNorm1d(4), nn.ReLU(),
                         nn.Linear(4, 2, rng=rng))


# -- models as .npz, never pickled ------------------------------------------------------------
def test_save_writes_plain_arrays_and_load_round_trips(tmp_path):
    model = _model()
    model(Value(np.random.default_rng(1).standard_normal((5, 3))))  # move the BN buffers
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as f:  # readable without pickle
        stored = {k: f[k] for k in f.files}
        assert all(a.dtype.kind == "f" for a in stored.values())
    with zipfile.ZipFile(path) as z:
        assert all(name.endswith(".npy") for name in z.namelist())
    assert set(stored) == set(model.state_dict())
    other = _model()
    for p in other.parameters():
        p.data = p.data * 0 + 7.0
    other.load(path)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[k], v)
    model.eval(), other.eval()
    x = Value(np.ones((2, 3)))
    np.testing.assert_array_equal(model(x).data, other(x).data)


def test_save_keeps_float32(tmp_path):
    model = nn.Linear(3, 2).to(np.float32)
    model.save(tmp_path / "m.npz")
    fresh = nn.Linear(3, 2).to(np.float32)
    fresh.load(tmp_path / "m.npz")
    assert fresh.weight.dtype == np.float32
    np.testing.assert_array_equal(fresh.weight.data, model.weight.data)


@pytest.mark.parametrize("kind", ["object array", "pickle named .npz", "pickle in zip"])
def test_load_refuses_pickled_data_without_running_it(tmp_path, kind):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.npz"
    if kind == "object array":
        np.savez(path, weight=np.array([_Payload(marker)], dtype=object), bias=np.zeros(2))
    elif kind == "pickle named .npz":
        path.write_bytes(pickle.dumps(_Payload(marker)))
    else:  # a member that is a pickle rather than .npy data
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("weight.npy", pickle.dumps(_Payload(marker)))
            z.writestr("bias.npy", pickle.dumps(_Payload(marker)))
    model = nn.Linear(2, 2)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"^load: .*evil\.npz.*(pickle|not a \.npy array)"):
        model.load(path)
    assert not marker.exists()
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_refuses_a_single_npy(tmp_path):
    np.save(tmp_path / "w.npy", np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"^load: .*w\.npy holds a single \.npy array"):
        nn.Linear(2, 2).load(tmp_path / "w.npy")


# -- the CIFAR loader's restricted unpickler --------------------------------------------------
def _cifar_folder(tmp_path, evil_name=None, evil=None, protocol=2):
    folder = tmp_path / "cifar"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for name in CIFAR_FILES:
        batch = {b"data": rng.integers(0, 256, size=(3, 3072), dtype=np.uint8),
                 b"labels": [0, 5, 9]}
        if name == evil_name:
            batch = evil(batch)
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    return folder


def test_cifar_loads_a_clean_folder(tmp_path):
    X, y, Xt, yt = load_cifar10(_cifar_folder(tmp_path))
    assert X.shape == (15, 3, 32, 32) and X.dtype == np.float32 and y.dtype == np.int64
    assert Xt.shape == (3, 3, 32, 32)


ATTACKS = {
    "whole file exec": lambda m: (lambda batch: _Payload(m, "exec")),
    "os.system in labels": lambda m: (lambda batch: {**batch, b"labels": _Payload(m, "system")}),
    "subprocess in data": lambda m: (lambda batch: {**batch, b"data": [_Payload(m, "call")]}),
    "exec in a new key": lambda m: (lambda batch: {**batch, b"extra": _Payload(m, "exec")}),
}


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_cifar_refuses_a_pickle_that_would_run_code(tmp_path, attack, protocol):
    marker = tmp_path / "PWNED"
    folder = _cifar_folder(tmp_path, "data_batch_2", ATTACKS[attack](marker), protocol)
    with pytest.raises(UnsafePickleError,
                       match=r"^load_cifar10: .*data_batch_2 refers to the global \S+, which "
                             r"is not allowed"):
        load_cifar10(folder)
    assert not marker.exists()
    assert isinstance(UnsafePickleError("x"), pickle.UnpicklingError)


def test_cifar_refuses_codecs_other_than_latin1(tmp_path):
    folder = _cifar_folder(tmp_path)
    # protocol 0 text: _codecs.encode("x", "rot13"), a call the unpickler must not make
    payload = b"c_codecs\nencode\n(Vx\nVrot13\ntR."
    (folder / "test_batch").write_bytes(payload)
    with pytest.raises(UnsafePickleError, match=r"^load_cifar10: .*only latin-1"):
        load_cifar10(folder)


# -- viz escapes user strings -----------------------------------------------------------------
@pytest.fixture
def viz():
    """The viz package; its tests skip (the rest of this file still runs) without the extra."""
    pytest.importorskip("graphviz", reason="the graphviz Python package (viz extra) is missing")
    return pytest.importorskip("viz", reason="the viz package is not importable")

EVIL_LABEL = '<script>alert(1)</script>"]; injected [label="x'
EVIL_INPUT = '} digraph g { a -> b } \\G \\N {x|y} & &amp; <b>bold</b>'
EVIL_OUT = "out'\"<img src=x onerror=alert(2)>"
EVIL_PARAM = "w</title><script>alert(3)</script>"
EVIL_TITLE = "<script>alert(4)</script>"


def _evil_graph():
    W = Value(np.ones((2, 2)) * 0.5, label=EVIL_LABEL)
    x = Value(np.ones((1, 2)), label=EVIL_INPUT)
    y = (x @ W).tanh().sum()
    y.label = EVIL_OUT
    y.backward()
    return y, W


def _renderers():
    names = ["graphviz-pure"]
    if shutil.which("dot"):
        names.append("system")
    return names


def _svg_checks(svg_text, n_nodes):
    root = ET.fromstring(svg_text)  # well-formed XML, whatever the labels held
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1].lower()
        assert tag not in ("script", "foreignobject", "iframe", "img"), f"<{tag}> injected"
        for attr, value in el.attrib.items():
            name = attr.rsplit("}", 1)[-1].lower()
            assert not name.startswith("on"), f"event handler {name}={value!r} injected"
            assert not str(value).strip().lower().startswith("javascript:")
    groups = [el for el in root.iter()
              if el.tag.endswith("g") and "node" in el.attrib.get("class", "").split()]
    titles = ["".join(t.itertext()) for g in groups for t in g if t.tag.endswith("title")]
    assert len(groups) == n_nodes, f"{len(groups)} nodes drawn, {n_nodes} expected: {titles}"
    assert not any("injected" in t for t in titles)
    return " ".join("".join(el.itertext()) for el in root.iter() if el.tag.endswith("text"))


@pytest.mark.parametrize("renderer", _renderers())
def test_svg_escapes_labels_names_and_title(tmp_path, renderer, viz):
    y, W = _evil_graph()
    path = tmp_path / "g.svg"
    g = viz.draw_graph(y, path, params={EVIL_PARAM: W}, title=EVIL_TITLE, renderer=renderer)
    svg = path.read_text(encoding="utf-8")
    for raw in ("<script", "<img", "</title><script"):
        assert raw not in svg
    n_nodes = len(re.findall(r"^\s*n\d+ \[", g.source, re.M))
    assert n_nodes >= 5
    text = _svg_checks(svg, n_nodes)
    # the strings are shown literally, not lost and not interpreted
    assert "<script>alert(1)</script>" in text or "<script>alert(3)</script>" in text
    assert "<script>alert(4)</script>" in text
    assert "{x|y}" in text and "\\G" in text


def _dot_parts(src):
    """Split DOT text into (bare text, quoted strings, HTML strings), honouring escapes in
    quoted strings and nesting in HTML strings."""
    bare, quoted, htmls = [], [], []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            quoted.append(src[i + 1:j])
            i = j + 1
        elif c == "<":
            depth, j = 1, i + 1
            while depth:
                depth += {"<": 1, ">": -1}.get(src[j], 0)
                j += 1
            htmls.append(src[i + 1:j - 1])
            i = j
        else:
            bare.append(c)
            i += 1
    return "".join(bare), quoted, htmls


def test_dot_source_keeps_user_strings_inside_labels(viz):
    y, W = _evil_graph()
    g = viz.draw_graph(y, params={EVIL_PARAM: W}, title=EVIL_TITLE)
    bare, quoted, htmls = _dot_parts(g.source)
    # nothing a user wrote reaches the DOT syntax itself: no statement, brace or edge
    for piece in ("injected", "alert", "digraph g {", "a -> b", "bold"):
        assert piece not in bare
    assert bare.count("{") == bare.count("}") == 1  # the graph's own braces only
    # HTML labels: markup from users is entity-encoded; escapes such as \G are doubled
    assert any("&lt;script&gt;alert(4)" in h for h in htmls)
    for h in htmls:
        assert "<script" not in h.lower() and "<img" not in h.lower()
        assert not re.search(r"\\[A-Za-z]", h.replace("\\\\", "")), h
    # quoted strings (tooltips, ids): \G, \N, \L ... never reach Graphviz unescaped
    for q in quoted:
        assert not re.search(r"\\[GNETHL]", q.replace("\\\\", "")), q
    if shutil.which("dot"):  # the DOT text parses, with exactly the nodes viz wrote
        out = subprocess.run(["dot", "-Tcanon"], input=g.source, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        ids = set(re.findall(r"^\s*(n\d+)\s*\[", g.source, re.M))
        assert ids and ids == set(re.findall(r"^\s*(n\d+)\s*\[", out.stdout, re.M))


class _Tags(html.parser.HTMLParser):
    """Every start tag of a page and the names of its attributes."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.attrs = [], set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.update(name for name, _ in attrs)


def test_html_animation_escapes_user_strings(tmp_path, viz):
    benign_y = (Value(np.ones((1, 2)), label="x") @ Value(np.ones((2, 2)) * 0.5, label="W"))
    benign = viz.animate_backward(benign_y.tanh().sum(), title="plain")
    y, W = _evil_graph()
    page = viz.animate_backward(y, tmp_path / "a.html", params={EVIL_PARAM: W},
                                title=EVIL_TITLE)
    assert page == (tmp_path / "a.html").read_text(encoding="utf-8")
    for raw in ("<script>alert", "<img", "</title><script"):
        assert raw not in page
    assert page.count("<script") == benign.count("<script")
    assert page.count("</script>") == benign.count("</script>")
    tags, benign_tags = _Tags(page), _Tags(benign)
    assert "img" not in tags.tags
    assert tags.tags.count("script") == benign_tags.tags.count("script")
    assert {a for a in tags.attrs if a.startswith("on")} <= benign_tags.attrs
    assert "alert(4)" in page and "alert(3)" in page  # shown, as text (W is named by params)
