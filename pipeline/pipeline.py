"""The one DAG every runner shares: `create_pipeline(config)`.

photos -> ingestion -> StatisticsGen -> ImportSchemaGen -> ExampleValidator -> anomaly stop -> Trainer
       -> label drift check (against the latest recorded label mix) -> drift stop -^
       -> Resolver (baseline: latest blessed model other than the candidate) -> Evaluator (TFMA gate)
       -> EdgeExport (TFLite float16 and int8 of a blessed model, measured on the eval split) -> Pusher
                  Evaluator -> if blessed: this run's label mix recorded, the drift baseline of later runs
"""

from __future__ import annotations

import dataclasses
import json

from tfx import v1 as tfx

from components.edge import EdgeExport
from components.evaluation import BaselineResolver, LatestBlessedModelResolver, make_eval_config
from components.ingestion import IngestSettings, PreviousExamplesResolver, make_example_gen
from components.push import AtomicPusher
from components.training import TRAINER_RUN_FN, trainer_custom_config
from components.validation import (AnomalyStop, DriftBaselineResolver, LabelDriftCheck, LabelDriftStop,
                                   record_when_blessed)
from components.validation.drift_baseline import BASELINE_KEY
from pipeline_config import PipelineConfig


def create_pipeline(config: PipelineConfig, *, schema_file: str, metadata_connection_config=None,
                    beam_pipeline_args: list[str] | None = None, make_trainer=None, make_pusher=None,
                    make_baseline_resolver=None, make_drift_baseline_resolver=None) -> tfx.dsl.Pipeline:
    """Turn the config into the component graph; runners only choose where it executes.

    It writes no file: the runner passes `schema_file`, the curated schema or the copy it derived for other
    classes or image sizes. `make_trainer`, `make_pusher`, `make_baseline_resolver` and
    `make_drift_baseline_resolver` let a runner swap in the cloud variants (Vertex custom job, Model Registry push,
    the stock resolvers Vertex compiles), called with the local ones' arguments.
    """
    data = config.data
    previous = PreviousExamplesResolver().with_id("previous_examples_resolver") if data.incremental else None
    example_gen = make_example_gen(data_root=data.data_root, settings=IngestSettings.from_dict(data.to_dict()),
                                   previous_examples=previous.outputs["examples"] if previous else None)
    examples = example_gen.outputs["examples"]
    statistics_gen = tfx.components.StatisticsGen(examples=examples)
    schema_gen = tfx.components.ImportSchemaGen(schema_file=schema_file)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    anomaly_stop = AnomalyStop(anomalies=example_validator.outputs["anomalies"])
    drift_baseline = (make_drift_baseline_resolver or DriftBaselineResolver)().with_id("drift_baseline_resolver")
    drift_check = LabelDriftCheck(
        statistics=statistics_gen.outputs["statistics"], max_label_drift=config.validation.max_label_drift,
        baseline=drift_baseline.outputs[BASELINE_KEY])
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
                                            data.image_size, data.max_image_pixels, config.gate.target_accuracy),
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
    drift_record = record_when_blessed(statistics_gen.outputs["statistics"], evaluator.outputs["blessing"])
    edge_export = EdgeExport(model=trainer_component.outputs["model"], examples=examples,
                             blessing=evaluator.outputs["blessing"], evaluation=evaluator.outputs["evaluation"],
                             classes_json=json.dumps(list(data.classes)),
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
        components=[node for node in (previous, example_gen, statistics_gen, schema_gen, example_validator,
                                      anomaly_stop, drift_baseline, drift_check, drift_stop, warm_start,
                                      trainer_component, baseline, evaluator, drift_record, edge_export,
                                      pusher_component) if node],
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args or [],
    )
