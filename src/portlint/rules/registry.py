"""The explicit list of rules. Each module holds RULE (its metadata: the one table of codes,
kinds, severities and fix applicabilities), and `compare(o_img, p_img, ctx)` when it compares a
matched pair of pipelines (pre-processing) and/or `check(pair)` when it compares the two
programs' facts (post-processing), as the two lists below say. Order is the order findings are
produced in."""

from __future__ import annotations

from portlint.rules import (
    pl001_unused_suppression,
    pl100_decode,
    pl101_resize_antialias,
    pl102_resize_interpolation,
    pl103_resize_size,
    pl104_crop,
    pl105_padding,
    pl106_channel_order,
    pl107_normalize,
    pl108_layout,
    pl109_dtype,
    pl201_output_order,
    pl202_nms,
    pl203_coco_rounding,
    pl204_dynamic_shape,
    pl205_trace,
    pl206_box_clip,
    pl207_mask_threshold,
    pl208_json_records,
    pl209_coco_eval,
    pl210_decoding,
    pl211_text_prompt,
    pl212_frame_sampling,
    pl213_clip_averaging,
)

MODULES = (
    pl001_unused_suppression,
    pl100_decode,
    pl101_resize_antialias,
    pl102_resize_interpolation,
    pl103_resize_size,
    pl104_crop,
    pl105_padding,
    pl106_channel_order,
    pl107_normalize,
    pl108_layout,
    pl109_dtype,
    pl201_output_order,
    pl202_nms,
    pl203_coco_rounding,
    pl204_dynamic_shape,
    pl205_trace,
    pl206_box_clip,
    pl207_mask_threshold,
    pl208_json_records,
    pl209_coco_eval,
    pl210_decoding,
    pl211_text_prompt,
    pl212_frame_sampling,
    pl213_clip_averaging,
)

RULES = {m.RULE.code: m.RULE for m in MODULES}
# compare(o_img, p_img, ctx) for each matched pair of pipelines
PIPELINE_RULES = (
    pl100_decode, pl101_resize_antialias, pl102_resize_interpolation, pl103_resize_size, pl104_crop,
    pl105_padding, pl106_channel_order, pl107_normalize, pl108_layout, pl109_dtype, pl204_dynamic_shape,
)
# check(pair) for each pair of programs
PROGRAM_RULES = (pl102_resize_interpolation, pl103_resize_size, pl104_crop, pl105_padding, pl201_output_order, pl202_nms,
                 pl203_coco_rounding, pl204_dynamic_shape, pl205_trace, pl206_box_clip, pl207_mask_threshold,
                 pl208_json_records, pl209_coco_eval, pl210_decoding, pl211_text_prompt, pl212_frame_sampling,
                 pl213_clip_averaging)


def module_of(code: str):
    for m in MODULES:
        if m.RULE.code == code:
            return m
    raise KeyError(code)
