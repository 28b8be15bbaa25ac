"""Prediction models: sample size, performance, bootstrap internal validation and decision curves (TRIPOD+AI)."""
