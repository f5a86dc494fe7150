"""Session fixtures: the synthetic photo set with its records, and one tiny model trained by run_fn that the
export and predict tests share (training once keeps the suite fast)."""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest
from PIL import Image

from tests.training.training_fixtures import (CLASSES, PER_CLASS, colour_photo, fn_args, to_example, training_settings,
                                              write_split)

from components import artifacts


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """Photos of random sizes and formats on disk, and their records under the examples' train and eval splits."""
    root = tmp_path_factory.mktemp("training_data")
    rng = np.random.default_rng(7)
    sizes = random.Random(7)
    photos, records = {}, {"train": [], "eval": []}
    for split, count in PER_CLASS.items():
        for class_index, name in enumerate(CLASSES):
            for i in range(count):
                photo = colour_photo(class_index, sizes.randint(36, 70), sizes.randint(36, 70), rng)
                path = str(root / "photos" / split / f"{name}_{i}.{'png' if i % 2 else 'jpg'}")
                os.makedirs(os.path.dirname(path), exist_ok=True)
                photo.save(path, quality=95)
                photos[path] = class_index
                records[split].append(to_example(Image.open(path), class_index, path))
    examples = str(root / "examples")
    for split, split_records in records.items():
        write_split(examples, split, split_records)
    return {"root": root, "examples": examples, "photos": photos, "records": records}


@pytest.fixture(scope="session")
def trained(dataset, tmp_path_factory):
    """One run_fn on the fixture: its FnArgs and its training history."""
    from components.training.trainer import run_fn

    args = fn_args(dataset["examples"], str(tmp_path_factory.mktemp("trained")), training_settings(epochs=8))
    run_fn(args)
    with open(os.path.join(args.model_run_dir, artifacts.HISTORY_FILE)) as history:
        return {"fn_args": args, "history": json.load(history)}
