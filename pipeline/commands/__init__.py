"""One module per `flowers-pipeline` subcommand: `SUMMARY`, `add_parser(parser)` and `run(args) -> int`.

Modules import TensorFlow, TFX and Beam inside `run`, so `flowers-pipeline --help` stays fast.
"""
