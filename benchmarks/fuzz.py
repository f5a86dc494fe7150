"""`make fuzz`: mutated real photos fed to every decoder of the project, in one long-lived process.

Seeds are a real photo of the bundled sample encoded in every format ingestion accepts (JPEG, EXIF-rotated JPEG,
PNG, GIF, animated GIF, BMP, WebP, AVIF, TIFF). Hypothesis draws each input from one seed and a few mutations
(bit flips, truncation, header field changes, chunk duplication) and feeds it to ingestion's decoder
(`image.transform`), to `predict`'s (`Predictor`, host read and model) and to `serving_default` of the same
exported model (an untrained one: the decoder, not the answer, is under test). Every input must end as an
answer or as the decoder's own refusal; anything else is a crash. An input taking more than 10 s is a hang.
Crashing and hanging inputs are saved under the output folder; peak RSS is the process' maximum.

    python -m benchmarks.fuzz --inputs 10000 --seed 0 --out bench-out/fuzz
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import resource
import tempfile
import threading
import time
from typing import Callable

HANG_S = 10.0
STALL_S = 120.0
REPORT_EVERY = 250  # A decoder stuck this long will not come back: report and stop.
SAMPLE_PHOTO = os.path.join(os.path.dirname(__file__), os.pardir, "data", "sample_flowers", "daisy",
                            "100080576_f52e8ee070_n.jpg")
IMAGE_SIZE = 32
CLASSES = ["daisy", "roses", "tulips"]


def seed_photos(photo_path: str = SAMPLE_PHOTO) -> dict[str, bytes]:
    """The photo in every accepted format, small enough to mutate quickly (the longer side 96 pixels)."""
    from PIL import Image

    with Image.open(photo_path) as photo:
        photo = photo.convert("RGB")
        photo.thumbnail((96, 96))
    seeds = {}
    for name, fmt, args in (("jpeg", "JPEG", {"quality": 90}), ("png", "PNG", {}), ("bmp", "BMP", {}),
                            ("webp", "WEBP", {"quality": 80}), ("avif", "AVIF", {"quality": 60}),
                            ("tiff", "TIFF", {"compression": "tiff_lzw"})):
        seeds[name] = _encode(photo, fmt, **args)
    exif = Image.Exif()
    exif[0x0112] = 6  # Rotated: predict re-encodes it on the host.
    seeds["jpeg_rotated"] = _encode(photo, "JPEG", exif=exif.tobytes())
    palette = photo.convert("P")
    seeds["gif"] = _encode(palette, "GIF")
    frames = [photo.rotate(angle).convert("P") for angle in (90, 180)]
    seeds["gif_animated"] = _encode(palette, "GIF", save_all=True, append_images=frames)
    return seeds


def _encode(photo, fmt: str, **args) -> bytes:
    buffer = io.BytesIO()
    photo.save(buffer, fmt, **args)
    return buffer.getvalue()


def mutations():
    """A Hypothesis strategy: (seed name, a list of mutations), each mutation a (kind, numbers) pair."""
    from hypothesis import strategies as st

    position = st.floats(0, 1, allow_nan=False)
    mutation = st.one_of(
        st.tuples(st.just("flip"), st.tuples(position, st.integers(0, 7))),
        st.tuples(st.just("truncate"), st.tuples(position)),
        st.tuples(st.just("header"), st.tuples(st.integers(0, 63), st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]),
                                               st.integers(1, 4))),
        st.tuples(st.just("duplicate"), st.tuples(position, position, position)),
    )
    return st.tuples(st.sampled_from(sorted(seed_photos())), st.lists(mutation, min_size=1, max_size=4))


def mutate(data: bytes, changes: list) -> bytes:
    """Bit flips, truncation, header fields set to extreme bytes, a slice (such as a chunk) inserted twice."""
    data = bytearray(data)
    for kind, numbers in changes:
        at = lambda fraction: min(len(data) - 1, int(fraction * len(data))) if data else 0  # noqa: E731
        if kind == "flip" and data:
            data[at(numbers[0])] ^= 1 << numbers[1]
        elif kind == "truncate":
            del data[at(numbers[0]):]
        elif kind == "header" and data:
            offset, value, width = numbers
            data[offset:offset + width] = bytes([value]) * width
        elif kind == "duplicate" and data:
            start, end = sorted((at(numbers[0]), at(numbers[1])))
            data[at(numbers[2]):at(numbers[2])] = data[start:end + 1]
    return bytes(data)


@dataclasses.dataclass
class Tally:
    inputs: int = 0
    crashes: int = 0
    hangs: int = 0
    outcomes: dict = dataclasses.field(default_factory=dict)  # decoder -> {"answered": n, "refused": n}


class Decoders:
    """The three decoders, loaded once: ingestion's transform, predict's Predictor, plain serving_default."""

    def __init__(self, model_dir: str, scratch: str):
        import tensorflow as tf

        from components.ingestion import image
        from components.training.predict import Predictor

        self._tf, self._image = tf, image
        self._predictor = Predictor(model_dir)
        self._serve = tf.saved_model.load(model_dir).signatures["serving_default"]
        self._scratch = os.path.join(scratch, "input.bin")

    def run(self) -> dict[str, Callable[[bytes], bool]]:
        """Each decoder as data -> True when answered, False when refused; anything else raises."""
        return {"ingestion": self._ingestion, "predict": self._predict, "serving_default": self._serving}

    def _ingestion(self, data: bytes) -> bool:
        try:
            self._image.transform(data, size=IMAGE_SIZE, jpeg_quality=90, max_image_pixels=50_000_000)
            return True
        except self._image.Rejected:
            return False

    def _predict(self, data: bytes) -> bool:
        with open(self._scratch, "wb") as scratch:
            scratch.write(data)
        (answer,) = self._predictor.predict_batch([self._scratch])
        return not answer.error

    def _serving(self, data: bytes) -> bool:
        try:
            self._serve(image_bytes=self._tf.constant([data]))
            return True
        except self._tf.errors.InvalidArgumentError:
            return False


class Watchdog(threading.Thread):
    """Counts an input running over HANG_S as a hang (saving it); past STALL_S it reports and ends the process."""

    def __init__(self, tally: Tally, out: str, report: Callable[[], None]):
        super().__init__(daemon=True)
        self.tally, self.out, self.report = tally, out, report
        self.current: tuple[int, bytes, float] | None = None
        self._flagged = -1

    def run(self) -> None:
        while True:
            time.sleep(0.5)
            current = self.current
            if current is None:
                continue
            number, data, started = current
            if time.monotonic() - started > HANG_S and self._flagged != number:
                self._flagged = number
                self.tally.hangs += 1
                _save(self.out, f"hang-{number}", data)
            if time.monotonic() - started > STALL_S:
                print(f"input {number} stalled for {STALL_S:.0f} s; stopping", flush=True)
                self.report()
                os._exit(3)


def fuzz(inputs: int, seed: int, out: str, model_dir: str | None = None) -> dict:
    """Run `inputs` mutated photos through the decoders; the figures (also written to <out>/fuzz.json)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    os.makedirs(out, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="fuzz-")
    model_dir = model_dir or export_untrained_model(os.path.join(scratch, "model"))
    seeds = seed_photos()
    decoders = Decoders(model_dir, scratch).run()
    tally, start = Tally(), time.monotonic()

    def figures() -> dict:
        return {**dataclasses.asdict(tally), "seed": seed, "wall_s": round(time.monotonic() - start, 1),
                "peak_rss_mb": round(peak_rss_kb() / 1024, 1)}

    def report() -> None:
        with open(os.path.join(out, "fuzz.json"), "w") as summary:
            json.dump(figures(), summary, indent=1)

    watchdog = Watchdog(tally, out, report)
    watchdog.start()

    @hypothesis_seed(seed)
    @settings(max_examples=inputs, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(mutations())
    def one(case):
        name, changes = case
        data = mutate(seeds[name], changes)
        watchdog.current = (tally.inputs, data, time.monotonic())
        for decoder, decode in decoders.items():
            counts = tally.outcomes.setdefault(decoder, {"answered": 0, "refused": 0})
            try:
                counts["answered" if decode(data) else "refused"] += 1
            except Exception as error:  # Not an answer and not the decoder's own refusal: a crash.
                tally.crashes += 1
                _save(out, f"crash-{tally.inputs}-{decoder}", data, f"{type(error).__name__}: {error}")
        watchdog.current = None
        tally.inputs += 1
        if tally.inputs % REPORT_EVERY == 0:  # A run stopped early still leaves its figures so far.
            report()

    one()
    report()
    return figures()


def export_untrained_model(directory: str) -> str:
    from components.training import models
    from components.training.export import export

    model = models.build("squeezenet", models.ModelSpec(image_size=IMAGE_SIZE, num_classes=len(CLASSES)))
    export(model, CLASSES, IMAGE_SIZE, directory)
    return directory


def _save(out: str, name: str, data: bytes, why: str = "") -> None:
    with open(os.path.join(out, f"{name}.bin"), "wb") as saved:
        saved.write(data)
    if why:
        with open(os.path.join(out, f"{name}.txt"), "w") as reason:
            reason.write(why)


def peak_rss_kb() -> int:
    """This process's own peak RSS. Linux carries ru_maxrss across exec, so a fuzz run started by a big parent
    (a test session) would report the parent's peak; the memory map's high-water mark (VmHWM) starts afresh."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench-out/fuzz")
    args = parser.parse_args()
    print(json.dumps(fuzz(args.inputs, args.seed, args.out), indent=1))


if __name__ == "__main__":
    main()
