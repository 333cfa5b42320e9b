"""Fixing the ported program: the fix loop, text edits and atomic writes."""
