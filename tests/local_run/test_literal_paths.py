"""A pipeline root named like a glob (`runs[1]`) holds artifacts that TFX's executors can still find."""

import tensorflow as tf
from apache_beam.io.filesystems import FileSystems
from tfx.components.util import examples_utils
from tfx.types import artifact_utils, standard_artifacts

from pipeline.local_runner import artifact_folders_read_literally


def _examples_under(root):
    examples = standard_artifacts.Examples()
    examples.uri = str(root / "FileBasedExampleGen" / "examples" / "1")
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    record = root / "FileBasedExampleGen" / "examples" / "1" / "Split-train" / "data_tfrecord-00000-of-00001.gz"
    record.parent.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(record), options="GZIP") as writer:
        writer.write(b"example")
    return examples, str(record)


def test_split_patterns_match_artifacts_under_a_root_with_glob_characters(tmp_path):
    """The patterns StatisticsGen, the Trainer's FnArgs and the Evaluator read; both TF and Beam resolve them."""
    examples, record = _examples_under(tmp_path / "runs[1]")
    [stock] = examples_utils.get_split_file_patterns([examples], "train")
    assert tf.io.gfile.glob(stock) == []  # What made the run fail: `[1]` read as a wildcard.
    with artifact_folders_read_literally():
        [pattern] = examples_utils.get_split_file_patterns([examples], "train")
        assert tf.io.gfile.glob(pattern) == [record]
        assert [m.path for m in FileSystems.match([pattern])[0].metadata_list] == [record]
        assert list(tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")) == [b"example"]
    assert examples_utils.get_split_file_patterns([examples], "train") == [stock]  # Restored afterwards.
