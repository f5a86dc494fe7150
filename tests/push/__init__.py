"""Tests of `components/push`."""
