"""Harness self-test: planted platform defects and the layer that catches each."""
