"""Pushes to a gs:// serving dir on the GCS emulator: a version number is claimed before it is written, so a
stale listing or a concurrent pusher never overwrites or deletes a served version."""

import threading

import pytest

from components.push.atomic import push_atomically
from components.push.object_store import GcsServingDir

BASE = "gs://flowers-test/serving"


def _model(path, weights: bytes):
    (path / "variables").mkdir(parents=True)
    (path / "saved_model.pb").write_bytes(b"graph-" + weights)
    (path / "variables" / "variables.index").write_bytes(b"index-" + weights)
    (path / "variables" / "variables.data-00000-of-00001").write_bytes(weights * 100)
    return str(path)


def _objects(bucket) -> dict:
    """name -> (generation, bytes) of every object under serving/."""
    return {blob.name: (blob.generation, blob.download_as_bytes()) for blob in bucket.list_blobs(prefix="serving/")}


def test_versions_are_numbered_and_written_saved_model_last(gcs_emulator, tmp_path):
    assert push_atomically(_model(tmp_path / "a", b"a"), BASE) == (1, f"{BASE}/1")
    assert push_atomically(_model(tmp_path / "b", b"b"), BASE) == (2, f"{BASE}/2")
    objects = _objects(gcs_emulator)
    assert objects["serving/2/variables/variables.data-00000-of-00001"][1] == b"b" * 100
    assert objects["serving/1/saved_model.pb"][1] == b"graph-a"
    assert sorted(name for name in objects if name.startswith("serving/.claims/")) == [
        "serving/.claims/1", "serving/.claims/2"]
    assert GcsServingDir(BASE).versions() == [1, 2]


def test_a_stale_listing_claims_the_next_free_number_and_leaves_the_served_version_alone(gcs_emulator, tmp_path):
    """Pusher A lists (nothing yet), pusher B pushes version 1, then A acts on its listing: before, A took
    max(listing)+1 = 1 and TFX's copy_dir deleted B's complete version to write its own in its place."""
    serving = GcsServingDir(BASE)
    stale = serving.versions()
    assert stale == []
    push_atomically(_model(tmp_path / "b", b"b"), BASE)
    served = _objects(gcs_emulator)
    assert serving.claim_next(stale) == 2
    assert {name: kept for name, kept in _objects(gcs_emulator).items() if name in served} == served


def test_a_version_written_without_a_claim_is_never_reused(gcs_emulator, tmp_path):
    """A version an older pusher wrote in place (no claim marker) is skipped even when the listing missed it."""
    gcs_emulator.blob("serving/1/saved_model.pb").upload_from_string(b"older pusher")
    assert GcsServingDir(BASE).claim_next([]) == 2
    assert gcs_emulator.blob("serving/1/saved_model.pb").download_as_bytes() == b"older pusher"


def test_concurrent_pushers_get_distinct_versions(gcs_emulator, tmp_path):
    """Both list before either claims (a barrier holds them): the loser of the claim takes the next number."""
    barrier, results = threading.Barrier(2), {}
    original = GcsServingDir.versions

    def listed_then_wait(self):
        listing = original(self)
        barrier.wait(timeout=30)
        return listing

    def push(name):
        results[name] = push_atomically(_model(tmp_path / name, name.encode()), BASE)[0]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(GcsServingDir, "versions", listed_then_wait)
        threads = [threading.Thread(target=push, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(results.values()) == [1, 2]
    objects = _objects(gcs_emulator)
    for name, version in results.items():
        assert objects[f"serving/{version}/saved_model.pb"][1] == b"graph-" + name.encode()


def test_an_object_that_exists_is_never_replaced(gcs_emulator, tmp_path):
    from google.api_core.exceptions import PreconditionFailed

    push_atomically(_model(tmp_path / "a", b"a"), BASE)
    with pytest.raises(PreconditionFailed):
        GcsServingDir(BASE).write_new("1/saved_model.pb", str(tmp_path / "a" / "saved_model.pb"))


def test_the_emulator_refuses_a_second_create_of_one_object(gcs_emulator):
    """The precondition the claim relies on, as GCS enforces it."""
    from google.api_core.exceptions import PreconditionFailed

    gcs_emulator.blob("serving/.claims/7").upload_from_string(b"first", if_generation_match=0)
    with pytest.raises(PreconditionFailed):
        gcs_emulator.blob("serving/.claims/7").upload_from_string(b"second", if_generation_match=0)
    assert gcs_emulator.blob("serving/.claims/7").download_as_bytes() == b"first"


def test_a_big_file_is_uploaded_resumably_and_still_never_replaced(gcs_emulator, tmp_path):
    from google.api_core.exceptions import PreconditionFailed
    from google.cloud.storage import blob as blob_module

    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (blob_module._MAX_MULTIPART_SIZE + 1))
    serving = GcsServingDir(BASE)
    serving.write_new("9/variables/variables.data-00000-of-00001", str(big))
    assert gcs_emulator.get_blob("serving/9/variables/variables.data-00000-of-00001").size == big.stat().st_size
    with pytest.raises(PreconditionFailed):
        serving.write_new("9/variables/variables.data-00000-of-00001", str(big))


def test_extra_files_land_in_the_version_before_its_saved_model(gcs_emulator, tmp_path):
    """The TFLite files of a version reach gs:// with it; saved_model.pb is still the last object written."""
    def add_labels(folder):
        (tmp_path / "labels").write_text("daisy\n")
        import os
        import shutil
        os.makedirs(os.path.join(folder, "tflite"))
        shutil.copy(tmp_path / "labels", os.path.join(folder, "tflite", "labels.txt"))

    push_atomically(_model(tmp_path / "a", b"a"), BASE, add_files=add_labels)
    objects = _objects(gcs_emulator)
    assert objects["serving/1/tflite/labels.txt"][1] == b"daisy\n"
    written = {name: gcs_emulator.get_blob(name).time_created for name in objects if name.startswith("serving/1/")}
    assert max(written, key=lambda name: (written[name], name.endswith("saved_model.pb"))) == \
        "serving/1/saved_model.pb"
