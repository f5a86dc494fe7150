"""The serving dir is refused in one sentence before a run, and a failed push says why in one sentence."""

import errno
import os

import pytest
import tensorflow as tf

from components.errors import UserError
from components.push.destination import check_serving_dir, push_failure
from pipeline import cli


def test_a_writable_or_creatable_folder_passes(tmp_path):
    check_serving_dir(str(tmp_path / "serving"))
    check_serving_dir(str(tmp_path / "new" / "deeper" / "serving"))
    check_serving_dir("gs://bucket/serving")


@pytest.mark.parametrize("where", ["serving", "parent"])
def test_a_file_in_the_way_is_refused_naming_it(tmp_path, where):
    blocker = tmp_path / where
    blocker.write_text("a file")
    serving = blocker if where == "serving" else blocker / "serving"
    with pytest.raises(UserError, match=rf"{blocker} is a file, not a folder; choose another --serving-dir"):
        check_serving_dir(str(serving))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_is_refused(tmp_path):
    tmp_path.joinpath("locked").mkdir(mode=0o555)
    with pytest.raises(UserError, match="is not writable"):
        check_serving_dir(str(tmp_path / "locked" / "serving"))


@pytest.mark.parametrize("error, reason", [
    (tf.errors.ResourceExhaustedError(None, None, "/s/1/variables/v.data; No space left on device"),
     "the disk is full"),  # What TF's file system raises on ENOSPC, as seen on a full tmpfs.
    (tf.errors.PermissionDeniedError(None, None, "/s; Read-only file system"), "the file system is read-only"),
    (OSError(errno.EACCES, "Permission denied", "/s"), "permission denied"),
    (tf.errors.UnknownError(None, None, "something new\nwith a second line"), "something new"),
])
def test_push_failures_read_as_one_sentence(error, reason):
    message = str(push_failure("/s", error))
    assert message == (f"cannot push the model to serving dir /s: {reason}; no new version was served and the "
                       "versions already there are untouched")


def test_run_refuses_a_serving_dir_that_is_a_file_before_anything_runs(tmp_path, capsys):
    (tmp_path / "serving").write_text("a file")
    status = cli.main(["run", "--pipeline-root", str(tmp_path / "root"), "--serving-dir", str(tmp_path / "serving")])
    error = capsys.readouterr().err.strip()
    assert status == 1 and len(error.splitlines()) == 1 and "is a file, not a folder" in error
    assert not (tmp_path / "root").exists()
