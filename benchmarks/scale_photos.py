"""A folder of N distinct photos made from a few thousand, for `make bench-scale`.

Photo i is a seeded random variant of source photo i mod S (the S sources in a seeded random order), kept in its
class: a random crop of 70-100 % of each side, a scale of 0.8-1.25x, a left-right flip half the time, brightness,
contrast and saturation each changed by up to 20 %, re-encoded as JPEG at quality 85-95. So no two files are
byte-identical (checked) and no photo is another one resized. A finished folder is kept with a marker beside it
and reused by the next run with the same N, seed and sources.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import random
import shutil
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

VERSION = 1  # Bump when the variants change, so that cached folders are rebuilt.
ENHANCERS = (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color)


def build(sources: list[str], count: int, target: Path, seed: int = 0) -> Path:
    """`target` holding `count` variants of the photos under the `sources` class folders (reused when done)."""
    photos = source_photos(sources)
    random.Random(seed).shuffle(photos)  # So that a folder smaller than the sources still holds every class.
    marker = target.with_name(target.name + ".json")
    listing = hashlib.sha256("\n".join(str(path) for _, path in photos).encode()).hexdigest()
    wanted = {"version": VERSION, "count": count, "seed": seed, "sources": len(photos), "listing_sha256": listing}
    if marker.exists() and target.is_dir() and json.loads(marker.read_text()) == wanted:
        print(f"photos: reusing {count} in {target}", flush=True)
        return target
    marker.unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    for label in sorted({label for label, _ in photos}):
        (target / label).mkdir(parents=True)
    jobs = [(str(photos[i % len(photos)][1]), str(_name(target, photos[i % len(photos)], i)), f"{seed}:{i}")
            for i in range(count)]
    with multiprocessing.Pool() as pool:
        digests = pool.starmap(write_variant, jobs, chunksize=64)
    if len(set(digests)) != count:
        raise SystemExit(f"{count - len(set(digests))} of the {count} variants are byte-identical to another")
    marker.write_text(json.dumps(wanted))
    print(f"photos: wrote {count} distinct variants of {len(photos)} photos to {target}", flush=True)
    return target


def source_photos(sources: list[str]) -> list[tuple[str, Path]]:
    """(class, path) of every JPEG under each `<source>/<class>/`, in a fixed order."""
    return [(label.name, photo) for source in sources for label in sorted(Path(source).iterdir()) if label.is_dir()
            for photo in sorted(label.iterdir()) if photo.suffix.lower() in (".jpg", ".jpeg")]


def write_variant(source: str, target: str, seed: str) -> str:
    """Write one variant of `source`; the sha256 of its bytes."""
    encoded = variant(Path(source).read_bytes(), random.Random(seed))
    Path(target).write_bytes(encoded)
    return hashlib.sha256(encoded).hexdigest()


def variant(photo: bytes, rng: random.Random) -> bytes:
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    width, height = image.size
    crop_width, crop_height = round(width * rng.uniform(0.7, 1.0)), round(height * rng.uniform(0.7, 1.0))
    left, top = rng.randint(0, width - crop_width), rng.randint(0, height - crop_height)
    image = image.crop((left, top, left + crop_width, top + crop_height))
    scale = rng.uniform(0.8, 1.25)
    image = image.resize((max(1, round(crop_width * scale)), max(1, round(crop_height * scale))), Image.BILINEAR)
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    for enhancer in ENHANCERS:
        image = enhancer(image).enhance(rng.uniform(0.8, 1.2))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=rng.randint(85, 95))
    return buffer.getvalue()


def _name(target: Path, photo: tuple[str, Path], index: int) -> Path:
    label, path = photo
    return target / label / f"{index:06d}_{path.stem}.jpg"

