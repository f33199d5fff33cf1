"""The on-disk cache of the parsed built-in catalog: rebuilt on change, robust, concurrent-safe."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dlrig import cache as disk
from dlrig.catalog import builtin
from dlrig.errors import CatalogError


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("DLRIG_CACHE_DIR", str(folder))
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("builtin-*.pickle"))


def _no_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(files: dict[str, str]) -> None:
        raise AssertionError("parsed the YAML although the cache was valid")

    monkeypatch.setattr(builtin, "parse", fail)


def test_second_load_comes_from_the_cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = builtin.data_files()
    first = builtin.load_catalog(files)
    assert len(_entries(cache_dir)) == 1
    _no_parse(monkeypatch)
    second = builtin.load_catalog(files)
    assert second.version == first.version
    assert [p.model_dump() for p in second.parts()] == [p.model_dump() for p in first.parts()]
    assert [c.id for c in second.chips] == [c.id for c in first.chips]
    gpus = second.parts("gpu")  # type: ignore[arg-type]
    assert gpus and all(g.vram_gib and g.vram_gib > 0 for g in gpus)  # type: ignore[attr-defined]


def test_a_changed_data_file_is_a_new_entry(cache_dir: Path) -> None:
    files = builtin.data_files()
    before = builtin.load_catalog(files)
    psu = next(p for p in before.parts() if p.category == "psu")
    text = files["psu.yaml"]
    assert f"id: {psu.id}\n" in text
    # Append one more PSU: same rows otherwise, one new part and a new version.
    extra = (
        "\n- id: test-cache-psu\n  name: Test Cache PSU 1000\n  brand: Test\n"
        "  wattage_w: 1000\n  form_factor: ATX\n  source: https://example.com/spec\n"
    )
    changed = {**files, "psu.yaml": text.rstrip("\n") + "\n" + extra}
    try:
        after = builtin.load_catalog(changed)
    except CatalogError as exc:  # the PSU model may require more fields: say which
        pytest.fail(f"test row rejected: {exc}")
    assert "test-cache-psu" in after and "test-cache-psu" not in before
    assert after.version != before.version
    assert len(after) == len(before) + 1
    assert len(_entries(cache_dir)) == 2
    # Back to the original text: the first entry is used again, without the new part.
    again = builtin.load_catalog(files)
    assert again.version == before.version and "test-cache-psu" not in again


def test_a_changed_parts_model_is_a_new_key(monkeypatch: pytest.MonkeyPatch) -> None:
    files = builtin.data_files()
    key = builtin.cache_key(files)
    monkeypatch.setattr(builtin, "CACHE_FORMAT", builtin.CACHE_FORMAT + "-next")
    assert builtin.cache_key(files) != key


def test_a_bad_row_still_fails_with_its_file_and_id(cache_dir: Path) -> None:
    files = builtin.data_files()
    bad = {**files, "psu.yaml": files["psu.yaml"].replace("wattage_w:", "wattage_watts:", 1)}
    with pytest.raises(CatalogError, match=r"psu\.yaml: row '"):
        builtin.load_catalog(bad)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle at all", b"\x80\x05\x95garbage", "truncated"],
    ids=["empty", "text", "corrupt", "truncated"],
)
def test_a_corrupt_cache_is_ignored_and_rebuilt(cache_dir: Path, content: bytes | str) -> None:
    files = builtin.data_files()
    good = builtin.load_catalog(files)
    (entry,) = _entries(cache_dir)
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2] if content == "truncated" else content)  # type: ignore[arg-type]
    rebuilt = builtin.load_catalog(files)
    assert rebuilt.version == good.version and len(rebuilt) == len(good)
    assert entry.read_bytes() == data  # rewritten whole


def test_a_foreign_payload_is_ignored(cache_dir: Path) -> None:
    files = builtin.data_files()
    good = builtin.load_catalog(files)
    (entry,) = _entries(cache_dir)
    key = builtin.cache_key(files)
    entry.write_bytes(pickle.dumps(("builtin", key, (["not a part"], [], "v"))))
    assert len(builtin.load_catalog(files)) == len(good)
    entry.write_bytes(pickle.dumps(("other-kind", key, None)))
    assert len(builtin.load_catalog(files)) == len(good)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_cache_file_others_may_write_is_not_loaded(cache_dir: Path) -> None:
    disk.store("probe", "k", {"a": 1})
    path = disk.path_of("probe", "k")
    assert disk.load("probe", "k") == {"a": 1}
    assert path.stat().st_mode & 0o077 == 0  # written private
    path.chmod(0o666)
    assert disk.load("probe", "k") is None


def test_old_entries_are_pruned(cache_dir: Path) -> None:
    for i in range(disk.KEEP_PER_KIND + 3):
        disk.store("probe", f"k{i}", i)
        os.utime(disk.path_of("probe", f"k{i}"), (1000 + i, 1000 + i))
    disk.store("probe", "last", "x")
    names = sorted(p.name for p in cache_dir.glob("probe-*.pickle"))
    assert len(names) == disk.KEEP_PER_KIND
    assert "probe-last.pickle" in names and "probe-k0.pickle" not in names


def test_an_unwritable_cache_dir_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DLRIG_CACHE_DIR", str(blocker / "cache"))
    catalog = builtin.load_catalog(builtin.data_files())
    assert len(catalog) > 100


def test_an_entry_pickle_refuses_is_skipped_without_a_trace(cache_dir: Path) -> None:
    """pickle refuses some objects with TypeError (a lock), AttributeError (a local class) or
    PicklingError: the write is skipped like a full disk, no temporary file is left."""

    class Local:
        pass

    for i, obj in enumerate((threading.Lock(), Local(), lambda: 0)):
        disk.store("probe", f"k{i}", obj)
        assert disk.load("probe", f"k{i}") is None
    disk.store("probe", "ok", [1, 2])
    assert disk.load("probe", "ok") == [1, 2]
    assert sorted(p.name for p in cache_dir.iterdir()) == ["probe-ok.pickle"]


def test_concurrent_writers_and_readers_never_see_a_partial_entry(cache_dir: Path) -> None:
    payload = {"rows": list(range(200_000))}
    seen: list[object] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(5):
                disk.store("race", "same", payload)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        for _ in range(40):
            seen.append(disk.load("race", "same"))

    threads = [threading.Thread(target=write) for _ in range(4)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(s is None or s == payload for s in seen)
    assert disk.load("race", "same") == payload
    assert [p.name for p in cache_dir.iterdir()] == ["race-same.pickle"]  # no temp files left


def test_concurrent_processes_build_one_good_entry(cache_dir: Path) -> None:
    code = (
        "from dlrig.catalog.builtin import builtin_catalog\n"
        "c = builtin_catalog()\nprint(len(c), c.version)\n"
    )
    env = {**os.environ, "DLRIG_CACHE_DIR": str(cache_dir)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(outs)) == 1
    (entry,) = _entries(cache_dir)
    assert [p.name for p in cache_dir.iterdir()] == [entry.name]
    n, version = outs[0].split()
    cached = disk.load("builtin", entry.name.removeprefix("builtin-").removesuffix(".pickle"))
    assert cached is not None and len(cached[0]) == int(n) and cached[2] == version


def test_the_catalog_opens_from_a_zipped_package(tmp_path: Path, cache_dir: Path) -> None:
    """data_files() and the cache keys read files by path, which a zip (or any install that is
    not a folder) does not have: they read through importlib.resources and the loaders."""
    import zipfile

    src = Path(builtin.__file__).parents[1]  # the dlrig package folder
    archive = tmp_path / "dlrig.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in src.rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts:
                z.write(f, f.relative_to(src.parent))
    example = str(Path(__file__).parents[1] / "examples" / "warmachine.yaml")
    code = (
        "import dlrig.catalog.builtin as b, dlrig\n"
        "assert '.zip' in b.__file__, b.__file__\n"
        "print(len(b.data_files()), len(b.builtin_catalog()))\n"
        f"print(dlrig.check({example!r}).ok)\n"
        "from dlrig.optimize.whole import expert_data\n"  # the planner's own data file
        "assert expert_data()['psu']['efficiency_rank']\n"
    )
    env = {**os.environ, "PYTHONPATH": str(archive)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    n_files, n_parts = map(int, out.stdout.split()[:2])
    assert n_files == len(builtin.data_files()) and n_parts > 0
    assert n_parts == len(builtin.builtin_catalog())
    assert out.stdout.split()[2] == "True"
