"""The cross-program analysis engine: source -> static values -> pipelines -> comparison."""
