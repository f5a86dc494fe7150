"""The serving folder only ever shows complete, numbered versions; older versions stay; no duplicate pushes."""

import os

import pytest

from components.errors import UserError
from components.push import atomic
from components.push.atomic import (model_digest, model_files, numbered_versions, push_atomically,
                                    saved_model_last, served_version_of)


def _fake_model(path, weights: bytes = b"w1"):
    """The files a SavedModel push copies: graph, variables, assets."""
    (path / "variables").mkdir(parents=True)
    (path / "assets").mkdir()
    (path / "saved_model.pb").write_bytes(b"graph")
    (path / "variables" / "variables.index").write_bytes(b"index-" + weights)
    (path / "variables" / "variables.data-00000-of-00001").write_bytes(weights * 1000)
    return str(path)


def _listing(serving) -> list[str]:
    return sorted(os.listdir(serving))


def test_pushes_number_versions_from_one_and_keep_previous_ones(tmp_path):
    serving = tmp_path / "serving"
    first = push_atomically(_fake_model(tmp_path / "m1"), str(serving))
    second = push_atomically(_fake_model(tmp_path / "m2", b"w2"), str(serving))
    assert first == (1, str(serving / "1")) and second == (2, str(serving / "2"))
    assert _listing(serving) == ["1", "2"]  # No staging folder left behind.
    assert (serving / "2" / "variables" / "variables.data-00000-of-00001").read_bytes() == b"w2" * 1000
    assert (serving / "1" / "saved_model.pb").read_bytes() == b"graph"


def test_next_version_follows_the_highest_number_and_ignores_other_names(tmp_path):
    serving = tmp_path / "serving"
    for name in ("3", "17", "notes", ".incoming-old"):
        (serving / name).mkdir(parents=True)
    assert numbered_versions(str(serving)) == [3, 17]
    assert push_atomically(_fake_model(tmp_path / "m"), str(serving))[0] == 18


def test_a_failed_copy_leaves_no_version_and_no_staging_folder(tmp_path):
    serving = tmp_path / "serving"
    model = _fake_model(tmp_path / "m")
    push_atomically(model, str(serving))
    os.symlink(tmp_path / "missing", os.path.join(model, "variables", "dangling"))  # Unreadable mid-copy.
    with pytest.raises(Exception):
        push_atomically(model, str(serving))
    assert _listing(serving) == ["1"]


def test_a_model_already_served_as_newest_version_is_recognised(tmp_path):
    serving = tmp_path / "serving"
    model = _fake_model(tmp_path / "m1")
    assert served_version_of(model, str(serving)) is None
    push_atomically(model, str(serving))
    assert served_version_of(model, str(serving)) == 1
    assert served_version_of(_fake_model(tmp_path / "m2", b"w2"), str(serving)) is None
    assert model_digest(model) != model_digest(str(tmp_path / "m2"))


def test_object_store_copy_order_puts_saved_model_pb_last(tmp_path):
    """The gs:// path (no atomic rename there): TF Serving waits for saved_model.pb, so it must come last."""
    order = saved_model_last(model_files(_fake_model(tmp_path / "m")))
    assert order == ["variables/variables.data-00000-of-00001", "variables/variables.index", "saved_model.pb"]


def test_staging_folders_of_dead_pushes_are_removed_and_live_ones_kept(tmp_path):
    """A push killed mid-copy leaves `.incoming-*`; the next push removes it unless its owner still runs."""
    serving = tmp_path / "serving"
    host = atomic.socket.gethostname()
    dead = serving / f".incoming-{host}-{2**22 + 12345}-0f"  # Above Linux's pid_max: no such process.
    live = serving / f".incoming-{host}-{os.getpid()}-1f"
    old_format, recent_elsewhere = serving / ".incoming-5d41402abc4b2a76", serving / ".incoming-otherhost-7-2f"
    for folder in (dead, live, old_format, recent_elsewhere):
        (folder / "variables").mkdir(parents=True)
    hours_ago = atomic.time.time() - 2 * atomic.STALE_STAGING_SECONDS
    os.utime(old_format, (hours_ago, hours_ago))
    assert push_atomically(_fake_model(tmp_path / "m"), str(serving))[0] == 1
    assert _listing(serving) == sorted(["1", live.name, recent_elsewhere.name])


def test_a_serving_dir_that_is_a_file_fails_in_one_sentence(tmp_path):
    serving = tmp_path / "serving"
    serving.write_text("not a folder")
    with pytest.raises(UserError, match=r"cannot push the model to serving dir .*serving: .*no new version was served"):
        push_atomically(_fake_model(tmp_path / "m"), str(serving))


def _add_extra(version_dir: str) -> None:
    os.makedirs(os.path.join(version_dir, "tflite"))
    with open(os.path.join(version_dir, "tflite", "labels.txt"), "w") as f:
        f.write("daisy\n")


def test_extra_files_are_in_the_version_when_it_appears(tmp_path):
    serving = tmp_path / "serving"
    push_atomically(_fake_model(tmp_path / "m"), str(serving), add_files=_add_extra)
    assert (serving / "1" / "tflite" / "labels.txt").read_text() == "daisy\n"
    assert _listing(serving) == ["1"]
