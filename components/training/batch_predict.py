"""Batch prediction on Beam: photos, folders and globs (local or gs://) -> JSON-lines predictions and errors.

The same engine as ingestion: the DirectRunner here (any running mode), Dataflow with `--runner=DataflowRunner`
and its options. Each worker loads the SavedModel once (`beam.utils.shared`) and answers batches through the
same `Predictor` as the per-file `predict`, so both give the same answers; every file ends up in exactly one
output, predictions or errors, and `summary.json` counts them (seen = predicted + errors). Each job writes into
a fresh staging folder moved into the output dir only on success (`batch_output`), so reruns never mix.
"""

from __future__ import annotations

import json
import os

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.utils import shared

from components.ingestion.sources import IMAGE_EXTENSIONS
from components.paths import literal
from components.training.batch_output import staged

PREDICTIONS = "predictions"
ERRORS = "errors"
SUMMARY_FILE = "summary.json"
RESULT_PATTERNS = (f"{PREDICTIONS}-*.jsonl", f"{ERRORS}-*.jsonl", SUMMARY_FILE)
_GLOB_CHARACTERS = "*?["


def expand(path: str) -> list[str]:
    """A photo as itself, a folder as every photo under it (by extension, recursively), a glob as what it
    matches (a folder it matches as that folder); what matches nothing stays as given, so it is reported as an
    error rather than lost."""
    import tensorflow as tf

    if any(c in path for c in _GLOB_CHARACTERS):
        matched = tf.io.gfile.glob(path)  # Folders too, which Beam's match leaves out.
        files = [f for m in matched for f in (_photos_under(m) if tf.io.gfile.isdir(m) else [m])]
    elif tf.io.gfile.isdir(path):
        files = _photos_under(path)
    else:
        return [path]
    files = sorted(p for p in files if not p.endswith("/"))  # Not GCS folder markers.
    return files or [path]


def _photos_under(folder: str) -> list[str]:
    return [m.path for m in FileSystems.match([FileSystems.join(literal(folder.rstrip("/")), "**")])[0].metadata_list
            if os.path.splitext(m.path)[1].lower() in IMAGE_EXTENSIONS]


class _Loaded:
    """What `shared.Shared` keeps per worker process (it needs an object it can weakly reference)."""

    def __init__(self, model_dir: str, max_image_pixels: int, min_confidence: float | None):
        from components.training.predict import Predictor

        self.predictor = Predictor(model_dir, max_image_pixels, min_confidence=min_confidence)


class PredictBatches(beam.DoFn):
    """Lists of paths -> one answer dict per path (prediction or error), the model loaded once per worker."""

    def __init__(self, model_dir: str, max_image_pixels: int, min_confidence: float | None = None):
        self._model_dir, self._max_image_pixels, self._min_confidence = model_dir, max_image_pixels, min_confidence
        self._shared = shared.Shared()

    def setup(self):
        self._loaded = self._shared.acquire(
            lambda: _Loaded(self._model_dir, self._max_image_pixels, self._min_confidence))

    def process(self, paths: list[str]):
        for prediction in self._loaded.predictor.predict_batch(paths):
            yield prediction.as_dict()


def run_batch_prediction(model_dir: str, paths: list[str], output_dir: str, beam_args: list[str],
                         batch_size: int = 64, max_image_pixels: int | None = None, overwrite: bool = False,
                         min_confidence: float | str | None = None) -> dict:
    """Run the job to completion and return its summary (also written to `<output_dir>/summary.json`, last, and
    only when every shard was written: `batch_output.staged`); with `min_confidence` (a probability or `auto`)
    each prediction says whether it is `unsure`."""
    from components.training.photo_input import DEFAULT_MAX_PIXELS
    from components.training.predict import check_loadable, resolve_min_confidence, resolve_model_dir

    model_dir = resolve_model_dir(model_dir)  # One version for every worker, chosen at launch,
    check_loadable(model_dir)  # (a broken model is one line here, not a traceback from every worker)
    min_confidence = resolve_min_confidence(model_dir, min_confidence)  # and one threshold.
    with staged(output_dir, RESULT_PATTERNS, SUMMARY_FILE, overwrite) as staging:
        _run_job(model_dir, paths, staging, output_dir, beam_args, batch_size, max_image_pixels or DEFAULT_MAX_PIXELS,
                 min_confidence)
    return read_summary(output_dir)


def _run_job(model_dir: str, paths: list[str], staging: str, output_dir: str, beam_args: list[str],
             batch_size: int, max_image_pixels: int, min_confidence: float | None) -> None:
    with beam.Pipeline(options=PipelineOptions(beam_args)) as pipeline:
        answers = (pipeline
                   | "Paths" >> beam.Create(paths)
                   | "Expand" >> beam.FlatMap(expand)
                   | "Spread" >> beam.Reshuffle()
                   | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=batch_size)
                   | "Predict" >> beam.ParDo(PredictBatches(model_dir, max_image_pixels, min_confidence)))
        counts = {}
        for name, is_error in ((PREDICTIONS, False), (ERRORS, True)):
            rows = answers | f"Keep {name}" >> beam.Filter(lambda row, e=is_error: ("error" in row) == e)
            _ = (rows | f"Encode {name}" >> beam.Map(json.dumps)
                 | f"Write {name}" >> beam.io.WriteToText(FileSystems.join(staging, name), file_name_suffix=".jsonl"))
            counts[name] = beam.pvalue.AsSingleton(rows | f"Count {name}" >> beam.combiners.Count.Globally())
        _ = (pipeline | "Once" >> beam.Create([model_dir])
             | "Summary" >> beam.Map(_write_summary, staging, output_dir, counts[PREDICTIONS], counts[ERRORS]))


def _write_summary(model_dir: str, staging: str, output_dir: str, predicted: int, errors: int) -> None:
    """Into the staging folder; its patterns name the shards where they will be, in the output dir."""
    summary = {"model_dir": model_dir, "seen": predicted + errors, "predicted": predicted, "errors": errors,
               "predictions": FileSystems.join(literal(output_dir), f"{PREDICTIONS}-*.jsonl"),
               "error_files": FileSystems.join(literal(output_dir), f"{ERRORS}-*.jsonl")}
    with FileSystems.create(FileSystems.join(staging, SUMMARY_FILE)) as summary_file:
        summary_file.write(json.dumps(summary, indent=1).encode())


def read_summary(output_dir: str) -> dict:
    with FileSystems.open(FileSystems.join(output_dir, SUMMARY_FILE)) as summary_file:
        return json.loads(summary_file.read())


def read_rows(output_dir: str, name: str) -> list[dict]:
    """Every row of the `predictions` or `errors` shards, sorted by path."""
    rows = []
    for match in FileSystems.match([FileSystems.join(literal(output_dir), f"{name}-*.jsonl")])[0].metadata_list:
        with FileSystems.open(match.path) as shard:
            rows += [json.loads(line) for line in shard.read().decode().splitlines() if line]
    return sorted(rows, key=lambda row: row["path"])
