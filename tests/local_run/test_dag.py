"""The shape of the one DAG: what runs after what, and what the config switches on."""

import schemas
from pipeline.pipeline import create_pipeline
from pipeline_config import load_config


def nodes(config):
    return {node.id: node for node in create_pipeline(config, schema_file=schemas.CURATED_FILE).components}


def test_training_waits_for_the_data_stops_and_push_for_the_gate():
    dag = nodes(load_config(environ={}))
    assert set(dag) == {"FileBasedExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator",
                        "AnomalyStop", "drift_baseline_resolver", "LabelDriftCheck", "LabelDriftStop", "Trainer",
                        "baseline_resolver", "Evaluator", "LabelDriftBaseline", "EdgeExport", "AtomicPusher"}
    assert dag["AnomalyStop"] in dag["Trainer"].upstream_nodes
    assert dag["LabelDriftStop"] in dag["Trainer"].upstream_nodes
    assert dag["drift_baseline_resolver"] in dag["LabelDriftCheck"].upstream_nodes
    assert dag["LabelDriftCheck"].exec_properties["max_label_drift"] == 0.15
    assert dag["Evaluator"] in dag["LabelDriftBaseline"].upstream_nodes  # Recorded once the model is blessed.
    assert dag["Evaluator"] in dag["AtomicPusher"].upstream_nodes
    assert dag["Evaluator"] in dag["EdgeExport"].upstream_nodes  # Only a blessed model is worth converting.
    assert dag["EdgeExport"] in dag["AtomicPusher"].upstream_nodes
    assert "base_model" not in dag["Trainer"].inputs  # A cold start keeps the Trainer cacheable.


def test_warm_start_feeds_the_last_blessed_model_to_the_trainer():
    dag = nodes(load_config({"training.warm_start": "true"}, environ={}))
    assert dag["warm_start_resolver"] in dag["Trainer"].upstream_nodes
    assert "base_model" in dag["Trainer"].inputs


def test_incremental_ingestion_feeds_the_newest_examples_to_the_example_gen():
    assert "previous_examples" not in nodes(load_config(environ={}))["FileBasedExampleGen"].inputs  # Cacheable.
    dag = nodes(load_config({"data.incremental": "true"}, environ={}))
    assert dag["previous_examples_resolver"] in dag["FileBasedExampleGen"].upstream_nodes
    assert "previous_examples" in dag["FileBasedExampleGen"].inputs
