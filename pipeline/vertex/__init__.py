"""Running the DAG on Google Cloud: Vertex AI Pipelines, Vertex custom jobs (TPU/GPU/CPU) and Dataflow.

accelerators: `--accelerator` -> worker pool spec. runner: what a Vertex run needs of the config, and compile
with KubeflowV2DagRunner. jobs: submit, schedule and manage runs through aiplatform. (The Beam flags of every
runner are in pipeline/beam_args.py, the command-line flags in pipeline/commands/.)
"""
