"""Post-processing API semantics (NMS, json output, export): registered here by name."""
