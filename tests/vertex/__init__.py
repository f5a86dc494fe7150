"""Tests of `pipeline/vertex`: compile, submit, schedule and the registry push against fake Google endpoints."""
