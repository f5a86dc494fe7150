"""`make bench-ingest`: steady-state images/s of `flowers-pipeline ingest` against the codelab notebook's way.

Three figures on the same photos (the folder, then a copy enlarged 6x by duplicating every photo), each the
best of --repeat interleaved runs, since other jobs on the machine only ever add time:
- `flowers-pipeline ingest`, timed as a subprocess on both sizes; steady state = extra photos / extra seconds;
- the notebook way: tf.data read/decode_jpeg/resize/crop/encode_jpeg (as the codelab: parallel map calls,
  quality 95, optimize_size, no chroma downsampling) into one TFRecordWriter, in one process, same two sizes;
- a bare Pillow decode-resize-encode loop on one core (the transform's per-core limit).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import photo_bench_parser
from pipeline_config import CODELAB_CLASSES as CLASSES, DataConfig

COPIES = 6
DATA = DataConfig()  # The same transform settings the pipeline uses by default.
SIZE = DATA.image_size


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.notebook_job:
        _notebook_job(args.data_root, args.notebook_job)
        return 0
    out = Path(args.out).resolve()
    small = Path(args.data_root).resolve()
    large = _enlarge(small, out / f"photos-x{COPIES}")
    sizes = {"small": (small, _count(small)), "large": (large, _count(large))}
    print(f"photos: {sizes['small'][1]} in {small}, {sizes['large'][1]} in {large}", flush=True)

    pillow = max(_pillow_loop(small) for _ in range(args.repeat))
    commands = _commands(out, args.beam_arg)
    results = {name: {label: float("inf") for label in sizes} for name in commands}
    for _ in range(args.repeat):  # Interleaved, best of N: other jobs on the machine only ever add time.
        for label, (root, _) in sizes.items():
            for name, command in commands.items():
                results[name][label] = min(results[name][label], command(root, label))
    for name in commands:
        _print_rates(name, results[name], sizes)
    print(f"{'pillow loop (1 core)':<28} {pillow:8.1f} img/s")
    _print_ratios(results, sizes, pillow)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = photo_bench_parser("benchmarks.ingest", __doc__, "bench-out/ingest")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement; the fastest counts")
    parser.add_argument("--beam-arg", action="append", default=[], metavar="ARG",
                        help="extra Beam option for the ingest runs, e.g. --beam-arg=--direct_num_workers=2")
    parser.add_argument("--notebook-job", metavar="OUT", help=argparse.SUPPRESS)  # The timed subprocess.
    return parser


def _commands(out: Path, beam_args: list[str]) -> dict:
    """name -> function(root, label) returning the wall seconds of one whole-process run."""
    def ingest(root: Path, label: str) -> float:
        target = out / f"ingest-{label}"
        shutil.rmtree(target, ignore_errors=True)
        return _timed([sys.executable, "-m", "pipeline", "ingest", "--data-root", str(root),
                       "--output-dir", str(target), *[f"--beam-arg={a}" for a in beam_args]])

    def notebook(root: Path, label: str) -> float:
        target = out / f"notebook-{label}.tfrec"
        return _timed([sys.executable, "-m", "benchmarks.ingest", "--data-root", str(root),
                       "--notebook-job", str(target)])

    return {"flowers-pipeline ingest": ingest, "notebook (tf.data)": notebook}


def _timed(command: list[str]) -> float:
    """Wall seconds of the command; its CPU seconds are printed too (wall/CPU shows the cores it got)."""
    cpu_before = _children_cpu()
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - start
    print(f"  {seconds:6.1f} s wall, {_children_cpu() - cpu_before:6.1f} s CPU: {' '.join(command[2:6])}",
          flush=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    return seconds


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _enlarge(source: Path, target: Path) -> Path:
    """COPIES byte-identical copies of every photo, same class layout (hard links when possible)."""
    shutil.rmtree(target, ignore_errors=True)
    for label in CLASSES:
        (target / label).mkdir(parents=True)
        for photo in sorted((source / label).iterdir()):
            for copy in range(COPIES):
                dest = target / label / f"{photo.stem}_{copy}{photo.suffix}"
                try:
                    os.link(photo, dest)
                except OSError:
                    shutil.copyfile(photo, dest)
    return target


def _photos(root: Path) -> list[Path]:
    return sorted(p for label in CLASSES for p in (root / label).iterdir())


def _count(root: Path) -> int:
    return len(_photos(root))


def _pillow_loop(root: Path) -> float:
    """Images/s of read + transform on one core, no Beam, no records."""
    from components.ingestion.image import transform

    photos = _photos(root)
    start = time.monotonic()
    for photo in photos:
        transform(photo.read_bytes(), size=SIZE, jpeg_quality=DATA.jpeg_quality,
                  max_image_pixels=DATA.max_image_pixels)
    return len(photos) / (time.monotonic() - start)


def _notebook_job(data_root: str, out_file: str) -> None:
    """The codelab's 'Flower pictures to TFRecords' way, in this process."""
    import tensorflow as tf

    autotune = tf.data.AUTOTUNE
    files = sorted(str(p) for p in _photos(Path(data_root)))

    def decode(filename):
        image = tf.io.decode_jpeg(tf.io.read_file(filename), channels=3)
        label = tf.strings.split(tf.expand_dims(filename, axis=-1), sep="/").values[-2]
        return image, label

    def resize_and_crop(image, label):
        height, width = tf.shape(image)[0], tf.shape(image)[1]
        scale = SIZE / tf.cast(tf.minimum(height, width), tf.float32)
        new_size = tf.cast(tf.round(tf.cast([height, width], tf.float32) * scale), tf.int32)
        image = tf.image.resize(image, tf.maximum(new_size, SIZE))
        return tf.image.resize_with_crop_or_pad(image, SIZE, SIZE), label

    def recompress(image, label):
        return tf.image.encode_jpeg(tf.cast(image, tf.uint8), quality=DATA.jpeg_quality, optimize_size=True,
                                    chroma_downsampling=False), label

    dataset = (tf.data.Dataset.from_tensor_slices(files)
               .map(decode, num_parallel_calls=autotune)
               .map(resize_and_crop, num_parallel_calls=autotune)
               .map(recompress, num_parallel_calls=autotune))
    class_index = {name: i for i, name in enumerate(CLASSES)}
    with tf.io.TFRecordWriter(out_file) as writer:
        for jpeg, label in dataset:
            example = tf.train.Example(features=tf.train.Features(feature={
                "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[jpeg.numpy()])),
                "class": tf.train.Feature(int64_list=tf.train.Int64List(value=[class_index[label.numpy().decode()]])),
                "label": tf.train.Feature(bytes_list=tf.train.BytesList(value=[label.numpy()])),
                "size": tf.train.Feature(int64_list=tf.train.Int64List(value=[SIZE, SIZE])),
            }))
            writer.write(example.SerializeToString())


def _steady(times: dict, sizes: dict) -> float:
    return (sizes["large"][1] - sizes["small"][1]) / (times["large"] - times["small"])


def _print_rates(name: str, times: dict, sizes: dict) -> None:
    whole = sizes["large"][1] / times["large"]
    print(f"{name:<28} {_steady(times, sizes):8.1f} img/s steady  |  {times['small']:.1f} s for "
          f"{sizes['small'][1]}, {times['large']:.1f} s for {sizes['large'][1]} ({whole:.1f} img/s whole process)",
          flush=True)


def _print_ratios(results: dict, sizes: dict, pillow: float) -> None:
    ingest, notebook = results["flowers-pipeline ingest"], results["notebook (tf.data)"]
    print(f"ratio ingest/notebook, steady state:            {_steady(ingest, sizes) / _steady(notebook, sizes):.2f}x")
    for label, (_, n) in sizes.items():
        print(f"ratio ingest/notebook, whole process, {n:>5}:   {notebook[label] / ingest[label]:.2f}x")
    print(f"ratio ingest steady / pillow loop (1 core):      {_steady(ingest, sizes) / pillow:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
