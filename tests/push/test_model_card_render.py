"""The card renderer on its own (pure): the TFLite table in the report's order, and the registry's one-paragraph
summary, from figures in the shapes EdgeExport and the Evaluator record."""

from components.evaluation.results import GateFigures, ModelMetrics
from components.push import model_card
from components.push.model_card import CardFacts, Lineage

EDGE = {"status": "exported", "eval_photos": 39, "models": {
    "int8": {"accuracy": 0.769, "size_bytes": 600_000, "latency_ms": 11.1, "accepted": False,
             "reason": "0.031 below the SavedModel"},
    "saved_model": {"accuracy": 0.8, "size_bytes": 5_000_000, "latency_ms": 9.3},
    "float16": {"accuracy": 0.8, "size_bytes": 800_000, "latency_ms": 2.3, "accepted": True}}}


def _facts(**changes) -> CardFacts:
    gate = GateFigures(ModelMetrics(accuracy=0.8, example_count=39), None, 0.5, None, ["accuracy 0.800 >= 0.500"])
    return CardFacts(classes=["daisy", "roses"], lineage=Lineage("flowers", "run-7", "/root"), gate=gate,
                     **changes)


def test_the_tflite_table_lists_the_savedmodel_first_with_each_push_decision():
    card = model_card.render(_facts(edge=EDGE))
    rows = [line for line in card.splitlines() if "TFLite |" in line or line.startswith("| SavedModel")]
    assert rows == ["| SavedModel | 0.800 | 5.0 MB | 9.3 | - |",
                    "| float16 TFLite | 0.800 | 0.8 MB | 2.3 | in this version |",
                    "| int8 TFLite | 0.769 | 0.6 MB | 11.1 | not pushed: 0.031 below the SavedModel |"]
    assert "Measured on 39 eval photos" in card


def test_a_skipped_edge_export_says_why():
    card = model_card.render(_facts(edge={"status": "skipped", "reason": "model not blessed"}))
    assert "## On a phone (TFLite)\n\nskipped: model not blessed" in card


def test_the_registry_summary_is_one_paragraph_of_the_runs_figures():
    summary = model_card.summary(_facts())
    assert summary == ("Flower photo classifier (daisy, roses): eval accuracy 0.800 on 39 photos. Pipeline "
                       "'flowers', run run-7. The full model card is model_card.md beside the SavedModel.")
