"""Shared test machinery: real databases per backend, real servers on ephemeral ports."""
