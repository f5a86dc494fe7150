"""Benchmark commands (`make bench-*`): slow, measured runs kept out of the test suite."""

from pipeline_config import PROJECT_DIR

# The shared real photos and the rebuilt ImageNet backbone (alpha 1.0) every benchmark defaults to.
SHARED_PHOTOS = str(PROJECT_DIR.parent / "shared" / "data" / "flower_photos")
SHARED_WEIGHTS = str(PROJECT_DIR.parent / "shared" / "data" / "weights" /
                     "mobilenet_v2_1.0_224_from_int8_tflite_no_top.h5")
