"""The one DAG every runner shares: `create_pipeline(config)`.

photos -> ingestion -> StatisticsGen -> ImportSchemaGen -> ExampleValidator -> anomaly stop -> Trainer
       -> label drift check (against the blessed model's training statistics) -> drift stop -^
       -> Resolver (baseline: latest blessed model other than the candidate) -> Evaluator (TFMA gate)
       -> EdgeExport (TFLite float16 and int8 of a blessed model, measured on the eval split) -> Pusher
"""

from __future__ import annotations

import dataclasses
import json

from tfx import v1 as tfx

from components.edge import EdgeExport
from components.evaluation import BaselineResolver, LatestBlessedModelResolver, make_eval_config
from components.ingestion import IngestSettings, make_example_gen
from components.push import AtomicPusher
from components.training import TRAINER_RUN_FN, trainer_custom_config
from components.validation import AnomalyStop, BaselineStatisticsResolver, LabelDriftCheck, LabelDriftStop
from components.validation.label_drift import NO_BLESSED_MODEL
from pipeline_config import PipelineConfig


def create_pipeline(config: PipelineConfig, *, schema_file: str, metadata_connection_config=None,
                    beam_pipeline_args: list[str] | None = None, make_trainer=None, make_pusher=None,
                    make_baseline_resolver=None, drift_baseline_unavailable: str = "") -> tfx.dsl.Pipeline:
    """Turn the config into the component graph; runners only choose where it executes.

    It writes no file: the runner passes `schema_file`, the curated schema or the copy it derived for other
    classes or image sizes. `make_trainer`, `make_pusher` and `make_baseline_resolver` let a runner swap in the
    cloud variants (Vertex custom job, Model Registry push, the stock resolver Vertex compiles), called with the
    local ones' arguments. `drift_baseline_unavailable` says why a runner cannot look up the drift check's
    baseline (its lineage resolver does not compile there); empty = look it up.
    """
    data = config.data
    example_gen = make_example_gen(data_root=data.data_root,
                                   settings=IngestSettings.from_dict(data.to_dict()))
    examples = example_gen.outputs["examples"]
    statistics_gen = tfx.components.StatisticsGen(examples=examples)
    schema_gen = tfx.components.ImportSchemaGen(schema_file=schema_file)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    anomaly_stop = AnomalyStop(anomalies=example_validator.outputs["anomalies"])
    drift_baseline = None if drift_baseline_unavailable else BaselineStatisticsResolver().with_id(
        "drift_baseline_resolver")
    drift_check = LabelDriftCheck(
        statistics=statistics_gen.outputs["statistics"], max_label_drift=config.validation.max_label_drift,
        baseline_statistics=drift_baseline.outputs["statistics"] if drift_baseline else None,
        no_baseline_reason=drift_baseline_unavailable or NO_BLESSED_MODEL)
    drift_stop = LabelDriftStop(comparison=drift_check.outputs["comparison"])

    # Only when asked: its output changes with every blessing, which would defeat the Trainer's cache.
    warm_start = LatestBlessedModelResolver().with_id("warm_start_resolver") if config.training.warm_start else None
    trainer_args = dict(
        examples=examples,
        schema=schema_gen.outputs["schema"],
        run_fn=TRAINER_RUN_FN,
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
        custom_config=trainer_custom_config(dataclasses.asdict(config.training), list(data.classes),
                                            data.image_size, data.max_image_pixels),
        base_model=warm_start.outputs["model"] if warm_start else None,
    )
    trainer_component = (make_trainer or tfx.components.Trainer)(**trainer_args)
    trainer_component.add_upstream_node(anomaly_stop)  # Never train on data the validator flagged,
    trainer_component.add_upstream_node(drift_stop)  # nor on a label mix unlike the model in service's.

    baseline = (make_baseline_resolver or BaselineResolver)(
        candidate=trainer_component.outputs["model"]).with_id("baseline_resolver")
    evaluator = tfx.components.Evaluator(
        examples=examples,
        model=trainer_component.outputs["model"],
        baseline_model=baseline.outputs["model"],
        example_splits=["eval"],
        eval_config=make_eval_config(list(data.classes), config.gate.min_accuracy, config.gate.max_accuracy_drop),
    )
    edge_export = EdgeExport(model=trainer_component.outputs["model"], examples=examples,
                             blessing=evaluator.outputs["blessing"], classes_json=json.dumps(list(data.classes)),
                             max_int8_drop=config.gate.max_tflite_drop)
    push_args = dict(model=trainer_component.outputs["model"], model_blessing=evaluator.outputs["blessing"],
                     edge_model=edge_export.outputs["edge_model"], examples=examples,  # The last three: the card.
                     model_run=trainer_component.outputs["model_run"], model_evaluation=evaluator.outputs["evaluation"],
                     pipeline_root=config.pipeline_root,
                     push_destination=tfx.proto.PushDestination(
                         filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.serving_dir)))
    pusher_component = (make_pusher or AtomicPusher)(**push_args)

    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=[node for node in (example_gen, statistics_gen, schema_gen, example_validator, anomaly_stop,
                                      drift_baseline, drift_check, drift_stop, warm_start, trainer_component,
                                      baseline, evaluator, edge_export, pusher_component) if node],
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args or [],
    )
