"""The rules: one module per rule (pl<code>_<kind>.py), listed in rules/registry.py."""
