"""Running the DAG on Google Cloud: Vertex AI Pipelines, Vertex custom jobs (TPU/GPU/CPU) and Dataflow.

accelerators: `--accelerator` -> worker pool spec. beam_args: Dataflow or DirectRunner flags.
runner: compile with KubeflowV2DagRunner. jobs: submit, schedule and manage runs through aiplatform.
"""
