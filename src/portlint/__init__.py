"""portlint: finds where a program ported to a Sophgo TPU diverges from its original PyTorch program."""

__version__ = "0.1.0"
