"""The number PL206's + 1 box-size finding quotes (rules/pl206_plus_one.py), computed."""


def _iou_xywh(a, b):
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_a_plus_one_box_against_the_original_box():
    assert abs(_iou_xywh((0, 0, 10, 10), (0, 0, 11, 11)) - 100 / 121) < 1e-12
    assert round(100 / 121, 2) == 0.83
    # it fades with size: a 100x100 box keeps IoU 0.98
    assert round(_iou_xywh((0, 0, 100, 100), (0, 0, 101, 101)), 2) == 0.98
