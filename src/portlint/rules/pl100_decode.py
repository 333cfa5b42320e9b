"""PL100 decode: images are decoded differently (library, flags, EXIF orientation, alpha, the
SAIL hardware decoder). Facts: rules/PL100.md, docs/facts.md."""

from __future__ import annotations

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img
from portlint.analysis.ops import Decode
from portlint.rules.base import RuleMeta

RULE = RuleMeta("PL100", "decode", "warning", (),
                "Images are decoded differently (library, flags, EXIF orientation, alpha, hardware decoder)")


def _decode_ops(img: Img):
    return [op for op in img.state.ops if isinstance(op, Decode)]


def _summary(img: Img) -> dict:
    s = {"library": None, "exif": None, "unchanged": False, "hardware": False, "rgb3": False, "site": None,
         "video": False}
    for op in _decode_ops(img):
        if s["site"] is None:
            s["site"] = op.site
        if op.library:
            s["library"] = s["library"] or op.library
        if op.exif is not None:
            s["exif"] = bool(op.exif) or bool(s["exif"])
        if op.mode == "unchanged":
            s["unchanged"] = True
        if op.mode == "hardware":
            s["hardware"] = True
        if op.convert and op.mode == "RGB":
            s["rgb3"] = True
        if op.source in ("video", "stream") or op.mode == "video":
            s["video"] = True
    return s


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    so, sp = _summary(o), _summary(p)
    if so["site"] is None or sp["site"] is None or o.state.source != "decode" or p.state.source != "decode":
        return []
    out = []
    if sp["hardware"] and not so["hardware"]:
        out.append(RULE.finding(
            "ported decodes with sail.Decoder (hardware JPEG decode and BT.601 limited-range YUV->BGR on the VPP, "
            "docs/sail.md §3, §8.5); the original decodes in software: pixel values differ slightly", sp["site"], so["site"]))
    elif sp["unchanged"] and not so["unchanged"]:
        what = "PIL .convert('RGB') always yields 3 channels" if so["rgb3"] else "the original decodes to 3 colour channels"
        exif = "the EXIF orientation the original applies is ignored, " if so["exif"] else ""
        out.append(RULE.finding(
            f"ported decodes with flag -1 (IMREAD_UNCHANGED): {exif}RGBA images keep 4 channels and greyscale stays 2-D; "
            f"{what}", sp["site"], so["site"]))
    elif so["unchanged"] and not sp["unchanged"] and not sp["hardware"]:
        out.append(RULE.finding(
            "original decodes with IMREAD_UNCHANGED and handles alpha, greyscale and 16-bit files itself; the port decodes "
            "every file to 8-bit BGR (and applies the EXIF orientation), so such files reach the model differently",
            sp["site"], so["site"], severity="info"))
    elif ctx.options.get("PL100", {}).get("exif", True) and so["exif"] is not None and sp["exif"] is not None and \
            so["exif"] != sp["exif"] and not so["video"] and not sp["video"]:
        # on by default (`[tool.portlint.rules.PL100] exif = false` turns it off): only photos
        # carrying an EXIF orientation tag differ, so it is information, not an error. A video
        # frame has no EXIF tag: a frame read from a video is not said to "ignore" it
        who_o = "applies" if so["exif"] else "ignores"
        who_p = "applies" if sp["exif"] else "ignores"
        out.append(RULE.finding(
            f"original {who_o} the EXIF orientation tag, ported {who_p} it (cv2.imread applies it by default, "
            "PIL Image.open does not): photos taken rotated reach the model rotated differently", sp["site"], so["site"],
            severity="info"))
    return out
