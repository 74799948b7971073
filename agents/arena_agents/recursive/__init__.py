"""Recursive reasoning models (HRM, TRM, ...). Needs the ``models`` extra (torch)."""
