"""Fixing the ported program, for `fix`, `fix --verify` and the pre-commit hook.

edits.py applies text edits, imports.py places the imports a fix needs, loop.py runs the rounds
until the check converges (its mode decides which fixes a round takes and keeps), mirror.py is
the temporary copy the rounds edit, write.py reads files and writes the user's atomically,
run.py runs the loop over every pair, diff.py shows the result as a unified diff.
"""
