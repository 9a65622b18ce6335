"""Module.save and Module.load with faults and hostile files: nothing is half-written, and a
file that cannot be trusted is refused with a ValueError naming it, before anything is
inflated or changed."""
import io
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from tinygrad_lite import Value, nn


def _model(seed=0):
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    rng = np.random.default_rng(seed)
    for p in m.parameters():
        p.data = rng.standard_normal(p.shape)
    return m


def _same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


def _leftovers(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(".part"))


# -- suffixes ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["noext", "model.npz", "model.ckpt", "dotted.v1"])
def test_save_and_load_agree_on_the_name(tmp_path, name):
    m = _model(1)
    written = m.save(tmp_path / name)
    assert written == str(tmp_path / name) + ("" if name.endswith(".npz") else ".npz")
    assert os.listdir(tmp_path) == [os.path.basename(written)]
    for given in (tmp_path / name, str(tmp_path / name), written):
        fresh = _model(2)
        fresh.load(given)
        assert _same(fresh, m)


def test_load_of_a_missing_file_names_both_names(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope'.*nope\.npz"):
        _model().load(tmp_path / "nope")


# -- atomic writes -------------------------------------------------------------------------


def test_an_exception_while_the_third_array_is_written_keeps_the_old_file(tmp_path,
                                                                          monkeypatch):
    path = tmp_path / "model.npz"
    old = _model(1)
    old.save(path)
    before = path.read_bytes()
    real = np.lib.format.write_array
    calls = []

    def failing(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            fp.write(b"\0" * 10)  # part of it reaches the file, then the write fails
            raise OSError("disk full")
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(OSError, match="disk full"):
        _model(2).save(path)
    monkeypatch.undo()
    assert len(calls) == 3
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []
    fresh = _model(3)
    fresh.load(path)
    assert _same(fresh, old)


_KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from tinygrad_lite import nn

    path = sys.argv[1]
    model = nn.Sequential(nn.Linear(300, 400), nn.Linear(400, 300), nn.Linear(300, 10))
    model.save(path)                       # the good checkpoint
    real = np.lib.format.write_array
    count = [0]

    def killed(fp, array, *args, **kwargs):
        count[0] += 1
        if count[0] == 3:                  # the second save, part-way through
            fp.write(array.tobytes()[:1000])
            fp.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return real(fp, array, *args, **kwargs)

    np.lib.format.write_array = killed
    for p in model.parameters():
        p.data = p.data + 1.0
    model.save(path)
    print("not killed")
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_a_writer_killed_part_way_leaves_the_old_file(tmp_path):
    path = tmp_path / "big.npz"
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "not killed" not in proc.stdout
    m = nn.Sequential(nn.Linear(300, 400), nn.Linear(400, 300), nn.Linear(300, 10))
    m.load(path)  # the first checkpoint, whole: every weight as first written
    first = np.load(path)
    assert sorted(first.files) == sorted(m.state_dict())
    # what the killed save had written sits in a temporary file, never under the name
    assert all(n.startswith(".big.npz.") for n in _leftovers(tmp_path))


# -- load_state_dict marks the change ------------------------------------------------------


def test_load_state_dict_between_forward_and_backward_raises(tmp_path):
    m = _model(1)
    x = Value(np.random.default_rng(0).standard_normal((5, 3)))
    loss = m(x).tanh().sum()
    w0 = m[0].weight.data  # the array the matmul saved for backward
    saved = w0.copy()
    m.load_state_dict(_model(2).state_dict())
    assert np.array_equal(w0, saved)  # not written into: the old array is left alone
    with pytest.raises(RuntimeError, match="changed after the op saved it"):
        loss.backward()


def test_load_between_forward_and_backward_raises(tmp_path):
    _model(2).save(tmp_path / "other")
    m = _model(1)
    loss = m(Value(np.ones((5, 3)))).sum()
    m.load(tmp_path / "other")
    with pytest.raises(RuntimeError, match="changed after the op saved it"):
        loss.backward()


def test_load_state_dict_keeps_dtypes_and_scalars():
    class Scalar(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Value(0.5)
            self.w = Value(np.zeros(3, dtype=np.float32))

    m = Scalar()
    m.load_state_dict({"a": np.array(2.0), "w": np.arange(3.0)})
    assert m.a.item() == 2.0 and m.a.shape == ()
    assert m.w.dtype == np.float32 and np.array_equal(m.w.data, [0.0, 1.0, 2.0])


# -- refusing what cannot be trusted -----------------------------------------------------


def _npy(array=None, header=None, data=b""):
    """The bytes of a .npy member: a real array's, or a hand-written header and data."""
    f = io.BytesIO()
    if array is not None:
        np.lib.format.write_array(f, array, allow_pickle=True)
        return f.getvalue()
    np.lib.format.write_array_header_1_0(f, header)
    return f.getvalue() + data


def _zip(path, members):
    """An archive of (name, bytes) members, written by zipfile (deflated)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)


def _good_members(m):
    return [(k + ".npy", _npy(v)) for k, v in m.state_dict().items()]


def _hdr(shape, descr="<f8"):
    return {"descr": descr, "fortran_order": False, "shape": shape}


def _expect_refusal(m, path, match):
    before = m.state_dict()
    with pytest.raises(ValueError, match=match) as err:
        m.load(path)
    assert str(path) in str(err.value)
    after = m.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # nothing changed


def test_refuses_empty_truncated_and_corrupted_files(tmp_path):
    m = _model(1)
    good = m.save(tmp_path / "good")
    data = open(good, "rb").read()
    (tmp_path / "empty.npz").write_bytes(b"")
    _expect_refusal(m, tmp_path / "empty.npz", "is empty")
    for cut in (1, 10, 100, len(data) // 2, len(data) - 30, len(data) - 1):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(data[:cut])
        _expect_refusal(m, path, "truncated or corrupted|not an .npz")
    # flip a byte inside each member's data: the CRC (or the deflate stream) disagrees
    with zipfile.ZipFile(good) as zf:
        offsets = [i.header_offset + 30 + len(i.filename) + i.compress_size // 2
                   for i in zf.infolist()]
    for off in offsets:
        bad = bytearray(data)
        bad[off] ^= 0x5A
        path = tmp_path / f"flip{off}.npz"
        path.write_bytes(bytes(bad))
        _expect_refusal(m, path, "truncated or corrupted|not a .npy array|declares")


def test_refuses_pickles_single_arrays_text_and_folders(tmp_path):
    m = _model(1)
    (tmp_path / "p.npz").write_bytes(pickle.dumps(m.state_dict()))
    _expect_refusal(m, tmp_path / "p.npz", "pickled data")
    np.save(tmp_path / "one.npy", np.zeros(3))
    _expect_refusal(m, tmp_path / "one.npy", "single .npy array")
    (tmp_path / "t.npz").write_text("hello")
    _expect_refusal(m, tmp_path / "t.npz", "not an .npz file")
    (tmp_path / "d.npz").mkdir()
    _expect_refusal(m, tmp_path / "d.npz", "is a folder")


@pytest.mark.parametrize("change, match", [
    (lambda ms: [(ms[0][0], _npy(np.zeros((2, 2))))] + ms[1:], r"expected shape \(3, 4\)"),
    (lambda ms: [(ms[0][0], _npy(header=_hdr((-8, 3072)), data=b"\0" * 64))] + ms[1:],
     "not a .npy array|is not a shape|expected shape"),
    (lambda ms: [(ms[0][0], _npy(header=_hdr((2**62, 2**62)), data=b"\0" * 64))] + ms[1:],
     "expected shape"),
    (lambda ms: [(ms[0][0], _npy(header=_hdr((3, 4)), data=b"\0" * 8))] + ms[1:],
     "declares .* bytes"),  # a short member: its declared size is not its shape's
    (lambda ms: [(ms[0][0], _npy(np.array([[None] * 4] * 3, dtype=object)))] + ms[1:],
     "dtype object: pickled objects"),
    (lambda ms: [(ms[0][0], _npy(np.zeros((3, 4), dtype=complex)))] + ms[1:],
     "dtype complex128"),
    (lambda ms: ms + [("notes.txt", b"hi")], r"notes\.txt \(not a \.npy array"),
    (lambda ms: ms + [("extra.npy", _npy(np.zeros(2)))], "unexpected: extra"),
    (lambda ms: ms[1:], "missing: 0.weight"),
    (lambda ms: [(ms[0][0], b"garbage, not npy")] + ms[1:], "not a .npy array"),
], ids=["wrong_shape", "negative_shape", "overflowing_shape", "short_member", "object",
        "complex", "not_npy", "unexpected", "missing", "garbage_member"])
def test_refuses_members_that_do_not_match(tmp_path, change, match):
    m = _model(1)
    path = tmp_path / "crafted.npz"
    _zip(path, change(_good_members(_model(2))))
    _expect_refusal(m, path, match)


def test_non_strict_load_skips_unexpected_members_unread(tmp_path):
    m = _model(1)
    path = tmp_path / "extra.npz"
    _zip(path, _good_members(_model(2)) + [("extra.npy", b"not even an npy")])
    result = m.load(path, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert _same(m, _model(2))


# -- a small file that declares a huge member ------------------------------------------------

_BLOCK = 1 << 24  # 16 MiB of zeros per deflate block
_BLOCKS = 48  # 768 MiB in all


def _deflated_zeros(header):
    """A raw deflate stream of header + 768 MiB of zeros (about 760 KiB compressed), built
    from one compressed block repeated, and the member's CRC."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(_BLOCK)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)  # the same bytes every time
    crc = zlib.crc32(header)
    for _ in range(_BLOCKS):
        crc = zlib.crc32(zeros, crc)
    return head + block * _BLOCKS + c.flush(), crc, len(header) + _BLOCK * _BLOCKS


def _raw_zip(path, members):
    """Write a zip whose members are (name, raw deflate bytes, crc, uncompressed size)."""
    with open(path, "wb") as f:
        central = []
        for name, raw, crc, size in members:
            offset = f.tell()
            fields = (20, 0, 8, 0, 0, crc, len(raw), size, len(name), 0)
            f.write(b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", *fields) + name.encode())
            f.write(raw)
            central.append(b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", 20, 20, 0, 8, 0,
                                                      0, crc, len(raw), size, len(name), 0,
                                                      0, 0, 0, 0, offset) + name.encode())
        start = f.tell()
        for entry in central:
            f.write(entry)
        f.write(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(central), len(central),
                                            f.tell() - start, start, 0))


def _small(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), zlib.crc32(data), len(data)


@pytest.fixture(scope="module")
def huge_member():
    header = _npy(header=_hdr((_BLOCK * _BLOCKS // 8,)))
    return _deflated_zeros(header)


@pytest.mark.parametrize("where", ["unexpected", "in_place_of_a_weight"])
def test_a_small_npz_declaring_a_huge_member_is_refused_before_inflating(tmp_path,
                                                                         huge_member, where):
    m = _model(1)
    members = [(k + ".npy", *_small(_npy(v))) for k, v in _model(2).state_dict().items()]
    if where == "unexpected":
        members.append(("bomb.npy", *huge_member))
    else:
        members[0] = (members[0][0], *huge_member)
    path = tmp_path / "bomb.npz"
    _raw_zip(path, members)
    assert os.path.getsize(path) < 800 * 1024  # under 800 KiB on disk, 768 MiB inflated
    with zipfile.ZipFile(path) as zf:  # a well-formed archive: numpy would inflate it all
        assert max(i.file_size for i in zf.infolist()) > 768 * 2**20
        name = zf.namelist()[-1 if where == "unexpected" else 0]
        with zf.open(name) as f:  # its start inflates to the .npy header of 768 MiB of zeros
            assert np.lib.format.read_magic(f) == (1, 0)
            assert np.lib.format.read_array_header_1_0(f)[0] == (_BLOCK * _BLOCKS // 8,)
    tracemalloc.start()
    try:
        _expect_refusal(m, path, "unexpected: bomb" if where == "unexpected"
                        else r"expected shape \(3, 4\)")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB: the member was inflated"
