"""Benchmark commands (`make bench-*`): slow, measured runs kept out of the test suite."""

import argparse

from pipeline_config import PROJECT_DIR

# The shared real photos and the rebuilt ImageNet backbone (alpha 1.0) every benchmark defaults to.
SHARED_PHOTOS = str(PROJECT_DIR.parent / "shared" / "data" / "flower_photos")
SHARED_WEIGHTS = str(PROJECT_DIR.parent / "shared" / "data" / "weights" /
                     "mobilenet_v2_1.0_224_from_int8_tflite_no_top.h5")


def photo_bench_parser(module: str, description: str, out: str) -> argparse.ArgumentParser:
    """The flags of a benchmark over a photo folder: --data-root (the shared photos) and its scratch --out."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=SHARED_PHOTOS)
    parser.add_argument("--out", default=out, help="scratch folder (recreated)")
    return parser
