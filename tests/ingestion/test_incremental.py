"""Incremental ingestion (real Beam, generated photos): reusing an earlier output's images writes exactly what a
full ingestion writes, the same files byte for byte (records, reuse indexes, rejects, duplicates) and the same
summary but for its `reused` count, after photos were added, removed, changed and moved to another class."""

import dataclasses
import gzip
import json
import os
import shutil

import pytest
from tfx.types import artifact_utils, standard_artifacts

from components import artifacts
from components.ingestion import PreviousExamplesResolver, beam_job, records, reuse, run_ingest, tfrecord_files
from components.ingestion.component import EXAMPLE_GEN_ID, make_example_gen
from components.ingestion.executor import PREVIOUS_EXAMPLES_KEY, Executor
from tests.ingestion.test_beam_job import CLASSES, SETTINGS, read_records, salted_folder

# The 17 written photos of the salted folder, less the removed and the changed one (the moved one keeps its bytes),
# plus the new copy of one of them: the photos whose image can be reused.
REUSABLE = 17 - 2 + 1


def output_files(out) -> dict[str, bytes]:
    """Every file of an ingest output by relative path, the summary without its `reused` count."""
    files = {str(path.relative_to(out)): path.read_bytes() for path in out.rglob("*") if path.is_file()}
    summary = json.loads(files.pop(artifacts.SUMMARY_FILE))
    summary.pop("reused")
    return {**files, artifacts.SUMMARY_FILE: json.dumps(summary, sort_keys=True).encode()}


def reused(out) -> int:
    return json.loads((out / artifacts.SUMMARY_FILE).read_text())["reused"]


@pytest.fixture(scope="module")
def changed_folder(tmp_path_factory, make_photo_folder, make_photo, photo_image, image_bytes):
    """The salted folder ingested in full, then: 3 photos added (one a copy of a kept one), one removed, one
    changed in place, one moved to the other class. Returns (root, the earlier output)."""
    root = tmp_path_factory.mktemp("incremental") / "photos"
    salted_folder(root, make_photo_folder, make_photo, photo_image, image_bytes)
    earlier = tmp_path_factory.mktemp("earlier") / "ingest"
    run_ingest(data_root=str(root), output_dir=str(earlier), settings=SETTINGS)
    for name in ("new_1.jpg", "new_2.png"):
        make_photo(root / "roses" / name, fmt="PNG" if name.endswith("png") else "JPEG")
    shutil.copyfile(root / "roses" / "photo_002.jpg", root / "daisy" / "new_copy.jpg")
    (root / "daisy" / "photo_005.jpg").unlink()
    (root / "roses" / "photo_003.jpg").write_bytes(image_bytes(photo_image("changed")))
    (root / "daisy" / "photo_004.jpg").rename(root / "roses" / "moved.jpg")
    return root, earlier


def test_incremental_output_equals_a_full_ingestion(changed_folder, tmp_path):
    root, earlier = changed_folder
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    run_ingest(data_root=str(root), output_dir=str(incremental), settings=SETTINGS, previous_dir=str(earlier))
    run_ingest(data_root=str(root), output_dir=str(full), settings=SETTINGS)
    assert output_files(incremental) == output_files(full)
    assert reused(incremental) == REUSABLE and reused(full) == 0
    labels = {record["source"].numpy().decode(): record["label"].numpy().decode()
              for name in artifacts.SPLITS for record in read_records(incremental, name)[1]}
    assert str(root / "daisy" / "photo_005.jpg") not in labels and str(root / "daisy" / "photo_004.jpg") not in labels
    assert labels[str(root / "roses" / "moved.jpg")] == "roses"


@pytest.mark.parametrize("change", [{"image_size": 24}, {"jpeg_quality": 80}, {"max_image_pixels": 40_000}])
def test_nothing_is_reused_across_changed_encoding_settings(changed_folder, tmp_path, change):
    root, earlier = changed_folder
    settings = dataclasses.replace(SETTINGS, **change)
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    run_ingest(data_root=str(root), output_dir=str(incremental), settings=settings, previous_dir=str(earlier))
    run_ingest(data_root=str(root), output_dir=str(full), settings=settings)
    assert reused(incremental) == 0
    assert output_files(incremental) == output_files(full)


def test_a_damaged_earlier_file_is_decoded_again_not_reused(changed_folder, tmp_path):
    root, earlier = changed_folder
    damaged = tmp_path / "damaged"
    shutil.copytree(earlier, damaged)
    index = sorted((damaged / artifacts.REUSE_INDEX_DIR).rglob(f"*{artifacts.REUSE_INDEX_SUFFIX}"))[0]
    index.write_text("\n".join(index.read_text().splitlines()[1:]))  # One line short: its pairing is unknown.
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    run_ingest(data_root=str(root), output_dir=str(incremental), settings=SETTINGS, previous_dir=str(damaged))
    run_ingest(data_root=str(root), output_dir=str(full), settings=SETTINGS)
    assert 0 < reused(incremental) < REUSABLE
    assert output_files(incremental) == output_files(full)


def test_records_are_reused_when_the_shard_count_changed(changed_folder, tmp_path):
    root, earlier = changed_folder
    settings = dataclasses.replace(SETTINGS, records_per_shard=5)
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    run_ingest(data_root=str(root), output_dir=str(incremental), settings=settings, previous_dir=str(earlier))
    run_ingest(data_root=str(root), output_dir=str(full), settings=settings)
    files = [len(list((out / f"{artifacts.SPLIT_PREFIX}train").iterdir())) for out in (earlier, full)]
    assert files == [2, 6]
    assert reused(incremental) == REUSABLE
    assert output_files(incremental) == output_files(full)


@pytest.fixture
def small_run(tmp_path, make_photo_folder):
    """A folder of 6 photos and its full ingestion: (root, earlier output, its index entries by path)."""
    root, earlier = tmp_path / "photos", tmp_path / "earlier"
    make_photo_folder(root, CLASSES, per_class=3)
    run_ingest(data_root=str(root), output_dir=str(earlier), settings=SETTINGS)
    return root, earlier


def index_entries(out) -> dict[str, reuse.IndexEntry]:
    found = [entry for index in (out / artifacts.REUSE_INDEX_DIR).rglob(f"*{artifacts.REUSE_INDEX_SUFFIX}")
             for entry in reuse.read_entries(str(index))]
    return {entry.path: entry for entry in found}


def test_a_rewrite_that_keeps_size_and_mtime_is_decoded_again(small_run, tmp_path, photo_image, image_bytes):
    root, earlier = small_run
    photo = root / "roses" / "photo_001.jpg"
    before, replacement = os.stat(photo), image_bytes(photo_image("other", size=(16, 16)))
    photo.write_bytes(replacement + bytes(before.st_size - len(replacement)))  # Padding after the JPEG's end.
    os.utime(photo, ns=(before.st_atime_ns, before.st_mtime_ns))  # As `touch -r` or `cp -p` would leave it.
    assert (os.stat(photo).st_size, os.stat(photo).st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    run_ingest(data_root=str(root), output_dir=str(incremental), settings=SETTINGS, previous_dir=str(earlier))
    run_ingest(data_root=str(root), output_dir=str(full), settings=SETTINGS)
    assert reused(incremental) == 5
    assert output_files(incremental) == output_files(full)
    assert index_entries(full)[str(photo)].reuse_key != index_entries(earlier)[str(photo)].reuse_key


def test_an_unchanged_listing_is_trusted_unless_content_is_verified(small_run, tmp_path):
    """An earlier index whose key for a photo is wrong (its stamp unchanged) shows the photo was not read: the
    key is carried over. incremental_verify_content reads it, and writes what a full ingestion writes."""
    root, earlier = small_run
    photo = str(root / "daisy" / "photo_002.jpg")
    index = next(path for path in (earlier / artifacts.REUSE_INDEX_DIR).rglob(f"*{artifacts.REUSE_INDEX_SUFFIX}")
                 if photo in {entry.path for entry in reuse.read_entries(str(path))})
    entries = reuse.read_entries(str(index))
    wrong_key = "0" * 64 + "-" + entries[0].reuse_key.rsplit("-", 1)[1]
    index.write_text("".join(reuse.index_line(entry._replace(reuse_key=wrong_key) if entry.path == photo else entry)
                             + "\n" for entry in entries))
    trusting, verifying, full = tmp_path / "trusting", tmp_path / "verifying", tmp_path / "full"
    run_ingest(data_root=str(root), output_dir=str(trusting), settings=SETTINGS, previous_dir=str(earlier))
    run_ingest(data_root=str(root), output_dir=str(verifying), previous_dir=str(earlier),
               settings=dataclasses.replace(SETTINGS, incremental_verify_content=True))
    run_ingest(data_root=str(root), output_dir=str(full), settings=SETTINGS)
    assert index_entries(trusting)[photo].reuse_key == wrong_key and reused(trusting) == 6
    assert output_files(verifying) == output_files(full) and reused(verifying) == 5


def test_a_grown_shard_count_moves_only_the_photos_of_the_new_shard():
    paths = [f"/photos/daisy/{number}.jpg" for number in range(4000)]
    for count in (1, 7, 63):
        before = [beam_job.shard_of(path, count) for path in paths]
        after = [beam_job.shard_of(path, count + 1) for path in paths]
        moved = [new for old, new in zip(before, after) if old != new]
        assert set(moved) <= {count}
        assert abs(len(moved) / len(paths) - 1 / (count + 1)) < 0.03
    sizes = [after.count(index) for index in range(64)]
    assert min(sizes) > 0.6 * len(paths) / 64 and max(sizes) < 1.4 * len(paths) / 64


def test_the_executor_reuses_the_previous_examples_input(changed_folder, tmp_path):
    root, earlier = changed_folder
    previous = standard_artifacts.Examples()
    previous.uri = str(earlier)
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    properties = dict(make_example_gen(data_root=str(root), settings=SETTINGS).exec_properties)
    Executor().Do({PREVIOUS_EXAMPLES_KEY: [previous]}, {"examples": [examples]}, properties)
    summary = json.loads(examples.get_string_custom_property(artifacts.SUMMARY_PROPERTY))
    assert summary["reused"] == REUSABLE
    assert artifact_utils.decode_split_names(examples.split_names) == list(artifacts.SPLITS)


def test_the_example_gen_takes_the_previous_examples_as_an_optional_input(photo_folder):
    assert PREVIOUS_EXAMPLES_KEY not in make_example_gen(data_root=str(photo_folder), settings=SETTINGS).inputs
    resolver = PreviousExamplesResolver().with_id("previous_examples_resolver")
    example_gen = make_example_gen(data_root=str(photo_folder), settings=SETTINGS,
                                   previous_examples=resolver.outputs["examples"])
    assert example_gen.id == EXAMPLE_GEN_ID
    assert example_gen.inputs[PREVIOUS_EXAMPLES_KEY].type is standard_artifacts.Examples


def test_record_image_reads_back_what_photo_record_wrote():
    record = records.photo_record(jpeg=b"\xff\xd8jpeg", class_id=1, label=CLASSES[1], image_size=32, source=b"/a")
    assert records.record_image(record) == b"\xff\xd8jpeg"
    with pytest.raises(ValueError, match="no 'image' feature"):
        records.record_image(records.make_example({"label": b"x"}))


def test_a_record_is_reused_whole_unless_its_label_or_path_changed():
    values = dict(class_id=0, label=CLASSES[0], image_size=32, source=b"/photos/daisy/a.jpg")
    previous = records.photo_record(jpeg=b"\xff\xd8jpeg", **values)
    assert records.reuse_record(previous, **values) is previous
    moved = {**values, "class_id": 1, "label": CLASSES[1], "source": b"/photos/roses/a.jpg"}
    assert records.reuse_record(previous, **moved) == records.photo_record(jpeg=b"\xff\xd8jpeg", **moved)


def test_tfrecords_read_back_and_damage_is_refused(tmp_path):
    path = str(tmp_path / "records.gz")
    with tfrecord_files.gzip_tfrecord_writer(path) as writer:
        for record in (b"one", b"", b"three" * 1000):
            writer.write(record)
    assert tfrecord_files.read_tfrecords(path) == [b"one", b"", b"three" * 1000]
    laid_out = (tmp_path / "records.gz").read_bytes()
    in_place = bytearray(laid_out)
    in_place[len(tfrecord_files.GZIP_HEADER) + 5 + 13] ^= 1  # The file's copy of a byte of the first record.
    (tmp_path / "records.gz").write_bytes(bytes(in_place))
    with pytest.raises(ValueError, match="checksum does not match"):
        tfrecord_files.read_tfrecords(path)
    written = gzip.decompress(laid_out)
    flipped = bytearray(written)
    flipped[13] ^= 1  # A byte of the first record's data.
    (tmp_path / "records.gz").write_bytes(gzip.compress(bytes(flipped)))
    with pytest.raises(ValueError, match="checksum does not match"):
        tfrecord_files.read_tfrecords(path)
    (tmp_path / "records.gz").write_bytes(gzip.compress(written[:-3]))
    with pytest.raises(ValueError, match="cut short"):
        tfrecord_files.read_tfrecords(path)
