"""One module per `flowers-pipeline` subcommand (listed in `pipeline.cli.COMMANDS`): `SUMMARY`, a lower-case
phrase without a full stop, `add_parser(parser)` and `run(args) -> int`. The flags they share are defined once:
config_args.py (settings, for every command that builds a config) and cloud_args.py (compile, submit, schedule).

Modules import TensorFlow, TFX and Beam inside `run`, so `flowers-pipeline --help` stays fast.
"""
