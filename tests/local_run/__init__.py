"""Tests of the local runs: the DAG, `flowers-pipeline run` under LocalDagRunner, progress, root lock and link."""
