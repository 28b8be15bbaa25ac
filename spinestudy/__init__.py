"""spinestudy: a reproducible study pipeline for lumbar spine MRI and back-pain research."""

__version__ = "0.1.0"
