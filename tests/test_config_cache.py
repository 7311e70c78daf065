"""The parsed-config cache: a config read before is not parsed with PyYAML again (30 ms of import),
and a cache that is stale, damaged, unwritable or switched off never changes what a config means."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from converter import config
from converter.config import DEFAULT_CONFIG, load_config, parsed_config_cache
from converter.errors import InvalidModelError
from converter.yaml_files import parse_yaml

LOAD = r"""
import json, sys
from converter.config import load_config
loaded = load_config(sys.argv[1] if len(sys.argv) > 1 else None)
print(json.dumps({"passes": loaded.passes, "precisions": loaded.precisions, "yaml": "yaml" in sys.modules}))
"""


def _load_in_a_process(cache: Path | str, *args: str) -> dict:
    environment = {"IRFORGE_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", LOAD, *args], capture_output=True, text=True, check=True, env=environment)
    return json.loads(result.stdout)


@pytest.fixture(autouse=True)
def _fresh_parses() -> None:
    config._parse.cache_clear()  # the in-process cache would hide the file cache


def test_the_second_process_reads_the_default_config_without_yaml(tmp_path: Path) -> None:
    first = _load_in_a_process(tmp_path)
    second = _load_in_a_process(tmp_path)
    assert first["yaml"] is True and second["yaml"] is False
    assert first["passes"] == second["passes"] and first["precisions"] == second["precisions"]
    assert [path.name for path in tmp_path.iterdir()] == [parsed_config_cache(DEFAULT_CONFIG.read_bytes()).name]


def test_the_cache_holds_exactly_what_yaml_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRFORGE_CACHE_DIR", str(tmp_path))
    data = DEFAULT_CONFIG.read_bytes()
    load_config()
    cached = json.loads(parsed_config_cache(data).read_bytes())
    assert cached["yaml"] == data.decode() and cached["parsed"] == parse_yaml("default", data, "pipeline config")
    assert cached["parsed"]["tolerances"]["verify"] == {"rtol": 1.0e-5, "atol": 1.0e-6, "per_tensor": True}


def test_an_entry_under_the_same_name_for_other_text_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file name is only a CRC: an entry is used only when it holds the config's own text."""
    monkeypatch.setenv("IRFORGE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "pipeline.yaml"
    path.write_text("passes: [fold_constants]\nprecisions: [fp32]\n")
    entry = parsed_config_cache(path.read_bytes())
    entry.parent.mkdir(parents=True)
    entry.write_text(json.dumps({"yaml": "passes: []\n", "parsed": {"passes": ["eliminate_noops"], "precisions": ["fp16"]}}))
    loaded = load_config(path)
    assert (loaded.passes, loaded.precisions) == (("fold_constants",), ("fp32",))
    assert json.loads(entry.read_bytes())["yaml"] == path.read_text()


def test_an_edited_config_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRFORGE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "pipeline.yaml"
    path.write_text("passes: [fold_constants]\nprecisions: [fp32]\n")
    assert load_config(path).passes == ("fold_constants",)
    config._parse.cache_clear()
    path.write_text("passes: [fold_constants, eliminate_noops]\nprecisions: [fp16]\n")
    loaded = load_config(path)
    assert (loaded.passes, loaded.precisions) == (("fold_constants", "eliminate_noops"), ("fp16",))


def test_a_damaged_cache_file_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRFORGE_CACHE_DIR", str(tmp_path))
    expected = load_config()
    parsed_config_cache(DEFAULT_CONFIG.read_bytes()).write_bytes(b'{"passes": [')
    config._parse.cache_clear()
    assert load_config() == expected


def test_an_unwritable_cache_folder_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("IRFORGE_CACHE_DIR", str(blocker / "cache"))
    assert load_config().passes[0] == "fold_constants"


def test_an_empty_cache_dir_switches_the_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRFORGE_CACHE_DIR", "")
    assert parsed_config_cache(DEFAULT_CONFIG.read_bytes()) is None
    assert _load_in_a_process("")["yaml"] is True
    assert _load_in_a_process("")["yaml"] is True


def test_broken_configs_are_not_cached_and_still_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRFORGE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "pipeline.yaml"
    path.write_text("passes: [fold_constants\n")
    with pytest.raises(InvalidModelError, match="cannot read the pipeline config") as raised:
        load_config(path)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "cache").exists()


def test_a_document_json_cannot_hold_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRFORGE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "pipeline.yaml"
    path.write_text("passes: [fold_constants]\n1: an integer key\n")
    assert load_config(path).passes == ("fold_constants",)
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []
