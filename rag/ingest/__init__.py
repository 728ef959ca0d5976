"""Ingest: articles read from the corpus folder in every format (loaders/), filed in and out of it, split
into sentences and chunks, tagged with typed spans and event dates, and signed for near-duplicates."""
