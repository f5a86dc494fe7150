"""The flags every benchmark that trains shares: where its scratch goes, which backbone, and config overrides."""

from __future__ import annotations

import argparse

from benchmarks import SHARED_PHOTOS, SHARED_WEIGHTS


def parser(prog: str, doc: str, out: str, data_root: bool = True) -> argparse.ArgumentParser:
    """`--data-root` (unless the benchmark builds its own photos), `--out`, `--mobilenet-weights` and `--set`."""
    made = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if data_root:
        made.add_argument("--data-root", default=SHARED_PHOTOS)
    made.add_argument("--out", default=out, help="scratch folder (its contents are replaced)")
    made.add_argument("--mobilenet-weights", default=SHARED_WEIGHTS, help="backbone .h5 for mobilenet_v2")
    made.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                      help="config override, e.g. training.epochs=2 (repeatable)")
    return made
