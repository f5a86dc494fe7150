"""Tests of `components/validation`."""
