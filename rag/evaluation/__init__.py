"""Batch evaluation: question sets, metrics, the harness that runs them through the pipeline, reports."""
