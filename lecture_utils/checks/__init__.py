"""Self-check functions for the notebooks' exercises; one submodule per notebook topic.

Each check calls the student's function on seeded inputs, compares it with the reference
implementation and prints a short Russian verdict; it raises ``AssertionError`` with a message that
says what is wrong (shape, value, which gradient) so that a wrong answer is visible in the notebook.
"""
