"""Library constants as data: name -> value, checked against the installed libraries in
tests/test_api_facts.py (cv2 4.x/5.x, Pillow 10+/11+, torchvision 0.29, SAIL per docs/sail.md §2-3)."""

CONSTANTS = {
    # cv2 interpolation flags
    "cv2.INTER_NEAREST": 0, "cv2.INTER_LINEAR": 1, "cv2.INTER_CUBIC": 2, "cv2.INTER_AREA": 3,
    "cv2.INTER_LANCZOS4": 4, "cv2.INTER_LINEAR_EXACT": 5, "cv2.INTER_NEAREST_EXACT": 6,
    # cv2 imread flags
    "cv2.IMREAD_UNCHANGED": -1, "cv2.IMREAD_GRAYSCALE": 0, "cv2.IMREAD_COLOR": 1, "cv2.IMREAD_ANYDEPTH": 2,
    "cv2.IMREAD_ANYCOLOR": 4, "cv2.IMREAD_IGNORE_ORIENTATION": 128, "cv2.IMREAD_COLOR_BGR": 1, "cv2.IMREAD_COLOR_RGB": 256,
    # cv2 colour conversions (subset that matters for model inputs)
    "cv2.COLOR_BGR2RGB": 4, "cv2.COLOR_RGB2BGR": 4, "cv2.COLOR_BGR2GRAY": 6, "cv2.COLOR_RGB2GRAY": 7,
    "cv2.COLOR_GRAY2BGR": 8, "cv2.COLOR_GRAY2RGB": 8, "cv2.COLOR_BGRA2BGR": 1, "cv2.COLOR_RGBA2RGB": 1,
    "cv2.COLOR_BGRA2RGB": 3, "cv2.COLOR_RGBA2BGR": 3, "cv2.COLOR_BGR2BGRA": 0, "cv2.COLOR_BGR2RGBA": 2,
    # cv2 borders
    "cv2.BORDER_CONSTANT": 0, "cv2.BORDER_REPLICATE": 1, "cv2.BORDER_REFLECT": 2, "cv2.BORDER_WRAP": 3,
    "cv2.BORDER_REFLECT_101": 4, "cv2.BORDER_DEFAULT": 4,
    # PIL resampling filters (PIL.Image.Resampling)
    "PIL.Image.NEAREST": 0, "PIL.Image.LANCZOS": 1, "PIL.Image.ANTIALIAS": 1, "PIL.Image.BILINEAR": 2,
    "PIL.Image.BICUBIC": 3, "PIL.Image.BOX": 4, "PIL.Image.HAMMING": 5,
    # numpy
    "numpy.newaxis": None, "numpy.pi": 3.141592653589793, "numpy.inf": float("inf"),
}

CV2_INTERP = {0: "nearest", 1: "bilinear", 2: "bicubic", 3: "area", 4: "lanczos", 5: "bilinear", 6: "nearest"}
PIL_INTERP = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}
TV_INTERP = {
    "torchvision.transforms.InterpolationMode.NEAREST": "nearest",
    "torchvision.transforms.InterpolationMode.NEAREST_EXACT": "nearest",
    "torchvision.transforms.InterpolationMode.BILINEAR": "bilinear",
    "torchvision.transforms.InterpolationMode.BICUBIC": "bicubic",
    "torchvision.transforms.InterpolationMode.BOX": "box",
    "torchvision.transforms.InterpolationMode.HAMMING": "hamming",
    "torchvision.transforms.InterpolationMode.LANCZOS": "lanczos",
    "torchvision.transforms.functional.InterpolationMode.BILINEAR": "bilinear",
    "torchvision.transforms.functional.InterpolationMode.NEAREST": "nearest",
    "torchvision.transforms.functional.InterpolationMode.BICUBIC": "bicubic",
}
SAIL_INTERP = {
    "sophon.sail.bmcv_resize_algorithm.BMCV_INTER_NEAREST": "nearest",
    "sophon.sail.bmcv_resize_algorithm.BMCV_INTER_LINEAR": "bilinear",
    "sophon.sail.bmcv_resize_algorithm.BMCV_INTER_BICUBIC": "bicubic",
    "sophon.sail.BMCV_INTER_NEAREST": "nearest", "sophon.sail.BMCV_INTER_LINEAR": "bilinear",
    "sophon.sail.BMCV_INTER_BICUBIC": "bicubic",
}
# Colour conversion codes -> (input channels, output channels)
CV2_COLOR = {
    4: ("swap3", None),  # BGR2RGB == RGB2BGR: reverse three channels
    6: ("gray", None), 7: ("gray", None), 8: ("gray2bgr", None), 1: ("drop_alpha", None),
    3: ("drop_alpha_swap", None), 0: ("add_alpha", None), 2: ("add_alpha_swap", None),
}
SAIL_FORMATS = {
    "FORMAT_RGB_PLANAR": (("R", "G", "B"), "CHW"), "FORMAT_BGR_PLANAR": (("B", "G", "R"), "CHW"),
    "FORMAT_RGB_PACKED": (("R", "G", "B"), "HWC"), "FORMAT_BGR_PACKED": (("B", "G", "R"), "HWC"),
    "FORMAT_GRAY": (("Y",), "CHW"), "FORMAT_YUV420P": (None, None), "FORMAT_NV12": (None, None),
    "FORMAT_RGBP_SEPARATE": (("R", "G", "B"), "CHW"), "FORMAT_BGRP_SEPARATE": (("B", "G", "R"), "CHW"),
}
