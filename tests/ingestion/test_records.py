"""Records written without TensorFlow must be exactly what TensorFlow writes and reads."""

import gzip

import apache_beam as beam
import pytest
import tensorflow as tf
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.testing.util import assert_that, equal_to

from components.ingestion import records, tfrecord_files


def test_example_bytes_equal_tensorflow_serialization():
    features = {"image": b"\xff\xd8jpeg", "class": 3, "label": b"roses", "size": [192, 192], "source": b"/a/b.jpg",
                "negative": -7}
    expected = tf.train.Example(features=tf.train.Features(feature={
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"\xff\xd8jpeg"])),
        "class": tf.train.Feature(int64_list=tf.train.Int64List(value=[3])),
        "label": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"roses"])),
        "size": tf.train.Feature(int64_list=tf.train.Int64List(value=[192, 192])),
        "source": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"/a/b.jpg"])),
        "negative": tf.train.Feature(int64_list=tf.train.Int64List(value=[-7])),
    }))
    assert records.make_example(features) == expected.SerializeToString(deterministic=True)


def test_gzip_tfrecord_files_read_back_with_tf_data_and_beam(tmp_path):
    path = str(tmp_path / "data.gz")
    payloads = [b"", b"x", bytes(range(256)) * 300, b"y" * (2 * tfrecord_files.STORED_BLOCK_BYTES - 16)]
    with tfrecord_files.gzip_tfrecord_writer(path) as writer:
        for payload in payloads:
            writer.write(payload)
    assert [r.numpy() for r in tf.data.TFRecordDataset(path, compression_type="GZIP")] == payloads
    assert gzip.decompress((tmp_path / "data.gz").read_bytes()) == b"".join(map(tfrecord_files.tfrecord_frame,
                                                                                  payloads))
    with beam.Pipeline() as pipeline:
        read = pipeline | beam.io.ReadFromTFRecord(path, compression_type=CompressionTypes.GZIP)
        assert_that(read | beam.combiners.ToList(), equal_to([payloads]))


def test_copied_records_give_the_bytes_their_writing_gave(tmp_path):
    payloads = [b"first", bytes(range(256)) * 600, b"", b"last" * 20_000]  # One frame spans three blocks.
    with tfrecord_files.gzip_tfrecord_writer(str(tmp_path / "written.gz")) as writer:
        for payload in payloads:
            writer.write(payload)
    stored = tfrecord_files.read_stored_records(str(tmp_path / "written.gz"))
    assert [bytes(item.record) for item in stored] == payloads
    with tfrecord_files.gzip_tfrecord_writer(str(tmp_path / "copied.gz")) as writer:
        writer.copy(stored[1])
        writer.write(payloads[0])
        writer.copy(stored[3])
    with tfrecord_files.gzip_tfrecord_writer(str(tmp_path / "rewritten.gz")) as writer:
        for payload in (payloads[1], payloads[0], payloads[3]):
            writer.write(payload)
    assert (tmp_path / "copied.gz").read_bytes() == (tmp_path / "rewritten.gz").read_bytes()


def test_another_writers_gzip_file_is_read_and_its_records_copied_in_this_layout(tmp_path):
    payloads = [b"one", bytes(range(256)) * 300]
    with gzip.open(tmp_path / "other.gz", "wb", compresslevel=6) as handle:
        handle.write(b"".join(map(tfrecord_files.tfrecord_frame, payloads)))
    stored = tfrecord_files.read_stored_records(str(tmp_path / "other.gz"))
    with tfrecord_files.gzip_tfrecord_writer(str(tmp_path / "copied.gz")) as writer:
        for item in stored:
            writer.copy(item)
    with tfrecord_files.gzip_tfrecord_writer(str(tmp_path / "written.gz")) as writer:
        for payload in payloads:
            writer.write(payload)
    assert (tmp_path / "copied.gz").read_bytes() == (tmp_path / "written.gz").read_bytes()
    (tmp_path / "junk.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="not a GZIP file"):
        tfrecord_files.read_stored_records(str(tmp_path / "junk.gz"))


