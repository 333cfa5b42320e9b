"""API facts the analyser relies on, checked against the real libraries.

Every rule in `rules/PL*.md` and every claim in `docs/facts.md` that concerns torchvision, PIL,
OpenCV, numpy, Python or torch is asserted here on real photos (`skimage.data.chelsea()` 300x451,
`astronaut()` 512x512, `coffee()` 400x600) or on images built in `tmp_path`.  The numbers quoted in
`docs/facts.md` are the ones these tests measure; the bounds below leave a little room so that a
patch release does not break the suite, while a change of behaviour does.

Measured with torch 2.14.1, torchvision 0.29.1, opencv-python-headless 5.0.0.93 (cv2 5.0.0,
libjpeg-turbo 3.1.2), Pillow 13.0.0 (libjpeg-turbo 3.2.0), numpy 2.4.6, scikit-image 0.26.0.
"""

from __future__ import annotations

import copy
import inspect
import json
import warnings

import pytest

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")
torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("PIL.Image")
skdata = pytest.importorskip("skimage.data")

from PIL import Image, ImageOps  # noqa: E402
from torchvision import transforms as T  # noqa: E402
from torchvision.transforms import InterpolationMode  # noqa: E402
from torchvision.transforms import functional as TF  # noqa: E402
from torchvision.transforms import v2 as T2  # noqa: E402

pytestmark = pytest.mark.slow

PHOTOS = ("chelsea", "astronaut", "coffee")
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def photo(name: str) -> np.ndarray:
    """RGB uint8 HxWx3."""
    return getattr(skdata, name)()


def diff(x, y) -> tuple[float, float]:
    """(max |x-y|, mean |x-y|) in grey levels."""
    d = np.abs(np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64))
    return float(d.max()), float(d.mean())


def chw(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).numpy()


def tv_pil_resize(a: np.ndarray, size=(224, 224)) -> np.ndarray:
    return np.asarray(T.Resize(size)(Image.fromarray(a)))


# --------------------------------------------------------------------------- a. torchvision Resize on PIL


@pytest.mark.parametrize("name", PHOTOS)
def test_a_tv_resize_on_pil_equals_pil_bilinear(name):
    a = photo(name)
    ours = tv_pil_resize(a)
    pil = np.asarray(Image.fromarray(a).resize((224, 224), Image.BILINEAR))
    assert diff(ours, pil) == (0.0, 0.0)


def test_a_tv_resize_default_interpolation_and_antialias():
    sig = inspect.signature(T.Resize.__init__).parameters
    assert sig["interpolation"].default == InterpolationMode.BILINEAR
    assert sig["antialias"].default is True
    assert sig["max_size"].default is None
    assert inspect.signature(TF.resize).parameters["antialias"].default is True
    assert inspect.signature(T2.Resize.__init__).parameters["antialias"].default is True
    assert inspect.signature(T2.Resize.__init__).parameters["interpolation"].default == "bilinear"


@pytest.mark.parametrize("name", PHOTOS)
def test_a_antialias_argument_ignored_for_pil(name):
    a = photo(name)
    p = Image.fromarray(a)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        no_aa = np.asarray(T.Resize((224, 224), antialias=False)(p))
    assert np.array_equal(no_aa, np.asarray(T.Resize((224, 224))(p)))
    assert any("Anti-alias option is always applied for PIL Image input" in str(w.message) for w in caught)


def test_a_resize_int_is_shorter_side_and_long_side_truncated():
    # chelsea is 451x300 (w x h): 256 * 451 / 300 = 384.85 -> 384 (int() truncation, not round()).
    assert T.Resize(256)(Image.fromarray(photo("chelsea"))).size == (384, 256)
    assert T.Resize(256)(Image.fromarray(photo("coffee"))).size == (384, 256)  # 600x400 -> exact
    assert T.Resize(256)(Image.fromarray(photo("astronaut"))).size == (256, 256)
    t = torch.from_numpy(photo("chelsea")).permute(2, 0, 1)
    assert tuple(T.Resize(256)(t).shape) == (3, 256, 384)


def test_a_resize_max_size_caps_long_side():
    # Resize(256) would give 256x384; 384 > max_size=300, so the long side becomes 300 and the short side
    # int(300 * 256 / 384) = 200 (scaled from the 256x384 pair, not int(300 * 300 / 451) = 199).
    out = T.Resize(256, max_size=300)(Image.fromarray(photo("chelsea")))
    assert out.size == (300, 200)


def test_a_resize_int_interpolation_uses_pil_codes():
    # An int is read as a PIL resample code, NOT a cv2 INTER_* code: 2 is BILINEAR (cv2.INTER_CUBIC is 2).
    expected = {0: "NEAREST", 1: "LANCZOS", 2: "BILINEAR", 3: "BICUBIC", 4: "BOX", 5: "HAMMING"}
    for code, mode in expected.items():
        assert T.Resize((10, 10), interpolation=code).interpolation == InterpolationMode[mode]


# --------------------------------------------------------------------------- b. cv2.resize vs torchvision

# Measured (max, mean) |diff| in grey levels, 224x224, all three channels.
CV_LINEAR_VS_TV_PIL = {"chelsea": (27, 1.347), "astronaut": (85, 2.750), "coffee": (93, 2.937)}
CV_AREA_VS_TV_PIL = {"chelsea": (13, 0.610), "astronaut": (30, 1.124), "coffee": (41, 1.092)}


@pytest.mark.parametrize("name", PHOTOS)
def test_b_cv2_linear_vs_tv_resize_on_pil(name):
    a = photo(name)
    mx, mean = diff(cv2.resize(a, (224, 224)), tv_pil_resize(a))
    exp_max, exp_mean = CV_LINEAR_VS_TV_PIL[name]
    assert abs(mx - exp_max) <= 3 and abs(mean - exp_mean) < 0.05
    assert mx >= 20 and mean > 1.0  # tens of grey levels at edges, >1 level on average


@pytest.mark.parametrize("name", PHOTOS)
def test_b_cv2_area_vs_tv_resize_on_pil(name):
    a = photo(name)
    mx, mean = diff(cv2.resize(a, (224, 224), interpolation=cv2.INTER_AREA), tv_pil_resize(a))
    exp_max, exp_mean = CV_AREA_VS_TV_PIL[name]
    assert abs(mx - exp_max) <= 3 and abs(mean - exp_mean) < 0.05
    # closer than INTER_LINEAR, still not equal
    assert mx < CV_LINEAR_VS_TV_PIL[name][0] and mean < CV_LINEAR_VS_TV_PIL[name][1]


@pytest.mark.parametrize("name", PHOTOS)
def test_b_cv2_linear_vs_tv_resize_on_tensor(name):
    a = photo(name)
    cvl = cv2.resize(a, (224, 224))
    t = torch.from_numpy(a).permute(2, 0, 1)
    # antialias=False on a uint8 tensor: within 1 grey level of cv2 INTER_LINEAR
    mx, mean = diff(cvl, chw(T.Resize((224, 224), antialias=False)(t)))
    assert mx <= 1 and mean < 0.15
    # antialias=False on a float tensor: < 1 level (cv2 rounds to uint8)
    mx, mean = diff(cvl, chw(T.Resize((224, 224), antialias=False)(t.float())))
    assert mx < 1 and mean < 0.3
    # default (antialias=True) on a tensor: as far from cv2 as PIL is, and within 1 level of PIL
    aa = chw(T.Resize((224, 224))(t))
    assert diff(cvl, aa)[0] >= 20
    assert diff(aa, tv_pil_resize(a))[0] <= 1
    # functional.resize default == transforms.Resize default (both antialias=True)
    assert diff(chw(TF.resize(t, [224, 224])), aa) == (0.0, 0.0)
    # v2.Resize on a uint8 tensor: antialiased too, within 1 level of v1
    assert diff(chw(T2.Resize((224, 224))(t)), aa)[0] <= 1


@pytest.mark.parametrize("name", PHOTOS)
def test_b_upscaling_cv2_linear_close_to_pil_bilinear(name):
    # The big gap is the antialias filter on downscale; when upscaling both are plain bilinear.
    c = photo(name)[:100, :150].copy()
    assert diff(cv2.resize(c, (224, 224)), np.asarray(Image.fromarray(c).resize((224, 224), Image.BILINEAR)))[0] <= 1


# Measured (max, mean) of other interpolation mismatches, 224x224.
CV_NEAREST_VS_PIL_BILINEAR = {"chelsea": (80, 5.515), "astronaut": (187, 8.201), "coffee": (191, 8.176)}
CV_CUBIC_VS_PIL_BICUBIC = {"chelsea": (35, 1.639), "astronaut": (94, 3.039), "coffee": (98, 3.607)}


@pytest.mark.parametrize("name", PHOTOS)
def test_b_nearest_and_cubic_mismatch(name):
    a = photo(name)
    p = Image.fromarray(a)
    mx, mean = diff(cv2.resize(a, (224, 224), interpolation=cv2.INTER_NEAREST),
                    np.asarray(p.resize((224, 224), Image.BILINEAR)))
    assert abs(mx - CV_NEAREST_VS_PIL_BILINEAR[name][0]) <= 5
    assert abs(mean - CV_NEAREST_VS_PIL_BILINEAR[name][1]) < 0.1
    mx, mean = diff(cv2.resize(a, (224, 224), interpolation=cv2.INTER_CUBIC),
                    np.asarray(p.resize((224, 224), Image.BICUBIC)))
    assert abs(mx - CV_CUBIC_VS_PIL_BICUBIC[name][0]) <= 5
    assert abs(mean - CV_CUBIC_VS_PIL_BICUBIC[name][1]) < 0.1


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("out", [(224, 224), (640, 427), (100, 37)])
def test_b_cv2_nearest_is_floor_of_dst_times_inverse_scale(name, out):
    # cv2 INTER_NEAREST: src = floor(dst * (1 / (out/in))) in double precision -- the BM1684 bmcv
    # reference is floor(dst*in/out) (docs/sail.md section 2); the two differ only at exact ties.
    a = photo(name)
    h, w = a.shape[:2]
    ow, oh = out
    xs = np.minimum(np.floor(np.arange(ow) * (1.0 / (ow / w))).astype(int), w - 1)
    ys = np.minimum(np.floor(np.arange(oh) * (1.0 / (oh / h))).astype(int), h - 1)
    assert np.array_equal(cv2.resize(a, out, interpolation=cv2.INTER_NEAREST), a[ys][:, xs])


# --------------------------------------------------------------------------- c. size order, constants


def test_c_size_orders():
    a = photo("chelsea")
    p = Image.fromarray(a)
    assert cv2.resize(a, (200, 100)).shape == (100, 200, 3)  # dsize = (width, height)
    assert p.resize((200, 100)).size == (200, 100)  # PIL size = (width, height)
    assert np.asarray(p.resize((200, 100))).shape == (100, 200, 3)
    assert T.Resize((100, 200))(p).size == (200, 100)  # torchvision size = (height, width)
    assert tuple(T.Resize((100, 200))(torch.from_numpy(a).permute(2, 0, 1)).shape) == (3, 100, 200)


def test_c_pil_resize_default_is_bicubic():
    p = Image.fromarray(photo("chelsea"))
    assert inspect.signature(Image.Image.resize).parameters["resample"].default is None
    assert np.array_equal(np.asarray(p.resize((224, 224))), np.asarray(p.resize((224, 224), Image.BICUBIC)))
    assert not np.array_equal(np.asarray(p.resize((224, 224))), np.asarray(p.resize((224, 224), Image.BILINEAR)))


def test_c_cv2_interpolation_constants():
    assert (cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_AREA, cv2.INTER_LANCZOS4,
            cv2.INTER_LINEAR_EXACT, cv2.INTER_NEAREST_EXACT) == (0, 1, 2, 3, 4, 5, 6)
    a = photo("chelsea")
    assert np.array_equal(cv2.resize(a, (224, 224)), cv2.resize(a, (224, 224), interpolation=cv2.INTER_LINEAR))


def test_c_pil_resampling_values():
    R = Image.Resampling
    assert (R.NEAREST, R.LANCZOS, R.BILINEAR, R.BICUBIC, R.BOX, R.HAMMING) == (0, 1, 2, 3, 4, 5)
    assert Image.BILINEAR == R.BILINEAR == 2 and Image.BICUBIC == 3
    assert not hasattr(Image, "ANTIALIAS")  # removed alias (was LANCZOS)


def test_c_torchvision_interpolation_modes():
    assert {m.name: m.value for m in InterpolationMode} == {
        "NEAREST": "nearest", "NEAREST_EXACT": "nearest-exact", "BILINEAR": "bilinear", "BICUBIC": "bicubic",
        "BOX": "box", "HAMMING": "hamming", "LANCZOS": "lanczos"}


# --------------------------------------------------------------------------- d. CenterCrop


@pytest.mark.parametrize("hw", [(300, 451), (225, 225), (255, 255), (261, 263), (227, 229), (256, 256)])
def test_d_center_crop_offsets_are_python_round(hw):
    h, w = hw
    x = torch.arange(h * w).reshape(1, h, w)
    c = T.CenterCrop(224)(x)
    top, left = int(c[0, 0, 0]) // w, int(c[0, 0, 0]) % w
    assert (top, left) == (int(round((h - 224) / 2.0)), int(round((w - 224) / 2.0)))
    # and equal to a manual numpy crop
    a = x.numpy()[0]
    assert np.array_equal(c.numpy()[0], a[top:top + 224, left:left + 224])


def test_d_center_crop_half_offsets_round_to_even():
    # (261-224)/2 = 18.5 -> 18 ; (263-224)/2 = 19.5 -> 20 ; (451-224)/2 = 113.5 -> 114 ; floor would be 18/19/113
    for size, expected in ((261, 18), (263, 20), (451, 114), (227, 2), (229, 2)):
        x = torch.arange(size).reshape(1, 1, size).expand(1, 224, size)
        assert int(T.CenterCrop(224)(x)[0, 0, 0]) == expected


def test_d_center_crop_pil_equals_tensor_and_pads_small_images():
    a = photo("chelsea")
    pc = np.asarray(T.CenterCrop(224)(Image.fromarray(a)))
    tc = chw(T.CenterCrop(224)(torch.from_numpy(a).permute(2, 0, 1)))
    assert np.array_equal(pc, tc) and np.array_equal(pc, a[38:262, 114:338])
    small = T.CenterCrop(224)(torch.ones(3, 200, 200))
    assert small.shape == (3, 224, 224) and small[0, 0, 0] == 0 and small[0, 12, 12] == 1


# Measured on Resize(256) output: (max, mean) of a crop shifted by one column, and of
# Resize((224,224)) without a crop vs Resize(256)+CenterCrop(224).
CROP_SHIFT_1PX = {"chelsea": (100, 6.578), "astronaut": (161, 9.534), "coffee": (170, 5.362)}
NO_CROP_VS_CROP = {"chelsea": (198, 32.243), "astronaut": (255, 45.073), "coffee": (254, 49.755)}


@pytest.mark.parametrize("name", PHOTOS)
def test_d_crop_mismatch_magnitudes(name):
    a = photo(name)
    r = np.asarray(T.Resize(256)(Image.fromarray(a)))
    h, w = r.shape[:2]
    top, left = int(round((h - 224) / 2.0)), int(round((w - 224) / 2.0))
    crop = r[top:top + 224, left:left + 224]
    assert np.array_equal(crop, np.asarray(T.CenterCrop(224)(Image.fromarray(r))))
    mx, mean = diff(crop, r[top:top + 224, left - 1:left - 1 + 224])
    assert abs(mx - CROP_SHIFT_1PX[name][0]) <= 3 and abs(mean - CROP_SHIFT_1PX[name][1]) < 0.05
    mx, mean = diff(crop, tv_pil_resize(a))
    assert abs(mx - NO_CROP_VS_CROP[name][0]) <= 3 and abs(mean - NO_CROP_VS_CROP[name][1]) < 0.05


SHORTER_SIDE_CROP_VS_CV2_STRETCH = {"chelsea": (199, 32.529), "astronaut": (255, 45.837), "coffee": (254, 50.092)}


@pytest.mark.parametrize("name", PHOTOS)
def test_d_shorter_side_crop_vs_cv2_stretch(name):
    a = photo(name)
    tv = np.asarray(T.CenterCrop(224)(T.Resize(256)(Image.fromarray(a))))
    mx, mean = diff(tv, cv2.resize(a, (224, 224)))
    exp = SHORTER_SIDE_CROP_VS_CV2_STRETCH[name]
    assert abs(mx - exp[0]) <= 3 and abs(mean - exp[1]) < 0.05


# --------------------------------------------------------------------------- e. tensor conversion, Normalize


def test_e_to_tensor_scales_uint8_and_transposes():
    a = photo("chelsea")
    t = T.ToTensor()(Image.fromarray(a))
    assert t.dtype == torch.float32 and tuple(t.shape) == (3, 300, 451)
    assert torch.equal(t, torch.from_numpy(a).permute(2, 0, 1).float() / 255)
    assert torch.equal(T.ToTensor()(a), t)  # HWC uint8 ndarray too
    # a float ndarray is NOT divided by 255
    assert T.ToTensor()(a.astype(np.float32)).max().item() == float(a.max())


def test_e_pil_to_tensor_and_convert_image_dtype():
    a = photo("chelsea")
    pt = T.PILToTensor()(Image.fromarray(a))
    assert pt.dtype == torch.uint8 and torch.equal(pt, torch.from_numpy(a).permute(2, 0, 1))
    assert torch.equal(T.ConvertImageDtype(torch.float32)(pt), T.ToTensor()(a))


def test_e_normalize_formula_and_numpy_equivalents():
    a = photo("chelsea")
    t = T.ToTensor()(a)
    n = T.Normalize(MEAN, STD)(t)
    ref = (t - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]
    assert torch.equal(n, ref)
    # sophon-demo numpy idiom: (x - mean*255) * (1/(std*255))
    m255 = np.array(MEAN) * 255.0
    s = 1 / (np.array(STD) * 255.0)
    assert np.abs((a - m255) * s - chw(n)).max() < 1e-6
    # convert_to folding a=1/(255*std), b=-mean/std (docs/sail.md section 1): out = a*x + b
    alpha, beta = 1 / (255 * np.array(STD)), -np.array(MEAN) / np.array(STD)
    assert np.abs(a * alpha + beta - chw(n)).max() < 1e-5
    # forgetting /255 is a gross error
    assert np.abs((a - np.array(MEAN)) / np.array(STD) - chw(n)).max() > 1000


# (max |diff|) against Normalize(ToTensor(x)) in normalised units.
NORM_MISMATCH = {"chelsea": (0.384, 2.084, 1.722), "astronaut": (0.391, 2.118, 2.046),
                 "coffee": (0.391, 2.118, 2.046)}


@pytest.mark.parametrize("name", PHOTOS)
def test_e_normalize_mismatch_magnitudes(name):
    a = photo(name)
    ref = chw(T.Normalize(MEAN, STD)(T.ToTensor()(a)))
    reversed_consts = (a / 255.0 - np.array(MEAN)[::-1]) / np.array(STD)[::-1]  # constants in BGR order
    # convert_to 2-arg BMImage form keeps u8 output: clamp to [0,255] then round (docs/sail.md section 1),
    # emulated here from the documented formula out = a*x + b
    alpha, beta = 1 / (255 * np.array(STD)), -np.array(MEAN) / np.array(STD)
    u8_out = np.clip(np.round(a * alpha + beta), 0, 255)
    no_std = a / 255.0 - np.array(MEAN)
    exp = NORM_MISMATCH[name]
    for got, want in zip((diff(ref, reversed_consts)[0], diff(ref, u8_out)[0], diff(ref, no_std)[0]), exp):
        assert abs(got - want) < 0.01


def test_e_to_pil_image_keeps_channel_order():
    a = photo("chelsea")
    bgr = a[:, :, ::-1].copy()
    assert np.array_equal(np.asarray(T.ToPILImage()(a)), a)
    assert np.array_equal(np.asarray(T.ToPILImage()(bgr)), bgr)  # no BGR->RGB swap
    assert T.ToPILImage()(bgr).mode == "RGB"


@pytest.mark.parametrize("name", PHOTOS)
def test_e_channel_swap_magnitude(name):
    a = photo(name)
    mx, mean = diff(a, a[:, :, ::-1])
    assert mx > 100 and mean > 30  # chelsea 136/40.6, astronaut 187/31.9, coffee 208/71.4


def test_e_layout_idioms():
    a = photo("chelsea")
    bgr = a[:, :, ::-1]
    # sophon-demo: bgr.transpose((2,0,1))[::-1] is RGB CHW
    assert np.array_equal(bgr.transpose((2, 0, 1))[::-1], a.transpose(2, 0, 1))
    assert np.array_equal(T.ToTensor()(a).numpy(), a.transpose(2, 0, 1) / np.float32(255))


def test_e_numpy_division_promotes_to_float64():
    a = photo("chelsea")
    assert (a / 255.0).dtype == np.float64
    assert (a.astype(np.float32) / 255.0).dtype == np.float32
    assert (a.astype(np.float32) - np.array(MEAN)).dtype == np.float64  # float64 mean array promotes
    assert T.ToTensor()(a).dtype == torch.float32


# --------------------------------------------------------------------------- f. decoding


@pytest.fixture()
def exif6_jpeg(tmp_path):
    img = Image.fromarray(photo("chelsea"))  # 451 wide, 300 high
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    path = tmp_path / "o6.jpg"
    img.save(path, quality=95, exif=exif)
    plain = tmp_path / "plain.jpg"
    img.save(plain, quality=95)
    return path, plain


def test_f_imread_default_is_bgr_and_applies_exif(exif6_jpeg):
    path, plain = exif6_jpeg
    assert Image.open(path).getexif()[0x0112] == 6
    c = cv2.imread(str(path))
    assert cv2.IMREAD_COLOR == 1 and c.shape == (451, 300, 3)  # rotated
    assert np.array_equal(c, cv2.rotate(cv2.imread(str(plain)), cv2.ROTATE_90_CLOCKWISE))
    assert np.array_equal(cv2.imread(str(plain))[:, :, ::-1], np.asarray(Image.open(plain).convert("RGB")))  # BGR
    assert cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR).shape == (451, 300, 3)
    assert cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).shape == (451, 300)
    assert cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION).shape == (300, 451, 3)
    # cv2 5.x: IMREAD_COLOR_RGB (256) decodes to RGB, EXIF applied
    rgb = cv2.imread(str(path), cv2.IMREAD_COLOR_RGB)
    assert cv2.IMREAD_COLOR_RGB == 256 and np.array_equal(rgb, c[:, :, ::-1])


def test_f_unchanged_ignores_exif(exif6_jpeg):
    path, _ = exif6_jpeg
    assert cv2.IMREAD_UNCHANGED == -1
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape == (300, 451, 3)
    assert cv2.imdecode(np.fromfile(path, dtype=np.uint8), -1).shape == (300, 451, 3)


def test_f_pil_open_ignores_exif(exif6_jpeg):
    path, _ = exif6_jpeg
    assert Image.open(path).convert("RGB").size == (451, 300)  # not rotated
    t = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    assert t.size == (300, 451)
    assert np.array_equal(np.asarray(t), cv2.imread(str(path))[:, :, ::-1])


def test_f_rgba_and_grey_png(tmp_path):
    a = photo("chelsea")
    rgba = np.dstack([a, np.full(a.shape[:2], 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(a[:, :, 0]).save(tmp_path / "g.png")
    u = cv2.imdecode(np.fromfile(tmp_path / "rgba.png", np.uint8), -1)
    assert u.shape == (300, 451, 4) and np.array_equal(u[:, :, :3], a[:, :, ::-1]) and u[0, 0, 3] == 128  # BGRA
    assert cv2.imread(str(tmp_path / "rgba.png"), cv2.IMREAD_UNCHANGED).shape == (300, 451, 4)
    assert np.array_equal(cv2.imread(str(tmp_path / "rgba.png")), a[:, :, ::-1])  # alpha dropped, no blending
    assert np.array_equal(np.asarray(Image.open(tmp_path / "rgba.png").convert("RGB")), a)
    g = cv2.imdecode(np.fromfile(tmp_path / "g.png", np.uint8), -1)
    assert g.shape == (300, 451) and g.ndim == 2
    assert cv2.imread(str(tmp_path / "g.png")).shape == (300, 451, 3)
    assert Image.open(tmp_path / "g.png").mode == "L"


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("quality,subsampling", [(75, 2), (95, 0)])
def test_f_pil_and_cv2_jpeg_decode_identical(tmp_path, name, quality, subsampling):
    # Both wheels bundle libjpeg-turbo (cv2: 3.1.2, Pillow: 3.2.0) with the same IDCT and fancy upsampling.
    path = tmp_path / f"{name}.jpg"
    Image.fromarray(photo(name)).save(path, quality=quality, subsampling=subsampling)
    pil = np.asarray(Image.open(path).convert("RGB"))
    cv = cv2.imread(str(path))[:, :, ::-1]
    assert diff(pil, cv) == (0.0, 0.0)


# --------------------------------------------------------------------------- g. blobFromImage


def test_g_blob_from_image_order_of_operations():
    bgr = photo("chelsea")[:, :, ::-1].copy()
    mean, sf = (10.0, 20.0, 30.0), 0.5
    b = cv2.dnn.blobFromImage(bgr, sf, (224, 160), mean, swapRB=False, crop=False)
    assert b.shape == (1, 3, 160, 224) and b.dtype == np.float32  # size is (w, h), output NCHW float32
    r = cv2.resize(bgr, (224, 160)).astype(np.float32)  # uint8 INTER_LINEAR resize first
    assert np.abs(b - ((r - np.float32(mean)) * sf).transpose(2, 0, 1)[None]).max() == 0  # (x - mean) * sf
    assert np.abs(b - (r * sf - np.float32(mean)).transpose(2, 0, 1)[None]).max() > 1
    # swapRB swaps first: the mean is given in the OUTPUT (swapped) order
    b2 = cv2.dnn.blobFromImage(bgr, sf, (224, 160), mean, swapRB=True, crop=False)
    assert np.abs(b2 - ((r[:, :, ::-1] - np.float32(mean)) * sf).transpose(2, 0, 1)[None]).max() == 0
    # defaults: scalefactor 1, size = input size, mean 0, swapRB False, crop False
    d = cv2.dnn.blobFromImage(bgr)
    assert d.shape == (1, 3, 300, 451) and np.array_equal(d[0], bgr.transpose(2, 0, 1).astype(np.float32))


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("size", [(224, 224), (300, 200), (200, 300)])
def test_g_blob_from_image_crop(name, size):
    # crop=True: resize by fx=fy=max(W/w, H/h) (cv2.resize(img, None, fx, fy), INTER_LINEAR), then a
    # centre crop at floor((resized - size) / 2).
    bgr = photo(name)[:, :, ::-1].copy()
    b = cv2.dnn.blobFromImage(bgr, 1.0, size, (0, 0, 0), swapRB=False, crop=True)
    h, w = bgr.shape[:2]
    s = max(size[0] / w, size[1] / h)
    rr = cv2.resize(bgr, None, fx=s, fy=s).astype(np.float32)
    y0, x0 = (rr.shape[0] - size[1]) // 2, (rr.shape[1] - size[0]) // 2
    assert np.array_equal(b[0], rr[y0:y0 + size[1], x0:x0 + size[0]].transpose(2, 0, 1))


# --------------------------------------------------------------------------- h. padding / letterbox


def test_h_copy_make_border_value():
    a = np.zeros((10, 20, 3), np.uint8)
    b = cv2.copyMakeBorder(a, 1, 2, 3, 4, cv2.BORDER_CONSTANT, value=(114, 114, 114))
    assert b.shape == (13, 27, 3) and b[0, 0].tolist() == [114, 114, 114] and b[1, 3].tolist() == [0, 0, 0]
    assert cv2.copyMakeBorder(a, 1, 1, 1, 1, cv2.BORDER_CONSTANT)[0, 0].tolist() == [0, 0, 0]  # default 0
    # a scalar value fills only the first channel: Scalar(114, 0, 0, 0)
    assert cv2.copyMakeBorder(a, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=114)[0, 0].tolist() == [114, 0, 0]


def _letterbox_yolov5(h, w, new=640):
    r = min(new / h, new / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    dw, dh = (new - nw) / 2, (new - nh) / 2
    return (nw, nh), (int(round(dh - 0.1)), int(round(dh + 0.1)), int(round(dw - 0.1)), int(round(dw + 0.1)))


def _letterbox_int(h, w, new=640):
    # the int-truncated variant (sophon-demo YOLOv5 bmcv PaddingAtrr, sail ImagePreProcess): scaled side
    # truncated, top/left = int(pad / 2), the rest at the bottom/right
    r = min(new / h, new / w)
    nw, nh = int(w * r), int(h * r)
    top, left = int((new - nh) / 2), int((new - nw) / 2)
    return (nw, nh), (top, new - nh - top, left, new - nw - left)


def test_h_letterbox_numbers():
    # 1080 high x 810 wide, and 810 high x 1080 wide: both variants agree (80 px each side)
    assert _letterbox_yolov5(1080, 810) == _letterbox_int(1080, 810) == ((480, 640), (0, 0, 80, 80))
    assert _letterbox_yolov5(810, 1080) == _letterbox_int(810, 1080) == ((640, 480), (80, 80, 0, 0))
    # odd total pad: round(dh -/+ 0.1) puts the extra pixel at the bottom, like int()
    assert _letterbox_yolov5(427, 640) == _letterbox_int(427, 640) == ((640, 427), (106, 107, 0, 0))
    # where they differ: the scaled side. coffee 400x600: 400*640/600 = 426.67 -> 427 vs 426
    assert _letterbox_yolov5(400, 600) == ((640, 427), (106, 107, 0, 0))
    assert _letterbox_int(400, 600) == ((640, 426), (107, 107, 0, 0))
    # chelsea 300x451: 300*640/451 = 425.72 -> 426 vs 425
    assert _letterbox_yolov5(300, 451) == ((640, 426), (107, 107, 0, 0))
    assert _letterbox_int(300, 451) == ((640, 425), (107, 108, 0, 0))


def test_h_round_minus_plus_point_one_equals_floor_ceil():
    # dh is always a multiple of 0.5, so round(dh-0.1) == int(dh) == floor and round(dh+0.1) == ceil.
    # The two letterbox variants can only differ through round() vs int() of the scaled side.
    for total in range(0, 641):
        dh = total / 2
        assert int(round(dh - 0.1)) == int(dh)
        assert int(round(dh + 0.1)) == total - int(dh)
    # plain round(dh) on both sides loses a pixel when dh ends in .5 (banker's rounding)
    assert round(106.5) + round(106.5) == 212 != 213


def test_h_letterbox_variants_disagree_often():
    grid = [(h, w) for h in range(200, 1200, 7) for w in range(200, 1200, 11)]
    n_diff = sum(_letterbox_yolov5(h, w)[0] != _letterbox_int(h, w)[0] for h, w in grid)
    assert 0.45 < n_diff / len(grid) < 0.55  # measured 6467 / 13013 = 49.7 %


def _letterbox_image(a, variant, interpolation=cv2.INTER_LINEAR):
    (nw, nh), (t, b, l, r) = variant(*a.shape[:2])
    x = cv2.resize(a, (nw, nh), interpolation=interpolation)
    return cv2.copyMakeBorder(x, t, b, l, r, cv2.BORDER_CONSTANT, value=(114, 114, 114))


@pytest.mark.parametrize("name,exp_max,exp_mean", [("chelsea", 85, 1.212), ("coffee", 126, 1.863)])
def test_h_letterbox_variants_image_diff(name, exp_max, exp_mean):
    a = photo(name)
    mx, mean = diff(_letterbox_image(a, _letterbox_yolov5), _letterbox_image(a, _letterbox_int))
    assert abs(mx - exp_max) <= 5 and abs(mean - exp_mean) < 0.05


@pytest.mark.parametrize("name,placement,value", [("chelsea", (175, 28.829), (114, 38.119)),
                                                  ("coffee", (255, 47.095), (114, 37.941))])
def test_h_pad_placement_and_value_magnitudes(name, placement, value):
    a = photo(name)
    h, w = a.shape[:2]
    r = min(640 / h, 640 / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    x = cv2.resize(a, (nw, nh))
    dy, dx = (640 - nh) // 2, (640 - nw) // 2
    centred = np.full((640, 640, 3), 114, np.uint8)
    centred[dy:dy + nh, dx:dx + nw] = x
    top_left = np.full((640, 640, 3), 114, np.uint8)
    top_left[:nh, :nw] = x
    zero = np.zeros((640, 640, 3), np.uint8)
    zero[dy:dy + nh, dx:dx + nw] = x
    mx, mean = diff(centred, top_left)
    assert abs(mx - placement[0]) <= 3 and abs(mean - placement[1]) < 0.05
    mx, mean = diff(centred, zero)
    assert mx == value[0] and abs(mean - value[1]) < 0.05


# --------------------------------------------------------------------------- i. NMS


def test_i_torchvision_nms_strict_and_no_plus_one():
    from torchvision.ops import box_iou, nms
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 5.0]])  # xyxy, IoU exactly 0.5
    scores = torch.tensor([0.9, 0.8])
    assert box_iou(boxes, boxes)[0, 1].item() == 0.5
    assert nms(boxes, scores, 0.5).tolist() == [0, 1]  # IoU == thr is kept: suppress only IoU > thr
    assert nms(boxes, scores, 0.4999).tolist() == [0]
    # areas without +1: [0,0,2,2] vs [1,0,3,2] -> 2/6
    assert abs(box_iou(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 0, 3, 2]])).item() - 1 / 3) < 1e-6
    assert nms(torch.tensor([[0.0, 0, 1, 1], [1.0, 1, 2, 2]]), torch.tensor([0.9, 0.8]), 0.0).tolist() == [0, 1]


def test_i_cv2_nms_boxes_semantics():
    boxes = [[0, 0, 10, 10], [0, 0, 10, 5]]  # (x, y, w, h): IoU exactly 0.5
    r = cv2.dnn.NMSBoxes(boxes, [0.9, 0.8], 0.0, 0.5)
    assert isinstance(r, np.ndarray) and r.shape == (2,) and r.dtype == np.int32  # flat int32 indices
    assert r.tolist() == [0, 1]  # IoU == thr kept: suppress only IoU > thr
    assert cv2.dnn.NMSBoxes(boxes, [0.9, 0.8], 0.0, 0.4999).tolist() == [0]
    assert cv2.dnn.NMSBoxes([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 5.0]], [0.9, 0.8], 0.0, 0.5).tolist() == [0, 1]
    # score filter is score > threshold (a score equal to the threshold is dropped)
    far = [[0, 0, 10, 10], [50, 50, 10, 10]]
    assert cv2.dnn.NMSBoxes(far, [0.9, 0.5], 0.5, 0.5).tolist() == [0]
    assert cv2.dnn.NMSBoxes(far, [0.9, 0.5], 0.4999, 0.5).tolist() == [0, 1]
    # no +1 for integer boxes: IoU of (0,0,2,2) and (1,0,2,2) is 2/6
    assert cv2.dnn.NMSBoxes([[0, 0, 2, 2], [1, 0, 2, 2]], [0.9, 0.8], 0.0, 0.33).tolist() == [0]
    assert cv2.dnn.NMSBoxes([[0, 0, 2, 2], [1, 0, 2, 2]], [0.9, 0.8], 0.0, 0.34).tolist() == [0, 1]
    # nothing kept: an empty TUPLE, not an empty array (`.flatten()` raises)
    empty = cv2.dnn.NMSBoxes([[0, 0, 10, 10]], [0.3], 0.5, 0.5)
    assert isinstance(empty, tuple) and empty == ()


def test_i_ascending_argsort_keeps_lowest_scores():
    s = np.array([0.1, 0.9, 0.5, 0.7, 0.3])
    assert s[np.argsort(s)[:2]].tolist() == [0.1, 0.3]  # the sophon-demo `argsort(x[:, 4])[:max_nms]` bug
    assert s[s.argsort()[::-1][:2]].tolist() == [0.9, 0.7]
    assert s[np.argsort(-s)[:2]].tolist() == [0.9, 0.7]


# --------------------------------------------------------------------------- j. rounding


def test_j_rounding_modes():
    xs = (0.5, 1.5, 2.5, 3.5, -0.5)
    assert [round(x) for x in xs] == [0, 2, 2, 4, 0]  # half to even
    assert [float(np.round(x)) for x in xs] == [0.0, 2.0, 2.0, 4.0, -0.0]  # half to even
    assert torch.round(torch.tensor([0.5, 1.5, 2.5])).tolist() == [0.0, 2.0, 2.0]
    assert [int(x + 0.5) for x in xs] == [1, 2, 3, 4, 0]  # half up (towards zero below 0)
    # round(x, n) and np.round(x, n) differ: Python is correctly rounded on the binary value,
    # numpy scales by 10**n and rounds half to even
    assert round(2.675, 2) == 2.67 and float(np.round(2.675, 2)) == 2.68


def test_j_coco_json_rounding_of_float32():
    # round() of a numpy float32 returns float32; float() of it is not a 3-decimal number in json
    v = np.float32(12.3456)
    assert type(round(v, 3)) is np.float32
    assert json.dumps(float(round(v, 3))) == "12.345999717712402"
    assert json.dumps(round(float(v), 3)) == "12.346"
    assert json.dumps(float(v)) == "12.345600128173828"


# --------------------------------------------------------------------------- trace / export


class _Branchy(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x * 2
        return x - 100


def test_trace_data_dependent_control_flow_freezes_one_branch():
    m = _Branchy()
    pos, neg = torch.ones(3), -torch.ones(3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        traced = torch.jit.trace(m, pos)
    assert any(isinstance(w.message, torch.jit.TracerWarning) for w in caught)
    # torch 2.14: torch.jit.trace itself is deprecated
    assert any(w.category is FutureWarning and "torch.jit.trace" in str(w.message) for w in caught)
    assert m(neg).tolist() == [-101.0] * 3
    assert traced(neg).tolist() == [-2.0] * 3  # traced graph took the x.sum() > 0 branch for ever
    assert traced(pos).tolist() == m(pos).tolist()


class _ConvBnDrop(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c = torch.nn.Conv2d(3, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.d = torch.nn.Dropout(0.5)

    def forward(self, x):
        return self.d(self.bn(self.c(x)))


def test_trace_in_train_mode_differs_from_eval():
    torch.manual_seed(0)
    net = _ConvBnDrop()
    assert net.training  # modules start in train mode
    for _ in range(3):  # give BatchNorm non-trivial running statistics
        net(torch.randn(2, 3, 8, 8) * 3 + 1)
    x = torch.randn(2, 3, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train_traced = torch.jit.trace(copy.deepcopy(net).train(), x, check_trace=False)
        ref = copy.deepcopy(net).eval()
        eval_traced = torch.jit.trace(ref, x)
    with torch.no_grad():
        assert (eval_traced(x) - ref(x)).abs().max().item() == 0
        assert (train_traced(x) - ref(x)).abs().max().item() > 1  # measured 4.89
        train_traced.eval()  # too late: training-mode batch_norm/dropout are baked into the graph
        assert (train_traced(x) - ref(x)).abs().max().item() > 1
        assert (train_traced(x) - train_traced(x)).abs().max().item() > 0  # dropout still random


# --------------------------------------------------------------------------- output order


def test_output_order_lexicographic_differs_from_numeric():
    # SAIL's numpy Engine.process returns a dict built from std::map: keys sorted as strings
    # (docs/sail.md section 4). Python's sorted() on str is the same byte order.
    names = ["output0", "output1", "output2", "output10"]
    assert sorted(names) == ["output0", "output1", "output10", "output2"]
    assert sorted(["3", "17", "28"]) == ["17", "28", "3"]
    assert sorted(["boxes", "scores", "Classes"]) == ["Classes", "boxes", "scores"]


@pytest.mark.parametrize("name, max_lo, mean_lo", [("astronaut", 40, 0.8), ("coffee", 55, 1.3), ("chelsea", 12, 0.5)])
def test_b_area_vs_linear_when_shrinking_the_long_side(name, max_lo, mean_lo):
    """PL102's run-time choice: yolov5's load_image shrinks with INTER_AREA, a port with INTER_LINEAR."""
    im = getattr(skdata, name)()
    h, w = im.shape[:2]
    r = 320 / max(h, w)
    size = (int(w * r), int(h * r))
    area = cv2.resize(im, size, interpolation=cv2.INTER_AREA).astype(int)
    linear = cv2.resize(im, size, interpolation=cv2.INTER_LINEAR).astype(int)
    d = np.abs(area - linear)
    assert d.max() >= max_lo and d.mean() >= mean_lo
