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
    ({"training.model_options.mobilenet_v2.alpha": "nan"}, "training.model_options.mobilenet_v2.alpha"),
    ({"gate.min_accuracy": "nan"}, "gate.min_accuracy"),
    ({"gate.max_accuracy_drop": "inf"}, "gate.max_accuracy_drop"),
    ({"data.eval_fraction": "nan"}, "data.eval_fraction"),
    ({"data.max_rejected_fraction": "nan"}, "data.max_rejected_fraction"),
    ({"training.model_options.mobilenet_v2.dropout": "nan"}, "training.model_options.mobilenet_v2.dropout"),
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
    names = pipeline_config.field_names() + pipeline_config.model_option_names()
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

    from components.training import models

    floats = [name for name in pipeline_config.field_names() if "." in name
              and typing.get_type_hints(type(getattr(PipelineConfig(), name.split(".")[0])))[name.split(".")[1]]
              is float]
    floats += [name for name in pipeline_config.model_option_names()
               if models.option_types(name.split(".")[2])[name.split(".")[3]] is float]
    assert {"training.learning_rate", "training.model_options.mobilenet_v2.alpha", "gate.min_accuracy",
            "data.eval_fraction"} <= set(floats)
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


def test_a_model_option_is_set_by_its_dotted_name_or_environment_variable():
    environ = {"FLOWERS_TRAINING_MODEL_OPTIONS_MOBILENET_V2_DROPOUT": "0.1"}
    config = load_config({"training.model_options.mobilenet_v2.alpha": "0.5"}, environ=environ)
    assert config.training.model_options == {"mobilenet_v2": {"alpha": 0.5, "dropout": 0.1}}
    assert (config.training.options().alpha, config.training.options().dropout) == (0.5, 0.1)


@pytest.mark.parametrize("overrides, message", [
    ({"training.model_options.mobilenet_v2.width": "1"}, "the options of mobilenet_v2 are: weights, alpha"),
    ({"training.model_options.squeezenet.weights": "none"}, "the options of squeezenet are: none"),
    ({"training.model_options.resnet.depth": "50"}, "unknown model 'resnet'"),
    ({"training.model_options.mobilenet_v2.alpha": "3"}, "training.model_options.mobilenet_v2.alpha: must be 0"),
    ({"training.model_options.mobilenet_v2.weights": ""}, "training.model_options.mobilenet_v2.weights: must be"),
])
def test_bad_model_options_fail_naming_the_option(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides, environ={})


def test_default_settings_need_no_tensorflow():
    """The models (and TensorFlow) are imported only where a model option is set."""
    import subprocess
    import sys

    code = "import sys, pipeline_config; pipeline_config.load_config(environ={}); print('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_training_settings_from_json_coerce_struct_floats_and_validate():
    """What `run_fn` receives: a protobuf Struct (Vertex) carries every number as a float."""
    from components.training.settings import TrainingSettings

    settings = TrainingSettings.from_dict({"epochs": 3.0, "learning_rate": 1, "model_options": {}, "seed": 7.0})
    assert (settings.epochs, settings.learning_rate, settings.seed) == (3, 1.0, 7)
    assert isinstance(settings.epochs, int) and isinstance(settings.learning_rate, float)
    for values, message in [({"epochs": 2.5}, "training.epochs: must be an int"),
                            ({"epochs": 0}, "training.epochs: must be at least 1"),
                            ({"epoch": 3}, "training.epoch: unknown setting"),
                            ({"model_options": {"mobilenet_v2": {"alpha": "x"}}},
                             "training.model_options.mobilenet_v2.alpha: must be a number")]:
        with pytest.raises(ConfigError, match=message):
            TrainingSettings.from_dict(values)


@pytest.mark.parametrize("field, value", [
    ("training.epochs", "1_0_0"), ("training.epochs", " 3"), ("training.epochs", "3.0"), ("training.epochs", "0x10"),
    ("gate.min_accuracy", "0_5"), ("gate.min_accuracy", "0.5 "), ("training.epochs", "٣"),  # an Arabic-Indic 3
])
def test_numbers_take_plain_decimal_forms_only(field, value):
    """Issue 20, row 14: Python's int() and float() accept `1_0_0`, padding and other scripts' digits."""
    with pytest.raises(ConfigError, match=rf"{field.replace('.', '[.]')}: .* is not a plain decimal"):
        load_config({field: value}, environ={})


@pytest.mark.parametrize("field, value", [("gate.min_accuracy", "-0"), ("gate.min_accuracy", "-0.0"),
                                          ("training.seed", "-0"), ("gate.max_accuracy_drop", "-0e3")])
def test_a_negative_zero_is_refused(field, value):
    with pytest.raises(ConfigError, match=rf"{field.replace('.', '[.]')}: '{value}' is a negative zero; write 0"):
        load_config({field: value}, environ={})


def test_plain_numbers_still_parse():
    config = load_config({"training.epochs": "+12", "gate.min_accuracy": ".75", "training.learning_rate": "1E-3",
                          "gate.max_accuracy_drop": "0"}, environ={})
    assert (config.training.epochs, config.gate.min_accuracy, config.training.learning_rate,
            config.gate.max_accuracy_drop) == (12, 0.75, 0.001, 0.0)
