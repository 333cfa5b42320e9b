"""PL210: greedy search and beam search decode differently (rules/PL210.md, Facts), and how the
rule reads generate() settings it cannot see or that do not apply."""

from __future__ import annotations

import json
import math

from fixture_support import run_cli

# a two-step toy language model: p(first token), then p(second | first)
FIRST = {"a": 0.5, "b": 0.3, "c": 0.2}
SECOND = {"a": {"x": 0.4, "y": 0.35, "z": 0.25}, "b": {"x": 0.9, "y": 0.05, "z": 0.05},
          "c": {"x": 0.5, "y": 0.3, "z": 0.2}}


def _greedy():
    first = max(FIRST, key=FIRST.get)
    second = max(SECOND[first], key=SECOND[first].get)
    return (first, second), FIRST[first] * SECOND[first][second]


def _beam(num_beams: int):
    beams = sorted(((math.log(p), (t,)) for t, p in FIRST.items()), reverse=True)[:num_beams]
    grown = [(s + math.log(p), seq + (t,)) for s, seq in beams for t, p in SECOND[seq[-1]].items()]
    score, seq = max(grown)
    return seq, math.exp(score)


def test_greedy_and_beam_search_return_different_sequences():
    greedy, p_greedy = _greedy()
    beam, p_beam = _beam(3)
    assert greedy == ("a", "x") and abs(p_greedy - 0.20) < 1e-12
    assert beam == ("b", "x") and abs(p_beam - 0.27) < 1e-12
    assert _beam(1) == (greedy, p_greedy)  # one beam is greedy search


ORIGINAL = '''
def caption(model, ids, states):
    return model.text_decoder.generate(input_ids=ids, max_length=20, min_length=5, num_beams=3,
                                       encoder_hidden_states=states)
'''


def _findings(tmp_path, ported: str, capsys, original: str = ORIGINAL) -> list:
    (tmp_path / "original.py").write_text(original)
    (tmp_path / "ported.py").write_text(ported)
    code, out, err = run_cli(["check", str(tmp_path / "original.py"), str(tmp_path / "ported.py"),
                              "--format", "json", "--no-cache", "--select", "PL210"], capsys)
    assert code in (0, 1, 3), err
    return json.loads(out)["findings"]


def test_a_generation_config_leaves_the_absent_settings_unknown(tmp_path, capsys):
    ported = '''
def caption(model, ids, states, config):
    return model.text_decoder.generate(input_ids=ids, max_length=20, min_length=5, generation_config=config,
                                       encoder_hidden_states=states)
'''
    assert _findings(tmp_path, ported, capsys) == []


def test_max_new_tokens_leaves_max_length_unknown(tmp_path, capsys):
    ported = '''
def caption(model, ids, states):
    return model.text_decoder.generate(input_ids=ids, max_new_tokens=12, min_length=5, num_beams=1,
                                       encoder_hidden_states=states)
'''
    found = _findings(tmp_path, ported, capsys)
    assert [f["message"].split(" (")[0] for f in found] == ["generate() decodes with num_beams=1"]


def test_top_p_is_compared_only_when_both_sides_sample(tmp_path, capsys):
    greedy_top_p = '''
def caption(model, ids, states):
    return model.text_decoder.generate(input_ids=ids, max_length=20, min_length=5, num_beams=3, top_p=0.5,
                                       encoder_hidden_states=states)
'''
    assert _findings(tmp_path, greedy_top_p, capsys) == []  # not sampling: top_p does nothing
    sampling = ORIGINAL.replace("num_beams=3", "do_sample=True, top_p=0.9")
    found = _findings(tmp_path, sampling.replace("top_p=0.9", "top_p=0.95"), capsys, original=sampling)
    assert len(found) == 1 and "top_p=0.95" in found[0]["message"] and "top_p=0.9 " in found[0]["message"]


def test_a_local_wrapper_call_is_not_a_library_call(tmp_path, capsys):
    """`model.generate(image, sample=False, num_beams=3)` goes to the side's own def generate."""
    original = '''
class Captioner:
    def generate(self, image, sample=False, num_beams=3, max_length=20, min_length=5):
        return self.text_decoder.generate(input_ids=image, max_length=max_length, min_length=min_length,
                                          num_beams=num_beams)


def run(model, image):
    return model.generate(image, sample=False, num_beams=5, max_length=20, min_length=5)
'''
    ported = ORIGINAL.replace("num_beams=3", "num_beams=5")
    assert _findings(tmp_path, ported, capsys, original=original) == []  # 5, as the caller passes


def test_the_branch_the_caller_selects_is_the_one_compared(tmp_path, capsys):
    """decoding_aligned_sampling_branch is quiet because its caller passes strategy="beam"; with
    strategy="nucleus" the sampling call is the one that runs, and it differs."""
    from fixture_support import FIXTURES

    case = FIXTURES / "PL210" / "decoding_aligned_sampling_branch"
    original = (case / "original.py").read_text()
    assert 'strategy="beam"' in original
    found = _findings(tmp_path, (case / "ported.py").read_text(), capsys,
                      original=original.replace('strategy="beam"', 'strategy="nucleus"'))
    assert sorted(f["message"].split("=")[0].rsplit(" ", 1)[-1] for f in found) == [
        "do_sample", "num_beams", "repetition_penalty"]
