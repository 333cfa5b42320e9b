"""`verify --report` as a person sees it (issue 15.8): the page is rendered in headless Chromium
(the Debian package; .ci/run installs it) and a probe script reads what is on screen: every image
decoded and shown, the colour bars, how bright each heatmap is on its absolute scale, the links
from a divergent stage to the finding and fix that explain it, the end-to-end line, the top-5; and
the data set's page. The absolute scale itself is checked without a browser too."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow
EXAMPLE = ROOT / "examples" / "resnet"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

PROBE = """
<script>
window.addEventListener('load', () => {
  const out = {images: [], heatmaps: {}, bars: [], text: document.body.innerText};
  for (const img of document.images) {
    const r = img.getBoundingClientRect();
    out.images.push({alt: img.alt, natural: img.naturalWidth, shown: r.width * r.height});
  }
  for (const img of document.querySelectorAll('img.heatmap')) {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d'); g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0; for (let i = 0; i < d.length; i += 4) sum += (d[i] + d[i + 1] + d[i + 2]) / 3;
    out.heatmaps[img.alt.replace('heatmap ', '')] = sum / (d.length / 4);
  }
  for (const b of document.querySelectorAll('.colourbar')) {
    const r = b.getBoundingClientRect();
    out.bars.push({top: parseFloat(b.dataset.top), shown: r.width * r.height,
                   ticks: [...b.querySelectorAll('.ticks span')].map(s => s.innerText)});
  }
  const links = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href'));
  out.broken = links.filter(h => !document.getElementById(h.slice(1)));
  const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("chromium not found: the HTML report is tested in headless Chromium; .ci/run installs it "
                "(apt-get install -y chromium)", pytrace=False)


def render(page: Path, tmp_path: Path) -> tuple[dict, Path]:
    """(what the probe saw, a screenshot) of `page` in a fresh headless Chromium profile."""
    exe = chromium()
    probed = page.with_name(page.stem + "_probed.html")
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    profile = tmp_path / f"chromium-{page.stem}"
    dom = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom",
                          probed.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    assert m, dom.stderr[-2000:]
    import html

    shot = tmp_path / f"{page.stem}.png"
    subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}-shot", "--window-size=1200,2400",
                    f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    return json.loads(html.unescape(m.group(1))), shot


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    d = tmp_path_factory.mktemp("photos")
    for name in ("chelsea", "coffee"):
        Image.fromarray(getattr(data, name)()).convert("RGB").save(d / f"{name}.jpg", quality=90)
    return d


def _cli(args, capsys):
    from fixture_support import run_cli

    return run_cli([str(a) for a in args], capsys)


def test_single_image_page_shows_what_matters(tiny_cnn_artifacts, photos, tmp_path, capsys):
    report = tmp_path / "report"
    code, _, err = _cli(["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py", "--image",
                         photos / "chelsea.jpg", "--model", tiny_cnn_artifacts.pt, "--bmodel",
                         tiny_cnn_artifacts.bmodel, "--report", report], capsys)
    assert code == 1, err
    seen, shot = render(report / "report.html", tmp_path)
    text = seen["text"]
    assert all(i["natural"] > 0 and i["shown"] > 0 for i in seen["images"]), seen["images"]
    assert not seen["broken"], seen["broken"]  # every in-page link lands somewhere
    assert "First divergence: resize" in text
    assert re.search(r"End to end \(each side's own input into its own model\): unaligned", text)
    assert "Top-5 (end to end)" in text
    # a divergent stage names the check finding and its fix
    assert "Explained by portlint check" in text and "PL101 [resize-antialias]" in text and "fix (safe)" in text
    # one absolute scale per heatmap: the aligned decode (0 difference) is black, resize is bright
    heat = seen["heatmaps"]
    assert heat["decode"] < 2 and heat["resize"] > 20, heat
    assert len(seen["bars"]) == len(heat) and all(b["shown"] > 0 for b in seen["bars"])
    resize_bar = next(b for b in seen["bars"] if b["top"] == 28.0)
    assert "tolerance 1" in " ".join(resize_bar["ticks"])
    # headings do not repeat the message
    assert text.count("decode aligned") <= 1
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert pixels.shape[1] >= 1000 and pixels.std() > 10  # a page with content, not a blank screen


def test_dataset_page(tiny_cnn_artifacts, photos, tmp_path, capsys):
    report = tmp_path / "set"
    code, out, err = _cli(["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py", "--images", photos,
                           "--model", tiny_cnn_artifacts.pt, "--bmodel", tiny_cnn_artifacts.bmodel,
                           "--report", report], capsys)
    assert code == 1, err
    assert re.search(r"worst \S+ \(.*(chelsea|coffee)\.jpg\)", out), out  # the worst image is named
    assert (report / "report.html").is_file() and (report / "report.json").is_file()
    seen, _ = render(report / "report.html", tmp_path)
    text = seen["text"]
    assert "Prediction agreement:" in text and "Agreement per stage" in text and "Worst images" in text
    assert re.search(r"resize\s+0/2\s+2", text), text
    assert "chelsea.jpg" in text and "coffee.jpg" in text


def test_tiny_differences_stay_dark_on_the_absolute_scale(tmp_path):
    """A 2e-7 difference under a 1e-3 tolerance must not look like the worst stage."""
    pytest.importorskip("PIL")
    from PIL import Image

    from portlint.verify.report import heat_scale, heatmap_png

    diff = np.full((8, 8, 3), 2e-7)
    top = heat_scale(2e-7, 1e-3)
    assert top == pytest.approx(1e-2)
    heatmap_png(diff, tmp_path / "h.png", top)
    assert np.asarray(Image.open(tmp_path / "h.png")).mean() < 30
    big = np.full((8, 8, 3), 28.0)
    heatmap_png(big, tmp_path / "b.png", heat_scale(28.0, 1.0))
    assert np.asarray(Image.open(tmp_path / "b.png")).mean() > 150
