"""Benchmark scripts (not tests): each prints its figures beside the goals they are judged
against, and as its last line one JSON object of them (see `bench.goals`)."""
