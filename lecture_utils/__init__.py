"""Helpers for the RNN course."""
