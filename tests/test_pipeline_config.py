"""The config: defaults, overrides by dotted name and environment, and errors that name the field."""

import pytest

import pipeline_config
from pipeline_config import ConfigError, PipelineConfig, load_config


def test_defaults_are_the_codelab_setup_on_the_bundled_sample():
    config = load_config(environ={})
    assert config.data.classes == ("daisy", "dandelion", "roses", "sunflowers", "tulips")
    assert config.data.image_size == 192
    assert config.data.data_root.endswith("data/sample_flowers")
    assert config.metadata_path == "runs/pipeline/metadata.sqlite"
    assert config.gate.max_tflite_drop == 0.02


def test_dotted_overrides_are_parsed_to_the_field_type():
    config = load_config({"training.epochs": "3", "data.classes": "a, b", "enable_cache": "false",
                          "gate.min_accuracy": "0.5"}, environ={})
    assert config.training.epochs == 3
    assert config.data.classes == ("a", "b")
    assert config.enable_cache is False
    assert config.gate.min_accuracy == 0.5


def test_environment_applies_and_explicit_overrides_win():
    environ = {"FLOWERS_TRAINING_EPOCHS": "4", "FLOWERS_DATA_IMAGE_SIZE": "64", "HOME": "/root"}
    config = load_config({"training.epochs": "2"}, environ=environ)
    assert (config.training.epochs, config.data.image_size) == (2, 64)


@pytest.mark.parametrize("overrides, field", [
    ({"training.epoch": "3"}, "training.epoch"),
    ({"training.epochs": "three"}, "training.epochs"),
    ({"training.epochs": "0"}, "training.epochs"),
    ({"data.eval_fraction": "1.5"}, "data.eval_fraction"),
    ({"data.classes": "daisy"}, "data.classes"),
    ({"data.max_file_bytes": "0"}, "data.max_file_bytes"),
    ({"training.epochs": "2", "training.warmup_epochs": "3"}, "training.warmup_epochs"),
    ({"training.accelerator": "fpga"}, "training.accelerator"),
    ({"enable_cache": "maybe"}, "enable_cache"),
    ({"pipeline_name": "my pipeline"}, "pipeline_name"),
    ({"training.learning_rate": "inf"}, "training.learning_rate"),
    ({"training.learning_rate": "1e309"}, "training.learning_rate"),  # Parses to inf.
    ({"training.learning_rate": "nan"}, "training.learning_rate"),
    ({"training.learning_rate": "50"}, "training.learning_rate"),
    ({"training.fine_tune_learning_rate": "-inf"}, "training.fine_tune_learning_rate"),
    ({"training.seed": "-1"}, "training.seed"),
    ({"training.seed": str(2**32)}, "training.seed"),
    ({"training.alpha": "nan"}, "training.alpha"),
    ({"gate.min_accuracy": "nan"}, "gate.min_accuracy"),
    ({"gate.max_accuracy_drop": "inf"}, "gate.max_accuracy_drop"),
    ({"data.eval_fraction": "nan"}, "data.eval_fraction"),
    ({"data.max_rejected_fraction": "nan"}, "data.max_rejected_fraction"),
    ({"training.dropout": "nan"}, "training.dropout"),
    ({"training.lr_decay": "nan"}, "training.lr_decay"),
    ({"gate.max_tflite_drop": "-0.1"}, "gate.max_tflite_drop"),
])
def test_invalid_values_fail_naming_the_field(overrides, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_config(overrides, environ={})


def test_unknown_environment_variable_is_an_error():
    with pytest.raises(ConfigError, match="FLOWERS_TRAINING_EPOCH"):
        load_config(environ={"FLOWERS_TRAINING_EPOCH": "3"})


def test_every_field_has_a_unique_environment_variable():
    names = pipeline_config.field_names()
    assert len({pipeline_config.env_var_name(n) for n in names}) == len(names)


def test_malformed_assignment_is_explained():
    with pytest.raises(ConfigError, match="FIELD=VALUE"):
        pipeline_config.parse_assignments(["training.epochs"])


def test_construction_validates():
    with pytest.raises(ConfigError, match="data.image_size"):
        PipelineConfig(data=pipeline_config.DataConfig(image_size=8))


def test_one_epoch_is_valid_with_the_default_warm_up():
    """`--epochs 1` must not trip over the default one-epoch warm-up the user never set."""
    assert load_config({"training.epochs": "1"}, environ={}).training.warmup_epochs == 1


def test_every_float_setting_refuses_infinity_and_nan():
    """One check covers every float field, present and future: `x > 0` alone lets inf and nan through."""
    import typing

    floats = [name for name in pipeline_config.field_names() if "." in name
              and typing.get_type_hints(type(getattr(PipelineConfig(), name.split(".")[0])))[name.split(".")[1]]
              is float]
    assert {"training.learning_rate", "training.alpha", "gate.min_accuracy", "data.eval_fraction"} <= set(floats)
    for name in floats:
        for value in ("inf", "-inf", "nan"):
            with pytest.raises(ConfigError, match=rf"{name.replace('.', '[.]')}: must be a finite number"):
                load_config({name: value}, environ={})


def test_python_values_of_the_wrong_type_are_refused():
    config = PipelineConfig()
    with pytest.raises(ConfigError, match="training.epochs: must be an int"):
        config.with_overrides({"training.epochs": 2.5})
    with pytest.raises(ConfigError, match="training.learning_rate: must be a finite number"):
        config.with_overrides({"training.learning_rate": float("inf")})
