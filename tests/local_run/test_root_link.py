"""A pipeline root named like a glob (`runs[1]`) runs through a link that Beam's file sinks can write under."""

import glob
import os

import apache_beam as beam
import pytest

from pipeline import local_runner


@pytest.fixture
def links(tmp_path, monkeypatch):
    monkeypatch.setattr(local_runner, "ROOT_LINKS", str(tmp_path / "links"))
    return tmp_path / "links"


def test_a_plain_root_is_used_as_it_is(tmp_path, links):
    assert local_runner.glob_free_root(str(tmp_path / "runs")) == str(tmp_path / "runs")
    assert local_runner.glob_free_root("gs://bucket/runs[1]") == "gs://bucket/runs[1]"
    assert not links.exists()


def test_a_root_with_glob_characters_gets_one_stable_link(tmp_path, links):
    root = tmp_path / "runs[1]" / "pipeline"
    root.mkdir(parents=True)
    link = local_runner.glob_free_root(str(root))
    assert not glob.has_magic(link) and os.path.dirname(link) == str(links)
    assert os.path.realpath(link) == str(root)
    assert local_runner.glob_free_root(str(root)) == link  # The same root, the same link, run after run.
    assert local_runner.glob_free_root(str(tmp_path / "runs[2]")) != link


def test_beam_file_sinks_write_through_the_link(tmp_path, links):
    """What StatisticsGen failed on: Beam's WriteToText finalizes with an unescaped match of its own path."""
    root = tmp_path / "runs[1]"
    root.mkdir()
    for prefix, works in ((str(root), False), (local_runner.glob_free_root(str(root)), True)):
        try:
            with beam.Pipeline() as pipeline:
                _ = pipeline | beam.Create(["a", "b"]) | beam.io.WriteToText(os.path.join(prefix, "lines"),
                                                                           shard_name_template="")
        except Exception as error:  # BeamIOError, wrapped by the runner.
            assert not works and "src and dst files do not exist" in str(error)
        else:
            assert works
    assert sorted((root / "lines").read_text().split()) == ["a", "b"]
