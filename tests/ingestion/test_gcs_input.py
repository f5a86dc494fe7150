"""The ingest job reading and writing gs:// through Beam's GCS file system, against a local GCS emulator."""

import gzip
import json
import struct

from components import artifacts
from components.ingestion import IngestSettings, run_ingest

BUCKET = "flowers-test"  # The bucket of the gcs_emulator fixture (tests/conftest.py).


def count_tfrecords(data: bytes) -> int:
    """Frames in a GZIP TFRecord file: uint64 length, 4-byte CRC, data, 4-byte CRC."""
    raw, offset, count = gzip.decompress(data), 0, 0
    while offset < len(raw):
        offset += 8 + 4 + struct.unpack_from("<Q", raw, offset)[0] + 4
        count += 1
    assert offset == len(raw)
    return count


def test_ingest_from_and_to_gs(gcs_emulator, tmp_path, make_photo_folder):
    local = tmp_path / "photos"
    make_photo_folder(local, ["daisy", "roses"], per_class=3)
    (local / "roses" / "broken.jpg").write_bytes(b"")
    (local / "roses" / "oversized.jpg").write_bytes((local / "roses" / "photo_000.jpg").read_bytes() + bytes(2**20))
    (local / "tfrecords-jpeg-192x192" / "flowers00.tfrec").parent.mkdir()
    (local / "tfrecords-jpeg-192x192" / "flowers00.tfrec").write_bytes(b"records")
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        gcs_emulator.blob(f"flowers/{path.relative_to(local)}").upload_from_filename(str(path))

    settings = IngestSettings(classes=("daisy", "roses"), image_size=32, eval_fraction=0.5, records_per_shard=250,
                              max_shards=64, max_rejected_fraction=0.5, max_image_pixels=1_000_000,
                              max_file_bytes=2**20, jpeg_quality=95)
    summary = run_ingest(data_root=f"gs://{BUCKET}/flowers", output_dir=f"gs://{BUCKET}/out", settings=settings)

    assert sum(summary["written"]["train"].values()) + sum(summary["written"]["eval"].values()) == 6
    assert summary["rejected_by_reason"] == {"empty file": 1, "file too large": 1} and summary["ignored"] == 1
    manifest = {json.loads(line)["path"]
                for line in gcs_emulator.blob(f"out/{artifacts.REJECTED_FILE}").download_as_text().splitlines()}
    assert manifest == {f"gs://{BUCKET}/flowers/roses/broken.jpg", f"gs://{BUCKET}/flowers/roses/oversized.jpg",
                        f"gs://{BUCKET}/flowers/tfrecords-jpeg-192x192/flowers00.tfrec"}
    shards = {blob.name: count_tfrecords(blob.download_as_bytes())
              for blob in gcs_emulator.client.list_blobs(BUCKET, prefix="out/Split-")}
    assert sorted(shards) == [f"out/Split-{name}/data_tfrecord-0000{i}-of-00002.gz"
                              for name in ("eval", "train") for i in (0, 1)]  # No temporary file left.
    assert sum(shards.values()) == 6


def test_incremental_ingestion_on_gs_equals_a_full_one(gcs_emulator, tmp_path, make_photo_folder, make_photo):
    """Stamps on GCS come from the object listing (size, update time): a rewritten object is decoded again."""
    local = tmp_path / "photos"
    make_photo_folder(local, ["daisy", "roses"], per_class=3)
    for path in sorted(local.rglob("*.jpg")):
        gcs_emulator.blob(f"flowers/{path.relative_to(local)}").upload_from_filename(str(path))
    settings = IngestSettings(classes=("daisy", "roses"), image_size=32, eval_fraction=0.5, max_image_pixels=1_000_000)
    root = f"gs://{BUCKET}/flowers"
    run_ingest(data_root=root, output_dir=f"gs://{BUCKET}/earlier", settings=settings)
    rewritten = make_photo(local / "roses" / "photo_000.jpg", size=(40, 30))
    new = make_photo(local / "daisy" / "new.jpg")
    for path in (rewritten, new):
        gcs_emulator.blob(f"flowers/{path.relative_to(local)}").upload_from_filename(str(path))
    summaries = [run_ingest(data_root=root, output_dir=f"gs://{BUCKET}/{name}", settings=settings,
                            previous_dir=previous)
                 for name, previous in (("incremental", f"gs://{BUCKET}/earlier"), ("full", None))]
    assert [summary["reused"] for summary in summaries] == [5, 0]
    outputs = [{blob.name.split("/", 1)[1]: blob.download_as_bytes()
                for blob in gcs_emulator.client.list_blobs(BUCKET, prefix=f"{name}/")
                if not blob.name.endswith(artifacts.SUMMARY_FILE)} for name in ("incremental", "full")]
    # The rejects and duplicates, and per shard and split a record file and its index.
    assert outputs[0] == outputs[1] and len(outputs[0]) == 2 + 2 * 2 * 2
