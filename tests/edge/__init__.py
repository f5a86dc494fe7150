"""Tests of `components/edge`."""
