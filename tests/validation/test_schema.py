"""The curated schema file and the copies derived from it for other classes or image sizes."""

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

import schemas
from pipeline_config import CODELAB_CLASSES


def features(schema):
    return {feature.name: feature for feature in schema.feature}


def test_curated_schema_describes_the_codelab_records():
    curated = features(schemas.load_curated())
    assert curated["image"].HasField("image_domain") and curated["image"].type == schema_pb2.BYTES
    assert (curated["class"].int_domain.min, curated["class"].int_domain.max) == (0, len(CODELAB_CLASSES) - 1)
    assert tuple(curated["label"].string_domain.value) == CODELAB_CLASSES
    assert [d.size for d in curated["size"].shape.dim] == [2]
    assert curated["source"].type == schema_pb2.BYTES


def test_codelab_settings_use_the_curated_file_itself(tmp_path):
    assert schemas.schema_file(CODELAB_CLASSES, 192, str(tmp_path)) == schemas.CURATED_FILE
    assert not list(tmp_path.iterdir())


def test_other_classes_get_a_derived_copy_with_adjusted_domains(tmp_path):
    path = schemas.schema_file(["cats", "dogs", "owls"], 128, str(tmp_path))
    assert path.startswith(str(tmp_path)) and path == schemas.schema_file(["cats", "dogs", "owls"], 128, str(tmp_path))
    with open(path) as handle:
        derived = features(text_format.Parse(handle.read(), schema_pb2.Schema()))
    assert derived["class"].int_domain.max == 2
    assert list(derived["label"].string_domain.value) == ["cats", "dogs", "owls"]
    assert derived["size"].int_domain.min == derived["size"].int_domain.max == 128
    assert derived["image"].HasField("image_domain")  # Everything else comes from the curated file.
    assert schemas.schema_file(["cats", "dogs"], 128, str(tmp_path)) != path
