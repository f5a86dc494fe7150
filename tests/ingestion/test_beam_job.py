"""The ingestion Beam job end to end on generated folders: outputs, manifest, record format, failures."""

import dataclasses
import json
import os
import shutil
import time

import apache_beam as beam
import pytest
import tensorflow as tf

from components import artifacts
from components.errors import UserError
from components.ingestion import IngestSettings, beam_job, image, read_ingest_summary, run_ingest, sources

CLASSES = ["daisy", "roses"]
SETTINGS = IngestSettings(classes=tuple(CLASSES), image_size=32, eval_fraction=0.5, records_per_shard=250,
                          max_shards=64, max_rejected_fraction=0.5, max_image_pixels=50_000,
                          max_file_bytes=1_000_000, jpeg_quality=95)
CODELAB_SPEC = {
    "image": tf.io.FixedLenFeature([], tf.string),
    "class": tf.io.FixedLenFeature([], tf.int64),
    "label": tf.io.FixedLenFeature([], tf.string),
    "size": tf.io.FixedLenFeature([2], tf.int64),
    "source": tf.io.FixedLenFeature([], tf.string),
}


def salted_folder(root, make_photo_folder, make_photo, photo_image, image_bytes):
    """6 good photos per class, 5 more good ones in odd dress (two are copies), one file of each bad kind (a
    broken symlink and a FIFO too), 5 ignored paths, and a symlink loop that must not hang the listing.

    Returns {relative path: expected rejection or ignore reason}.
    """
    make_photo_folder(root, CLASSES, per_class=6)
    make_photo(root / "daisy" / "renamed_png.jpg", fmt="PNG")
    make_photo(root / "daisy" / "UPPER.JPEG")
    make_photo(root / "roses" / "phone.avif", fmt="AVIF")
    shutil.copyfile(root / "daisy" / "photo_000.jpg", root / "daisy" / "duplicate.jpg")
    shutil.copyfile(root / "daisy" / "photo_001.jpg", root / "roses" / "also_in_daisy.jpg")  # Conflicting labels.
    bad = {
        "daisy/empty.jpg": b"",
        "daisy/notes.jpg": b"not a photo at all\n",
        "roses/truncated.jpg": image_bytes(photo_image("t", (64, 64)))[:400],
        "roses/huge.png": image_bytes(photo_image("h", (400, 300)), "PNG"),
        "roses/oversized.jpg": image_bytes(photo_image("o")) + bytes(SETTINGS.max_file_bytes),
        "daisy/readme.txt": b"text",
        "daisy/nested/deep.jpg": image_bytes(photo_image("d")),
        "tulips/other_class.jpg": image_bytes(photo_image("o")),
        "LICENSE.txt": b"CC-BY",
        ".DS_Store": b"\0\0\0\1Bud1",  # Hidden files are listed (and reported) like any other.
    }
    for relative, data in bad.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    (root / "roses" / "broken_link.jpg").symlink_to(root / "gone.jpg")
    os.mkfifo(root / "daisy" / "pipe.jpg")  # Opening it for reading would block forever.
    (root / "daisy" / "loop").symlink_to(root, target_is_directory=True)
    return dict(zip([*bad, "roses/broken_link.jpg", "daisy/pipe.jpg"],
                    [image.EMPTY_FILE, image.NOT_AN_IMAGE, image.CORRUPT, image.TOO_MANY_PIXELS,
                     image.FILE_TOO_LARGE, sources.IGNORED_EXTENSION, sources.IGNORED_NESTED,
                     sources.IGNORED_NOT_CLASS, sources.IGNORED_OUTSIDE_CLASS, sources.IGNORED_OUTSIDE_CLASS,
                     image.UNREADABLE, image.UNREADABLE]))


@pytest.fixture(scope="module")
def salted_run(tmp_path_factory, make_photo_folder, make_photo, photo_image, image_bytes):
    root = tmp_path_factory.mktemp("salted") / "photos"
    expected = salted_folder(root, make_photo_folder, make_photo, photo_image, image_bytes)
    out = tmp_path_factory.mktemp("out") / "ingest"
    summary = run_ingest(data_root=str(root), output_dir=str(out), settings=SETTINGS)
    return root, out, summary, expected


def read_records(out, split_name):
    files = sorted(str(p) for p in (out / f"{artifacts.SPLIT_PREFIX}{split_name}").glob("*.gz"))
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return files, [tf.io.parse_single_example(r, CODELAB_SPEC) for r in dataset]


def test_counts_add_up(salted_run):
    _, _, summary, _ = salted_run
    written = sum(n for per_class in summary["written"].values() for n in per_class.values())
    assert written == 17 and summary["rejected"] == 7 and summary["ignored"] == 5
    assert summary["seen"] == written + summary["rejected"]
    assert summary["rejected_by_reason"] == {image.EMPTY_FILE: 1, image.NOT_AN_IMAGE: 1, image.CORRUPT: 1,
                                             image.TOO_MANY_PIXELS: 1, image.FILE_TOO_LARGE: 1,
                                             image.UNREADABLE: 2}
    assert {label: summary["written"]["train"][label] + summary["written"]["eval"][label]
            for label in CLASSES} == {"daisy": 9, "roses": 8}


def test_byte_identical_photos_are_reported_with_their_labels(salted_run):
    root, out, summary, _ = salted_run
    assert summary["duplicates"] == {"groups": 2, "extra_copies": 2, "groups_with_conflicting_labels": 1}
    groups = sorted((json.loads(line) for line in (out / artifacts.DUPLICATES_FILE).read_text().splitlines()),
                    key=lambda group: group["paths"])
    assert [(group["paths"], group["labels"]) for group in groups] == [
        ([str(root / "daisy" / "duplicate.jpg"), str(root / "daisy" / "photo_000.jpg")], ["daisy"]),
        ([str(root / "daisy" / "photo_001.jpg"), str(root / "roses" / "also_in_daisy.jpg")], ["daisy", "roses"])]


def test_every_bad_or_ignored_path_is_in_the_manifest(salted_run):
    root, out, _, expected = salted_run
    lines = [json.loads(line) for line in (out / artifacts.REJECTED_FILE).read_text().splitlines()]
    assert {(entry["path"], entry["reason"]) for entry in lines} == {
        (str(root / relative), reason) for relative, reason in expected.items()}


def test_records_parse_with_the_codelab_spec_and_match_the_summary(salted_run):
    root, out, summary, _ = salted_run
    sources_by_split = {}
    for split_name in ("train", "eval"):
        files, parsed = read_records(out, split_name)
        assert len(files) == 2  # Several shards per split, even on a small folder.
        assert len(parsed) == sum(summary["written"][split_name].values())
        for record in parsed:
            label = record["label"].numpy().decode()
            assert CLASSES[int(record["class"])] == label
            assert record["size"].numpy().tolist() == [32, 32]
            assert tf.io.decode_jpeg(record["image"]).shape == (32, 32, 3)
            assert record["source"].numpy().decode().startswith(str(root / label))
        sources_by_split[split_name] = {r["source"].numpy().decode() for r in parsed}
    daisy = root / "daisy"
    assert [name for name, paths in sources_by_split.items() if str(daisy / "duplicate.jpg") in paths] == \
        [name for name, paths in sources_by_split.items() if str(daisy / "photo_000.jpg") in paths]
    assert str(daisy / "renamed_png.jpg") in sources_by_split["train"] | sources_by_split["eval"]


def test_shard_count():
    assert beam_job.shard_count(0, 250, 64) == 1
    assert beam_job.shard_count(1, 250, 64) == 1
    assert beam_job.shard_count(12, 250, 64) == 2
    assert beam_job.shard_count(2936, 250, 64) == 12
    assert beam_job.shard_count(1_000_000, 250, 64) == 64


def test_a_packed_shard_is_the_shard_and_a_fraction_of_its_listing(tmp_path):
    photos = [(f"gs://bucket/flowers/{label}/photo_{number:05d} ü.jpg", label)
              for number in range(2000) for label in ("daisy", "roses")]
    shard = beam_job.Shard(3, 64, photos)
    packed = beam_job.pack_shard(shard)
    assert beam_job.unpack_shard(packed) == shard
    assert len(packed) < len(json.dumps(photos)) / 5


def test_unreadable_and_vanished_files_are_rejected(tmp_path, make_photo_folder, make_photo):
    """A permission-denied file (when not root) and a file deleted after listing: reported, job goes on."""
    root = tmp_path / "photos"
    make_photo_folder(root, CLASSES, per_class=2)
    vanished = str(root / "daisy" / "vanished.jpg")
    paths = [(str(p), p.parent.name) for p in sorted(root.glob("*/*.jpg"))] + [(vanished, "daisy")]
    if os.geteuid() != 0:
        locked = make_photo(root / "roses" / "locked.jpg")
        locked.chmod(0)
        paths.append((str(locked), "roses"))
    with beam.Pipeline() as pipeline:
        beam_job.build_graph(pipeline, sources.Listing(paths, []), SETTINGS, str(tmp_path / "out"))
    summary = read_ingest_summary(str(tmp_path / "out"))
    assert summary["rejected_by_reason"] == {image.UNREADABLE: len(paths) - 4}
    assert summary["seen"] == len(paths)


def test_non_utf8_file_names_are_written_rejected_and_ignored_by_their_own_bytes(tmp_path, make_photo_folder):
    """Latin-1 names, as old cameras and zips write them: a photo, a broken file and an ignored file."""
    root = tmp_path / "photos"
    make_photo_folder(root, CLASSES, per_class=2)
    raw_name = os.fsencode(root / "daisy") + b"/caf\xe9.jpg"
    shutil.copyfile(root / "daisy" / "photo_000.jpg", raw_name)
    broken, ignored = os.fsencode(root / "roses") + b"/ros\xe9.jpg", os.fsencode(root / "roses") + b"/not\xe9.txt"
    for path in (broken, ignored):
        with open(path, "wb") as handle:
            handle.write(b"not a photo")
    summary = run_ingest(data_root=str(root), output_dir=str(tmp_path / "out"), settings=SETTINGS)
    assert (summary["seen"], summary["rejected"], summary["ignored"]) == (6, 1, 1)
    written = [r["source"].numpy() for name in ("train", "eval") for r in read_records(tmp_path / "out", name)[1]]
    assert raw_name in written
    manifest = [json.loads(line) for line in (tmp_path / "out" / artifacts.REJECTED_FILE).read_text().splitlines()]
    assert {os.fsencode(entry["path"]): entry["reason"] for entry in manifest} == {
        broken: image.NOT_AN_IMAGE, ignored: sources.IGNORED_EXTENSION}


@pytest.mark.parametrize("odd", ["run[1]", "photos*", "what?"])
def test_glob_characters_in_the_data_root_and_output_dir_are_plain_names(tmp_path, make_photo_folder, odd):
    """Paths are data, not patterns: Beam's WriteToText and match used to read `[1]` as a wildcard."""
    root = tmp_path / odd / "photos"
    make_photo_folder(root, CLASSES, per_class=2)
    (root / "roses" / "notes.txt").write_text("ignored")
    out = tmp_path / odd / "out"
    summary = run_ingest(data_root=str(root), output_dir=str(out), settings=SETTINGS)
    assert (summary["seen"], summary["ignored"]) == (4, 1)
    assert sum(len(read_records(out, name)[1]) for name in ("train", "eval")) == 4
    assert [json.loads(line)["path"] for line in (out / artifacts.REJECTED_FILE).read_text().splitlines()] == [
        str(root / "roses" / "notes.txt")]
    with pytest.raises(UserError, match="already holds ingest output"):
        run_ingest(data_root=str(root), output_dir=str(out), settings=SETTINGS)


def test_no_valid_photo(tmp_path):
    for label in CLASSES:
        (tmp_path / "photos" / label).mkdir(parents=True)
        (tmp_path / "photos" / label / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(UserError, match=r"no valid photo: all 2 photo\(s\) were rejected"):
        run_ingest(data_root=str(tmp_path / "photos"), output_dir=str(tmp_path / "out"), settings=SETTINGS)


def test_an_empty_split_fails_naming_it(tmp_path, make_photo):
    """Copies of one photo share a split, so the other one stays empty: no model could be evaluated."""
    photo = make_photo(tmp_path / "photo.jpg")
    for label in CLASSES:
        (tmp_path / "photos" / label).mkdir(parents=True)
        for copy in range(3):
            shutil.copyfile(photo, tmp_path / "photos" / label / f"copy_{copy}.jpg")
    with pytest.raises(UserError, match=r"the (train|eval) split is empty: all 6 written photo\(s\) went to"):
        run_ingest(data_root=str(tmp_path / "photos"), output_dir=str(tmp_path / "out"), settings=SETTINGS)


def test_class_without_any_photo_fails_before_the_job(tmp_path, make_photo_folder):
    make_photo_folder(tmp_path / "photos", ["daisy"], per_class=2)
    (tmp_path / "photos" / "roses").mkdir()
    (tmp_path / "photos" / "roses" / "notes.txt").write_text("no photos here")
    start = time.monotonic()
    with pytest.raises(UserError, match="roses have no photo"):
        run_ingest(data_root=str(tmp_path / "photos"), output_dir=str(tmp_path / "out"), settings=SETTINGS)
    assert time.monotonic() - start < 10 and not (tmp_path / "out").exists()


def test_class_whose_photos_are_all_rejected(tmp_path, make_photo_folder):
    make_photo_folder(tmp_path / "photos", ["daisy"], per_class=8)
    (tmp_path / "photos" / "roses").mkdir()
    (tmp_path / "photos" / "roses" / "empty.jpg").write_bytes(b"")
    with pytest.raises(UserError, match=r"(?s)roses have no valid photo.*empty\.jpg \(empty file\)"):
        run_ingest(data_root=str(tmp_path / "photos"), output_dir=str(tmp_path / "out"), settings=SETTINGS)


def test_too_many_rejects(tmp_path, make_photo_folder):
    make_photo_folder(tmp_path / "photos", CLASSES, per_class=4)
    (tmp_path / "photos" / "daisy" / "zero.jpg").write_bytes(b"")
    settings = dataclasses.replace(SETTINGS, max_rejected_fraction=0.1)
    with pytest.raises(UserError, match=r"1 of 9 photos \(11.1%\) were rejected.*max_rejected_fraction"):
        run_ingest(data_root=str(tmp_path / "photos"), output_dir=str(tmp_path / "out"), settings=settings)


def test_refuses_to_mix_with_an_earlier_output(salted_run):
    root, out, _, _ = salted_run
    with pytest.raises(UserError, match="already holds ingest output"):
        run_ingest(data_root=str(root), output_dir=str(out), settings=SETTINGS)


def test_missing_local_root_says_how_to_fix(tmp_path):
    with pytest.raises(UserError, match="DATA_ROOT"):
        sources.check_data_root(str(tmp_path / "nowhere"), CLASSES)


def test_unreachable_gcs_fails_in_seconds(monkeypatch):
    """No network (here: an emulator address nobody listens on) must not mean minutes of client retries."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    start = time.monotonic()
    with pytest.raises(UserError, match=r"(?s)cannot reach Google Cloud Storage.*--data-root"):
        sources.check_data_root("gs://flowers-public", CLASSES)
    assert time.monotonic() - start < 10
