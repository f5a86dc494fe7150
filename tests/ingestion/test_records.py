"""Records written without TensorFlow must be exactly what TensorFlow writes and reads."""

import gzip

import tensorflow as tf

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


def test_gzip_tfrecord_frames_read_back_with_tf_data(tmp_path):
    path = tmp_path / "data.gz"
    payloads = [b"", b"x", bytes(range(256)) * 300]
    with gzip.open(path, "wb", compresslevel=tfrecord_files.GZIP_LEVEL) as handle:
        for payload in payloads:
            handle.write(tfrecord_files.tfrecord_frame(payload))
    read = [r.numpy() for r in tf.data.TFRecordDataset(str(path), compression_type="GZIP")]
    assert read == payloads
