"""PL213 clip-averaging: the original averages the scores of several clips of a video, the port
classifies one.

The original's sampler (pl212_frame_sampling.sampler: the transform object whose attributes name
the clip length, the frame step and `num_clips`) takes `num_clips` clips spread over the video;
its recognizer scores each and averages them (mmaction2's BaseHead.average_clip: softmax then
mean over the clips for average_clips='prob', mean of the raw scores for 'score'). The port is
read in the function that calls its model: an argmax there, with no mean, sum or average of the
outputs anywhere in that function, is a decision from one clip.
"""

from __future__ import annotations

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.syntax import call_name, walk
from portlint.findings import Fix
from portlint.rules.base import RuleMeta
from portlint.rules.common import guarded, ran_functions
from portlint.rules.pl212_frame_sampling import sampler

RULE = RuleMeta("PL213", "other", "warning", ("display-only",), "one clip classified where the original averages several")

_AVERAGING = ("mean", "average", "sum", "nanmean")


def _argmaxes(fn) -> list:
    return [n for n in walk(fn.body) if type(n) is cst.Call and call_name(n).rsplit(".", 1)[-1] == "argmax"]


def _averages(fn) -> bool:
    return any(type(n) is cst.Call and call_name(n).rsplit(".", 1)[-1] in _AVERAGING for n in walk(fn.body))


def _calls_model(fn, sinks) -> bool:
    ids = {id(n) for n in walk(fn.body)}
    return any(id(s.site.node) in ids for s in sinks)


@guarded
def check(pair) -> list:
    s = sampler(pair.original)
    if s is None or not s.num_clips or s.num_clips < 2 or s.average not in ("prob", "score"):
        return []
    sinks = pair.ported.sinks
    findings, done = [], set()
    for prog in pair.ported.programs():
        for src, fn in ran_functions(prog):
            if id(fn) in done or not _calls_model(fn, sinks) or _averages(fn):
                continue
            done.add(id(fn))
            picks = _argmaxes(fn)
            if not picks:
                continue
            how = "softmax probabilities" if s.average == "prob" else "scores"
            message = (f"ported classifies each video from one clip (the argmax of one score vector); the original samples "
                       f"{s.num_clips} clips over the video and averages their {how} (average_clips '{s.average}') before "
                       "the argmax, so a clip that misses the action decides the port's prediction")
            fix = Fix("display-only", f"run the model on {s.num_clips} clips spread over the video and take the argmax of "
                      f"their mean {how}; by hand: the port's decoding reads one clip")
            findings.append(RULE.finding(message, Site(src, picks[0]), s.site, fix=fix))
    return findings
