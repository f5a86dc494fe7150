"""`make bench-near-duplicates`: the near-duplicate threshold's rates on synthetic copies against distinct photos.

Every photo of --data-root (default: the bundled sample, not the shared set) is copied three ways: resized to
half its size, recompressed as JPEG at quality 40, and cropped by 5 % on each side. Each original and copy goes
through ingestion's transform and the Trainer's decode, then the frozen backbone and its pooling, as in the
data review. For each cosine threshold: the share of copies whose similarity to their original reaches it
(caught), and the share of pairs of distinct originals that reach it (false pairs), per backbone.
"""

from __future__ import annotations

import argparse
import io
import sys

import numpy as np
from PIL import Image

from benchmarks import SHARED_WEIGHTS
from pipeline_config import BUNDLED_SAMPLE

THRESHOLDS = (0.85, 0.88, 0.90, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98)


def resized(photo: Image.Image) -> Image.Image:
    return photo.resize((max(1, photo.width // 2), max(1, photo.height // 2)), Image.BICUBIC)


def recompressed(photo: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=40)
    return Image.open(io.BytesIO(buffer.getvalue()))


def cropped(photo: Image.Image) -> Image.Image:
    dx, dy = photo.width // 20, photo.height // 20
    return photo.crop((dx, dy, photo.width - dx, photo.height - dy))


COPIES = {"resized": resized, "recompressed": recompressed, "cropped": cropped}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    paths = _photo_paths(args.data_root)
    photos = [Image.open(path).convert("RGB") for path in paths]
    print(f"{len(photos)} photos of {args.data_root}, {len(COPIES)} copies each", flush=True)
    for weights in args.weights:
        print(f"\nbackbone {weights}")
        rates = threshold_rates(photos, weights, paths)
        print(f"{'cosine':>8}" + "".join(f"{name:>14}" for name in COPIES) + f"{'false pairs':>14}")
        for threshold, caught, false_share in rates:
            print(f"{threshold:>8.2f}" + "".join(f"{caught[name]:>14.3f}" for name in COPIES)
                  + f"{false_share:>14.5f}")
    return 0


def threshold_rates(photos: list[Image.Image], weights: str, paths: list[str]) -> list[tuple[float, dict, float]]:
    """(threshold, {copy kind: share caught}, share of distinct pairs at or above) for each of THRESHOLDS; the
    distinct pairs above the lowest threshold are printed, to be looked at (some are real duplicates)."""
    originals = _unit(pooled_features(photos, weights))
    copies = {name: _unit(pooled_features([make(photo) for photo in photos], weights)) for name, make in COPIES.items()}
    similarity = {name: (originals * features).sum(axis=1) for name, features in copies.items()}
    upper = np.triu_indices(len(photos), k=1)
    distinct = (originals @ originals.T)[upper]
    for index in np.flatnonzero(distinct >= THRESHOLDS[0]):
        print(f"  distinct pair at {distinct[index]:.4f}: {paths[upper[0][index]]} {paths[upper[1][index]]}")
    for name, values in similarity.items():
        print(f"  {name}: cosine to the original min {values.min():.4f}, 5th percentile "
              f"{np.percentile(values, 5):.4f}", flush=True)
    print(f"  distinct pairs: max {distinct.max():.4f}, 99.9th percentile {np.percentile(distinct, 99.9):.4f}")
    return [(threshold, {name: float((values >= threshold).mean()) for name, values in similarity.items()},
             float((distinct >= threshold).mean())) for threshold in THRESHOLDS]


def pooled_features(photos: list[Image.Image], weights: str) -> np.ndarray:
    """The data review's features: ingestion's transform, the Trainer's decode, the frozen part and the pooling."""
    import tensorflow as tf

    import pipeline_config
    from components.ingestion import image
    from components.training import data, features, models
    from components.training.models import parts

    config = pipeline_config.PipelineConfig().data
    model = models.build("mobilenet_v2", models.ModelSpec(config.image_size, len(config.classes), 0),
                         models.options_for("mobilenet_v2", {"weights": weights}))
    model_parts = parts.of(model)
    upper = tf.keras.Sequential([model_parts.frozen, model_parts.tuned])
    jpegs = [image.transform(_png(photo), size=config.image_size, jpeg_quality=config.jpeg_quality,
                             max_image_pixels=config.max_image_pixels) for photo in photos]
    pixels = np.stack([data.decode_record_image(tf.constant(jpeg), config.image_size).numpy() for jpeg in jpegs])
    return features.predict(upper, pixels, 32)


def _png(photo: Image.Image) -> bytes:
    buffer = io.BytesIO()
    photo.save(buffer, format="PNG")
    return buffer.getvalue()


def _unit(features: np.ndarray) -> np.ndarray:
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)


def _photo_paths(root: str) -> list[str]:
    import glob

    return sorted(path for path in glob.glob(f"{root}/*/*") if path.lower().endswith((".jpg", ".jpeg", ".png")))


def _parser() -> argparse.ArgumentParser:
    from components.training.models.mobilenet_v2 import BUNDLED_WEIGHTS

    parser = argparse.ArgumentParser(prog="python -m benchmarks.near_duplicates", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=str(BUNDLED_SAMPLE))
    parser.add_argument("--weights", nargs="+", default=[str(BUNDLED_WEIGHTS), SHARED_WEIGHTS],
                        help="backbone .h5 files to measure (default: the bundled 0.35 and the shared 1.0)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
