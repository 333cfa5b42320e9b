"""Post-processing rules: each module exposes check(o_interp, p_interp, ctx, original, ported)."""
