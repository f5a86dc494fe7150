"""The anomaly stop on real TFDV anomalies: readable message naming split and feature; silent when clean."""

import pathlib

import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv

import schemas
from components import artifacts
from components.errors import UserError
from components.ingestion.records import photo_record
from components.validation.anomaly_stop import AnomaliesFound, check_anomalies, describe_anomalies

CLASSES = ["daisy", "roses"]


def statistics_of(tmp_path, labels):
    """TFDV statistics of records in the ingestion format with these labels."""
    path = str(tmp_path / f"records-{'-'.join(labels)}.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for label in labels:
            writer.write(photo_record(jpeg=b"\xff\xd8", class_id=CLASSES.index(label) if label in CLASSES else 7,
                                      label=label, image_size=32, source=b"/p.jpg"))
    return tfdv.generate_statistics_from_tfrecord(path)


def write_artifact(tmp_path, anomalies_by_split):
    """Lay anomalies out as ExampleValidator does: one anomalies file in each split's folder."""
    uri = tmp_path / "anomalies"
    for split_name, anomalies in anomalies_by_split.items():
        split_dir = pathlib.Path(artifacts.split_dir(str(uri), split_name))
        split_dir.mkdir(parents=True)
        (split_dir / artifacts.ANOMALIES_FILE).write_bytes(anomalies.SerializeToString())
    return str(uri)


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """(clean, bad) Anomalies of TFDV validating statistics against the derived schema of CLASSES."""
    schema, folder = schemas.derive(CLASSES, 32), tmp_path_factory.mktemp("stats")
    return tuple(tfdv.validate_statistics(statistics_of(folder, labels), schema)
                 for labels in (["daisy", "roses", "roses"], ["daisy", "tulips", "roses"]))


def test_anomalies_stop_with_split_feature_and_description(tmp_path, validated):
    clean, bad = validated
    uri = write_artifact(tmp_path, {"train": clean, "eval": bad})
    with pytest.raises(AnomaliesFound) as raised:
        check_anomalies(uri, ["train", "eval"])
    message = str(raised.value)
    assert isinstance(raised.value, UserError)
    assert "split 'eval', feature 'label'" in message and "tulips" in message
    assert "split 'eval', feature 'class'" in message and "split 'train'" not in message


def test_clean_statistics_pass(tmp_path, validated):
    clean, _ = validated
    assert describe_anomalies({"train": clean}) == []
    check_anomalies(write_artifact(tmp_path, {"train": clean}), ["train"])
