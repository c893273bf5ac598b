"""Matplotlib figures for the course; one submodule per topic, every function returns the Figure.

- ``plots.diagrams``  drawings of the lecture's pictures (task patterns, unrolled RNN, ...)
- the other submodules are named after the notebook topic that introduces them.
"""
