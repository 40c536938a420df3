"""Flame and smoke in forest-camera frames, by classical computer vision; and the
sequence rule that turns detections into an alarm. Pure logic on NumPy arrays, no I/O.

Why classical cues and not a learned model, and what that costs, is in
``docs/adr/0007-classical-fire-detection.md``. In short:

* **Flame** pixels follow the colour rules of Çelik & Demirel (2009, "Fire detection
  in video sequences using a generic color model", Fire Safety Journal 44) in YCbCr
  (Y > Cb, Cr > Cb, Cr - Cb >= tau, brighter and redder than the frame's mean), with
  the RGB ordering R >= G >= B of Chen et al. (2004). Regions grow only from a
  warm-white core that saturates the camera, since a flame is a light source and a
  red roof, autumn leaves or a glowing sky are not; a region that is mostly white
  core is a lamp or a headlight. Its *flicker* is how unlike itself it is a second
  later (normalised correlation, allowing a small shift): a flame never looks the
  same twice, a red car, a lamp or a sunset does.
* **Smoke** pixels have *changed* against a slowly learnt background of the same
  pose, are grey or much greyer than the scene was there, are not a shadow (a
  shadow darkens and keeps its colour; thin smoke over green forest leaves it
  brighter *and* paler, of the same hue) and add no sharp edges. Regions that cover much of the
  frame, regions beside which the slope greyed as well (a layer of fog or low
  cloud), and a fogged-in or dark scene are not judged.
* A :class:`SequenceTracker` follows regions of one camera and pose over frames and
  raises an alarm only when a region persists (N of the last M frames) *and* behaves
  like fire: a flame flickers and pulses or grows in place; smoke keeps moving, rises
  from a fixed base and swells as its source feeds it. Vehicles and headlights move
  their base, a wisp of fog keeps its size or has come from elsewhere (a track keeps
  where it began): neither is fire. Nor is a change that stands in place from one
  second to the next (fog thickening where it lies; smoke is carried), or a region
  that stands out from its surroundings less than the learnt scene did there (a
  "ghost": the road a car uncovers that stood in view while the pose was learnt).
  N, M and the behaviour thresholds follow the fire-danger level.

Frames are BGR ``uint8`` arrays (OpenCV's order). Boxes are ``(x, y, w, h)`` in the
pixels of the frame given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from statistics import median
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

# OpenCV's stubs type every image as "some numeric array"; the names say what is held.
U8Array = npt.NDArray[Any]
F32Array = npt.NDArray[Any]

AlarmKind = Literal["flame", "smoke", "flame_and_smoke"]


class FireCue(StrEnum):
    FLAME = "flame"
    SMOKE = "smoke"


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    @property
    def centre_x(self) -> float:
        return self.x + self.w / 2.0

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def scaled(self, factor: float) -> Box:
        """The same box in an image ``factor`` times larger."""
        return Box(
            x=round(self.x * factor),
            y=round(self.y * factor),
            w=max(1, round(self.w * factor)),
            h=max(1, round(self.h * factor)),
        )

    def union(self, other: Box) -> Box:
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1 = max(self.x + self.w, other.x + other.w)
        y1 = max(self.bottom, other.bottom)
        return Box(x0, y0, x1 - x0, y1 - y0)

    def grown(self, margin: float) -> Box:
        """The box widened by ``margin`` of its size on every side."""
        dx, dy = round(self.w * margin), round(self.h * margin)
        return Box(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)

    def overlap(self, other: Box) -> int:
        w = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        h = min(self.bottom, other.bottom) - max(self.y, other.y)
        return max(w, 0) * max(h, 0)

    def iou(self, other: Box) -> float:
        inter = self.overlap(other)
        return inter / float(self.area + other.area - inter) if inter else 0.0

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


@dataclass(frozen=True, slots=True)
class Detection:
    """One region of one frame that looks like flame or smoke.

    ``motion`` is the region's change since the last frame beyond the scene's own,
    0 (still) to 1: the flicker of a flame, the drift of smoke. ``pixels`` and
    ``brightness`` (mean luma) of the region let a track see it pulse. ``stasis``
    (smoke) is how much the region's change against the learnt scene stands where
    it stood a second before (normalised correlation at no shift, up to 1): smoke is
    carried up and about, fog thickening where it lies is not.
    """

    cue: FireCue
    box: Box
    confidence: float
    motion: float
    pixels: int = 0
    brightness: float = 0.0
    stasis: float = 0.0


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """Thresholds of the per-frame detectors; 8-bit units unless said otherwise."""

    # Frames are analysed with their longer side at most this many pixels.
    working_size: int = 320
    # Çelik & Demirel's tau: how much redder than blue (Cr - Cb) a flame pixel is.
    flame_chroma_gap: int = 40
    flame_min_red: int = 150
    # A flame's core: warm-white pixels at least this bright (the camera saturates).
    flame_core_luma: int = 220
    flame_min_area: int = 4
    # How far (working pixels) fire colours may reach from a core, how many
    # fire-coloured pixels a flame shows at least, and how much of it may be core.
    flame_core_reach: int = 5
    flame_min_coloured: int = 2
    flame_max_core_share: float = 0.35
    # A region wider than this share of the frame is glow (a sunset sky), not a flame
    # first seen from a lookout: such a fire would have been reported while smaller.
    flame_max_width_share: float = 0.4
    # Smoke: grey (HSV saturation at most this, or at most this share of what the
    # scene had there), and changed by at least this much luma.
    smoke_max_saturation: int = 64
    smoke_relative_saturation: float = 0.6
    smoke_min_change: float = 7.0
    # ... or brighter by that much and at most this share of the scene's saturation.
    smoke_veil_saturation: float = 0.85
    # ... and keeps the scene's hue: mixing grey into a colour shortens its chroma
    # vector (Cr, Cb) without turning it, so the cosine between the chroma now and
    # the background's stays at least this. What a passing red car uncovers (sky,
    # a green slope) is brighter and paler than the half-learnt car, but of another
    # hue. Where the background has hardly any chroma (below ``smoke_veil_min_chroma``)
    # its hue is noise and is not asked.
    smoke_veil_hue_cos: float = 0.9
    smoke_veil_min_chroma: float = 4.0
    # Smoke veils texture: its edge energy stays below this multiple of the scene's.
    smoke_edge_gain: float = 2.0
    smoke_min_area: int = 10
    # Below this median luma the scene is too dark to see smoke at all; above this
    # share of grey pixels it is fogged in.
    smoke_min_scene_luma: int = 25
    smoke_max_grey_share: float = 0.75
    # Regions wider than this share of the frame are fog or cloud, not a plume.
    smoke_max_width_share: float = 0.45
    smoke_max_area_share: float = 0.12
    # A plume greys the scene where it stands; fog the whole slope at its height. A
    # region beside which the scene greyed by more than this share of its own change
    # is fog or low cloud.
    smoke_max_band_context: float = 0.35
    # A ghost: where something that stood in view while the pose was learnt (a car at
    # start-up) has left, the learnt scene is wrong, not the view. The region then
    # stands out from its surroundings less than the learnt scene did there, where
    # smoke stands out more: a region whose contrast with the ring around it (median
    # YCrCb) is below this share of the learnt scene's is a ghost.
    smoke_ghost_contrast: float = 0.5
    # How fast the background of a pose learns the scene (per frame), and how much
    # slower where smoke or flame is seen, so a growing plume is not learnt away.
    background_rate: float = 0.08
    background_rate_under_fire: float = 0.01
    # Where the luma stayed within this of the last frame, learn at this rate.
    still_luma: float = 3.0
    background_rate_still: float = 0.3


DEFAULT_SETTINGS = DetectorSettings()


@dataclass(frozen=True, slots=True, eq=False)
class SceneMemory:
    """What the detectors remember of one camera pose between frames.

    Held at the working resolution: the last frame's luma (for flicker), and the
    slowly learnt background luma, saturation, chroma (Cr - 128, Cb - 128: the
    scene's hue) and edge energy at half of it (for smoke). A new size starts a new
    memory.
    """

    last_luma: U8Array
    last_luma_half: U8Array
    background_luma: F32Array
    background_saturation: F32Array
    background_chroma: F32Array
    background_edges: F32Array
    frames: int


@dataclass(frozen=True, slots=True, eq=False)
class FrameAnalysis:
    detections: tuple[Detection, ...]
    memory: SceneMemory


class UndecodableFrame(ValueError):
    """The bytes are not a JPEG or PNG image this module can read."""


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's frame header or a PNG's IHDR, without decoding."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        # SOF0-SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return width, height
        at += 2 + length
    return None


_REDUCED = {
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def decode_frame(data: bytes, settings: DetectorSettings = DEFAULT_SETTINGS) -> tuple[U8Array, int]:
    """A JPEG or PNG as a BGR frame, and the factor from its pixels to the image's.

    JPEGs are decoded directly at 1/2, 1/4 or 1/8 scale when that still leaves the
    working resolution: the decoder then skips most of its work, which is the larger
    part of the cost of a frame.
    """
    size = _image_size(data)
    reduction = 1
    if size is not None and data[:2] == b"\xff\xd8":
        while reduction < 8 and max(size) // (reduction * 2) >= settings.working_size:
            reduction *= 2
    flag = _REDUCED.get(reduction, cv2.IMREAD_COLOR)
    try:
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), flag) if data else None
    except cv2.error as exc:
        raise UndecodableFrame("the frame is not a JPEG or PNG image that can be decoded") from exc
    if frame is None or frame.ndim != 3:
        raise UndecodableFrame("the frame is not a JPEG or PNG image that can be decoded")
    return frame, reduction


def _working_frame(frame: U8Array, size: int) -> tuple[U8Array, float]:
    """The frame at working resolution, and the factor back to the frame's pixels."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError("a frame is an H x W x 3 array of uint8 (BGR)")
    h, w = frame.shape[:2]
    if h < 8 or w < 8:
        raise ValueError(f"a frame of {w}x{h} pixels is too small to analyse")
    factor = max(h, w) / float(size)
    if factor <= 1.0:
        return frame, 1.0
    work = cv2.resize(
        frame, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA
    ).astype(np.uint8)
    return work, w / float(work.shape[1])


def _edges(luma: U8Array) -> F32Array:
    """Local edge energy: the smoothed absolute Laplacian."""
    lap = np.abs(cv2.Laplacian(luma, cv2.CV_32F, ksize=3))
    return cv2.blur(lap, (3, 3)).astype(np.float32)


def _components(mask: U8Array, min_area: int) -> list[tuple[Box, U8Array]]:
    """Connected regions of at least ``min_area`` pixels, with their own masks."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    found: list[tuple[Box, U8Array]] = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < min_area:
            continue
        region = (labels[y : y + h, x : x + w] == label).astype(np.uint8)
        found.append((Box(x, y, w, h), region))
    return found


def _dissimilarity(luma: U8Array, last: U8Array, box: Box, search: int = 2) -> float:
    """How unlike itself a region is since the last frame: 1 - the best normalised
    correlation of its patch with the same place then, shifted by up to ``search``
    pixels (so that swaying leaves and a trembling mast do not count as change).
    """
    h, w = luma.shape
    side = 10
    cx, cy = box.x + box.w // 2, box.y + box.h // 2
    half_w, half_h = max(box.w, side) // 2 + 1, max(box.h, side) // 2 + 1
    x0, x1 = max(cx - half_w, search), min(cx + half_w, w - search)
    y0, y1 = max(cy - half_h, search), min(cy + half_h, h - search)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0
    template = luma[y0:y1, x0:x1]
    if float(template.std()) < 2.0:
        return 0.0
    area = last[y0 - search : y1 + search, x0 - search : x1 + search]
    best = float(cv2.matchTemplate(area, template, cv2.TM_CCOEFF_NORMED).max())
    return min(1.0, max(0.0, 1.0 - best))


def _scene_change(luma: U8Array, last: U8Array) -> float:
    """The change of the scene as a whole: the median absolute difference."""
    return float(np.median(cv2.absdiff(luma, last)))


def _flame_detections(
    work: U8Array,
    ycrcb: U8Array,
    last_luma: U8Array | None,
    settings: DetectorSettings,
) -> tuple[list[Detection], U8Array]:
    luma = ycrcb[:, :, 0]
    cr = ycrcb[:, :, 1].astype(np.int16)
    cb = ycrcb[:, :, 2].astype(np.int16)
    b = work[:, :, 0].astype(np.int16)
    g = work[:, :, 1].astype(np.int16)
    r = work[:, :, 2].astype(np.int16)
    y16 = luma.astype(np.int16)
    coloured = (
        (y16 > cb)
        & (cr > cb)
        & (cr - cb >= settings.flame_chroma_gap)
        & (y16 > float(luma.mean()))
        & (cb < float(cb.mean()))
        & (cr > float(cr.mean()))
        & (r >= settings.flame_min_red)
        & (r >= g)
        & (g >= b)
    )
    # A flame is a light source: a warm-white core that saturates the camera, with
    # fire colours around it. Regions grow from such cores only, so that a glowing
    # sky or a red roof, however fire-coloured, never starts one.
    core = ((y16 >= settings.flame_core_luma) & (r >= g) & (g >= b)).astype(np.uint8)
    if not core.any():
        return [], core
    reach = 2 * settings.flame_core_reach + 1
    near_core = cv2.dilate(core, np.ones((reach, reach), np.uint8)) > 0
    mask: U8Array = ((coloured | (core > 0)) & near_core).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    found: list[Detection] = []
    for box, region in _components(mask, settings.flame_min_area):
        if box.w > settings.flame_max_width_share * mask.shape[1]:
            continue
        # Cut by the side of the frame, a region shows only what has come into view:
        # it grows and changes as a car drives in, not as a fire burns. The
        # neighbouring pose or camera sees it whole.
        if box.x == 0 or box.x + box.w >= mask.shape[1]:
            continue
        inside = region > 0
        sl = (slice(box.y, box.bottom), slice(box.x, box.x + box.w))
        fire_coloured = coloured[sl] & inside
        if int(fire_coloured.sum()) < settings.flame_min_coloured:
            continue
        # A lamp or a headlight is mostly a white disk with a thin warm halo; a flame
        # shows more fire colour than white-hot core.
        if float((core[sl] > 0)[inside].mean()) > settings.flame_max_core_share:
            continue
        patch = luma[sl]
        peak = int(patch[inside].max())
        gap = (cr - cb)[sl][fire_coloured]
        colour = min(1.0, float(gap.mean() - settings.flame_chroma_gap) / 60.0 + 0.4)
        luminous = min(1.0, (peak - settings.flame_core_luma) / 30.0 + 0.5)
        motion = _dissimilarity(luma, last_luma, box) if last_luma is not None else 0.0
        size = min(1.0, math.sqrt(float(region.sum())) / 8.0)
        confidence = 0.35 * colour + 0.25 * luminous + 0.15 * size + 0.25 * motion
        pixels = int(region.sum())
        brightness = float(patch[inside].mean())
        found.append(
            Detection(
                FireCue.FLAME,
                box,
                round(min(confidence, 1.0), 4),
                round(motion, 4),
                pixels,
                round(brightness, 2),
            )
        )
    return found, mask


def _band_context(greying: F32Array, box: Box, inside: npt.NDArray[np.bool_]) -> float:
    """How much the scene beside a region, at the same height, greyed as the region
    did: near 0 for a plume rising alone from its source, near 1 or more for a bank
    of fog or a layer of low cloud, which spreads along the slope and the horizon."""
    own = float(greying[box.y : box.bottom, box.x : box.x + box.w][inside].mean())
    if own <= 0.0:
        return 1.0
    width = greying.shape[1]
    gap = max(2, box.w // 2)
    reach = max(6, 2 * box.w)
    rows = greying[box.y : box.bottom]
    left = rows[:, max(0, box.x - gap - reach) : max(0, box.x - gap)]
    right = rows[:, min(width, box.x + box.w + gap) : min(width, box.x + box.w + gap + reach)]
    beside = [float(side.mean()) for side in (left, right) if side.size]
    if not beside:
        return 0.0
    return max(beside) / own


def _contrast(
    luma: F32Array,
    chroma: F32Array,
    at: tuple[slice, slice],
    inside: npt.NDArray[np.bool_],
    ring: npt.NDArray[np.bool_],
) -> float:
    """How far the median colour (Y, Cr, Cb) of a region is from that of its ring."""
    patch = np.dstack([luma[at], chroma[at]])
    return float(np.linalg.norm(np.median(patch[inside], axis=0) - np.median(patch[ring], axis=0)))


def _is_ghost(
    luma: F32Array,
    chroma: F32Array,
    memory: SceneMemory,
    box: Box,
    inside: npt.NDArray[np.bool_],
    settings: DetectorSettings,
) -> bool:
    """Whether a region stands out from its surroundings less now than in the learnt
    scene (see ``DetectorSettings.smoke_ghost_contrast``)."""
    h, w = luma.shape
    reach = max(2, max(box.w, box.h) // 3)
    x0, y0 = max(0, box.x - reach), max(0, box.y - reach)
    x1, y1 = min(w, box.x + box.w + reach), min(h, box.bottom + reach)
    region = np.zeros((y1 - y0, x1 - x0), np.uint8)
    region[box.y - y0 : box.bottom - y0, box.x - x0 : box.x + box.w - x0] = inside
    ring = cv2.dilate(region, np.ones((3, 3), np.uint8)) == 0
    if not ring.any():
        return False
    at = (slice(y0, y1), slice(x0, x1))
    within = region > 0
    now = _contrast(luma, chroma, at, within, ring)
    learnt = _contrast(memory.background_luma, memory.background_chroma, at, within, ring)
    return now < settings.smoke_ghost_contrast * learnt


def _correlation(a: F32Array, b: F32Array) -> float:
    """The normalised correlation of two equal patches, 0 where either is flat."""
    a = a - float(a.mean())
    b = b - float(b.mean())
    norm = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum()) / norm if norm > 0.0 else 0.0


def _keeps_hue(
    chroma: F32Array, background: F32Array, settings: DetectorSettings
) -> npt.NDArray[np.bool_]:
    """Where the chroma (Cr, Cb about 128) points the way the background's did, or
    the background had too little chroma for a hue: a grey veil only shortens it."""
    dot = chroma[:, :, 0] * background[:, :, 0] + chroma[:, :, 1] * background[:, :, 1]
    bg_sq = background[:, :, 0] ** 2 + background[:, :, 1] ** 2
    now_sq = chroma[:, :, 0] ** 2 + chroma[:, :, 1] ** 2
    kept = dot >= settings.smoke_veil_hue_cos * np.sqrt(bg_sq * now_sq)
    result: npt.NDArray[np.bool_] = kept | (bg_sq < settings.smoke_veil_min_chroma**2)
    return result


def _smoke_detections(
    work: U8Array,
    luma_half: U8Array,
    saturation_half: U8Array,
    chroma_half: F32Array,
    edges_half: F32Array,
    memory: SceneMemory,
    settings: DetectorSettings,
) -> tuple[list[Detection], U8Array]:
    luma_f = luma_half.astype(np.float32)
    # Exposure and light change the whole scene; smoke changes a part of it.
    delta = luma_f - memory.background_luma
    delta -= float(np.median(delta))
    desaturated = memory.background_saturation - saturation_half.astype(np.float32)
    changed = (np.abs(delta) >= settings.smoke_min_change) | (
        desaturated >= 2.0 * settings.smoke_min_change
    )
    veiled = edges_half <= memory.background_edges * settings.smoke_edge_gain + 4.0
    # Grey, or much greyer than the scene was there: thin smoke over dark forest
    # takes on some of the green beneath it.
    saturation_f = saturation_half.astype(np.float32)
    greyish = (
        (saturation_f <= settings.smoke_max_saturation)
        | (saturation_f <= settings.smoke_relative_saturation * memory.background_saturation)
        # Thin smoke over green forest: brighter *and* paler than the scene was, as a
        # veil of light grey mixed into it makes it (light alone keeps the saturation).
        | (
            (saturation_f <= settings.smoke_veil_saturation * memory.background_saturation)
            & (delta >= settings.smoke_min_change)
            & _keeps_hue(chroma_half, memory.background_chroma, settings)
        )
    )
    # A shadow darkens and keeps its colour; smoke brightens the forest, or greys the sky.
    not_shadow = (delta > 0.0) | (desaturated >= settings.smoke_min_change)
    mask: U8Array = (changed & veiled & greyish & not_shadow).astype(np.uint8)
    if not mask.any():
        return [], mask
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    # Close gaps of a few pixels: the puffs of one plume, seen through a thin veil,
    # break into fragments that would each be followed (and judged) on their own.
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    h, w = mask.shape
    scene = _scene_change(luma_half, memory.last_luma_half)
    # How much each pixel went towards a light grey (brighter, less saturated): what
    # both smoke and fog do to the forest behind them.
    greying = np.clip(delta, 0.0, None) + np.clip(desaturated, 0.0, None)
    found: list[Detection] = []
    for box, region in _components(mask, settings.smoke_min_area):
        if box.w > settings.smoke_max_width_share * w:
            continue
        # Cut by the side of the frame, a region's source may be out of sight; the
        # neighbouring pose or camera sees it whole. Cut by the bottom, its base is
        # out of sight: whether it rises from a fixed source cannot be told (fog
        # drifting through the foreground is what such regions were, not smoke).
        if box.x == 0 or box.x + box.w >= w or box.bottom >= h:
            continue
        area = float(region.sum())
        if area > settings.smoke_max_area_share * w * h:
            continue
        inside = region > 0
        sl = (slice(box.y, box.bottom), slice(box.x, box.x + box.w))
        strength = float(np.abs(delta[sl][inside]).mean())
        # Fog and low cloud grey the whole slope at the height of the region.
        if _band_context(greying, box, inside) > settings.smoke_max_band_context:
            continue
        if _is_ghost(luma_f, chroma_half, memory, box, inside, settings):
            continue
        veil = float(
            (memory.background_edges[sl][inside] - edges_half[sl][inside]).clip(0.0).mean()
        )
        diff = cv2.absdiff(luma_half[sl], memory.last_luma_half[sl])
        motion = min(1.0, max(0.0, float(diff[inside].mean()) - scene) / 10.0)
        fill = area / float(box.area)
        # The change against the scene a second ago: whether the region's change
        # stands where it stood (fog thickening in place) or is carried (smoke). An
        # offset of the whole change (exposure) does not move a correlation.
        before = memory.last_luma_half[sl].astype(np.float32) - memory.background_luma[sl]
        stasis = _correlation(delta[sl], before)
        change_score = min(1.0, strength / 30.0)
        veil_score = min(1.0, veil / 10.0)
        size = min(1.0, math.sqrt(area) / 10.0)
        # Smoke is a strong, moving change; fog and cloud a faint, slow one.
        confidence = (
            0.45 * change_score + 0.1 * veil_score + 0.05 * size + 0.1 * fill + 0.3 * motion
        )
        found.append(
            Detection(
                FireCue.SMOKE,
                box.scaled(2.0),
                round(min(confidence, 1.0), 4),
                round(motion, 4),
                int(area) * 4,
                round(float(luma_half[sl][inside].mean()), 2),
                round(stasis, 4),
            )
        )
    return found, mask


def _fresh_memory(
    luma: U8Array,
    luma_half: U8Array,
    saturation_half: U8Array,
    chroma_half: F32Array,
    edges_half: F32Array,
) -> SceneMemory:
    return SceneMemory(
        last_luma=luma,
        last_luma_half=luma_half,
        background_luma=luma_half.astype(np.float32),
        background_saturation=saturation_half.astype(np.float32),
        background_chroma=chroma_half,
        background_edges=edges_half,
        frames=1,
    )


def analyse_frame(
    frame: U8Array,
    memory: SceneMemory | None = None,
    settings: DetectorSettings = DEFAULT_SETTINGS,
) -> FrameAnalysis:
    """Flame and smoke regions of one frame, and the pose's memory after it.

    ``memory`` is what :func:`analyse_frame` returned for the previous frame of the
    same camera and pose, or ``None`` for the first; without it there is no flicker
    and no smoke (smoke is a change against the learnt scene).
    """
    work, factor = _working_frame(frame, settings.working_size)
    h, w = work.shape[:2]
    ycrcb = cv2.cvtColor(work, cv2.COLOR_BGR2YCrCb)
    luma = np.ascontiguousarray(ycrcb[:, :, 0])
    half = (max(w // 2, 4), max(h // 2, 4))
    ycrcb_half = cv2.resize(ycrcb, half, interpolation=cv2.INTER_AREA)
    luma_half = np.ascontiguousarray(ycrcb_half[:, :, 0])
    chroma_half = ycrcb_half[:, :, 1:].astype(np.float32) - np.float32(128.0)
    hsv_half = cv2.cvtColor(cv2.resize(work, half, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2HSV)
    saturation_half = np.ascontiguousarray(hsv_half[:, :, 1])
    edges_half = _edges(luma_half)

    if memory is not None and memory.last_luma.shape != luma.shape:
        memory = None
    flames, flame_mask = _flame_detections(
        work, ycrcb, memory.last_luma if memory else None, settings
    )
    if memory is None:
        fresh = _fresh_memory(luma, luma_half, saturation_half, chroma_half, edges_half)
        return FrameAnalysis(tuple(_in_frame(d, factor) for d in flames), fresh)

    grey_share = float(np.count_nonzero(saturation_half <= settings.smoke_max_saturation)) / float(
        saturation_half.size
    )
    if (
        float(np.median(luma_half)) >= settings.smoke_min_scene_luma
        and grey_share <= settings.smoke_max_grey_share
    ):
        smokes, smoke_mask = _smoke_detections(
            work, luma_half, saturation_half, chroma_half, edges_half, memory, settings
        )
    else:
        # In the dark smoke cannot be seen, only what lights pass through it; in thick
        # fog the whole scene is grey and changing, and a plume in it cannot be told.
        smokes, smoke_mask = [], np.zeros_like(luma_half)
    # Learn the scene, slowly where fire is seen so that a growing plume stays visible.
    fire_half = smoke_mask | cv2.resize(flame_mask, half, interpolation=cv2.INTER_NEAREST)
    rate = np.where(
        fire_half > 0, settings.background_rate_under_fire, settings.background_rate
    ).astype(np.float32)
    # What has stopped changing is scene, not smoke: where a car drove off, the road
    # it uncovered is learnt at once instead of lingering as a grey "ghost".
    still = cv2.blur(cv2.absdiff(luma_half, memory.last_luma_half), (3, 3)) < settings.still_luma
    rate = np.where(still, np.maximum(rate, np.float32(settings.background_rate_still)), rate)
    if memory.frames < 3:
        # The first frames set the scene faster, so a pose is learnt within seconds.
        rate = np.maximum(rate, np.float32(0.5 if memory.frames == 1 else 0.3))
    learnt = SceneMemory(
        last_luma=luma,
        last_luma_half=luma_half,
        background_luma=memory.background_luma
        + rate * (luma_half.astype(np.float32) - memory.background_luma),
        background_saturation=memory.background_saturation
        + rate * (saturation_half.astype(np.float32) - memory.background_saturation),
        background_chroma=memory.background_chroma
        + rate[:, :, None] * (chroma_half - memory.background_chroma),
        background_edges=memory.background_edges + rate * (edges_half - memory.background_edges),
        frames=memory.frames + 1,
    )
    detections = tuple(_in_frame(d, factor) for d in (*flames, *smokes))
    return FrameAnalysis(detections, learnt)


def _in_frame(detection: Detection, factor: float) -> Detection:
    return replace(detection, box=detection.box.scaled(factor)) if factor != 1.0 else detection


# --- sequences ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlarmPolicy:
    """When a sequence of detections becomes an alarm.

    A track must be seen in ``hits`` of the last ``window`` frames, and its base must
    stay within ``max_drift`` (flame) or ``smoke_max_drift`` (smoke, which leans with
    the wind) of its size, and be within ``max_travel`` of its size from where its
    track began: fire does not drive away. Then:

    * flame: mean confidence >= ``flame_confidence``, it stands (median height >=
      ``flame_min_aspect`` of its width), and it is alive: it flickers
      (median motion >= ``flame_flicker``) while its area pulses (mean change from
      frame to frame >= ``flame_pulse``) or grows (by ``flame_growth``, while its
      area still changes by ``flame_min_pulse``), and it is not still in its latest
      sighting (``flame_latest_flicker`` of the flicker asked) nor in any
      (``flame_still_flicker``), and it does not move whole sideways
      (``flame_max_side_shift``);
    * smoke: it stands (height >= ``smoke_min_aspect`` of its width), its bottom stays
      at its source, it does not move whole sideways (``smoke_max_side_shift``), it
      keeps moving inside (median motion >= ``smoke_motion``), its top rises by
      ``smoke_rise`` of its height and it swells by ``smoke_growth`` (or rises twice
      as much) without the smoke in it dwindling (``smoke_max_dwindle``), and its
      change does not stand in place (``smoke_max_stasis``; nearly, from
      ``smoke_still_stasis``, only when seen strongly); mean confidence >=
      ``smoke_confidence``, less ``smoke_plume_relief`` when it climbs and swells
      twice as much as asked from a base that stays put and its change is carried
      (``smoke_relief_max_stasis``).

    Where ``plume_hits`` is set (the low danger levels), a smoke track that clearly
    climbs and swells twice as much as asked from a base that stays put is judged
    over the shorter persistence of ``plume_hits`` of ``plume_window`` frames as
    well.

    The danger level moves persistence and behaviour, not the confidence bars: how
    fire-like a frame looks does not depend on the weather.
    """

    hits: int
    window: int
    flame_confidence: float
    flame_flicker: float
    flame_pulse: float
    flame_growth: float
    smoke_confidence: float
    smoke_motion: float
    smoke_rise: float
    # A plume is fed from its source: it grows (area, late against early sightings)
    # by this share, or its top rises by twice ``smoke_rise``. A wisp of fog drifting
    # over the forest keeps its size and hardly climbs.
    smoke_growth: float = 0.2
    # How much less mean confidence a track needs that clearly behaves as a plume.
    smoke_plume_relief: float = 0.1
    max_drift: float = 0.45
    # The share of a flame's sightings that must flicker.
    flicker_share: float = 0.5
    # A flame is never still: its latest sighting shows at least this share of the
    # flicker asked. A lamp or a parked car's glint that something passing stirred
    # for a frame or two is, again, exactly as it was a second before.
    flame_latest_flicker: float = 0.25
    # Nor is any sighting in its window still: a measured change under this share of
    # the flicker asked is a glint on a parked car, exactly as it was a second
    # before, that something passing stirs now and then (a tenth of a percent); the
    # development flames at their first alarm (seeds 41-45, levels 1, 3 and 5)
    # showed at least 0.11 of it. A motion of exactly 0 is no measure (the pose's
    # first frame, or the first after its scene memory restarted: nothing to compare
    # with) and is not asked.
    flame_still_flicker: float = 0.05
    smoke_max_drift: float = 0.5
    # A plume stands: its median height is at least this share of its width. Flat,
    # wide changes are a vehicle on a road or a layer of fog.
    smoke_min_aspect: float = 0.6
    # The bottom of a plume stays at its source while its top rises.
    smoke_max_base_shift: float = 0.5
    # Fire stays where it started: a region whose base has come further than this
    # many of its sizes since its track began (a wisp of fog followed across the
    # slope for minutes, a car along the road) is not judged, however it behaves now.
    # Flames were once allowed 1 (a burning front creeps), but a front creeps far
    # slower than the seconds a track is judged over: the development flames at
    # their first alarm had come at most 0.37, and a car's glint, broken into short
    # tracks along the road, came 0.96 where it alarmed (soak seed 87).
    max_travel: float = 0.6
    # The low danger levels ask more persistence (``hits`` of ``window``) to be surer
    # before an alarm; but smoke shows itself best early, before its puffs thin out
    # and lean with the wind, and later frames of a plume are judged on less. A smoke
    # track that clearly behaves as a plume is therefore also judged over this
    # shorter persistence (the reference one); 0: not asked. What the longer one
    # keeps out (the road a car uncovers, a wisp that swells for a few frames) rarely
    # climbs and swells that much.
    plume_hits: int = 0
    plume_window: int = 0
    # Smoke is carried: the pattern of a plume's change moves up and about from one
    # second to the next. A veil of fog thickening where it lies keeps its pattern in
    # place while its edge spreads, so its box can climb and swell like a plume's. A
    # track whose change stood in place (mean ``stasis`` of its sightings after the
    # first at least this) is not smoke; 1: not asked. Small, slow plumes stand
    # nearly still at the working resolution too (up to ~0.98), hence the high bar.
    smoke_max_stasis: float = 0.985
    # A plume is fed from a source that stays put: it widens about its source or away
    # from it downwind, its sides parting or one of them staying, however it leans
    # with the wind. A smoke track may move whole sideways (both sides the same way,
    # :func:`_side_shift`) by at most this share of its width (and, like a flame,
    # its base may have come at most ``max_travel`` of its size from where its track
    # began). A wisp of fog borne by the wind does both.
    smoke_max_side_shift: float = 0.25
    # A flame burns where its fuel is: its tongues lean and leap, but its sides do
    # not both move the same way for long. The development flames at their first
    # alarm moved whole sideways by at most 0.3 of their width; a glint sliding along
    # a car that drives past, 0.49 (soak seed 87).
    flame_max_side_shift: float = 0.4
    # However it grows, a flame's lit area changes from second to second: its mean
    # change (:func:`_pulse`) is at least this. A glint whose box stretches as the
    # light on a car shifts keeps its area to a pixel or two (0.03 where it alarmed
    # by its growth, soak seed 95); the development flames at their first alarm
    # pulsed at least 0.06.
    flame_min_pulse: float = 0.05
    # Flames are tongues, taller than wide (median height over width of the
    # sightings at least this); the sun on a car's roof and bonnet and the paint
    # around it is a flat strip. The development flames at their first alarm (seeds
    # 41-45, levels 1, 3 and 5) stood at least 0.64; a glint along a car that
    # alarmed on soak seed 3001, 0.59.
    flame_min_aspect: float = 0.6
    # A plume is fed from its source: the smoke in it (its region's pixels, late
    # against early sightings, like ``smoke_growth`` of its box) does not dwindle by
    # more than this share while it climbs. A wisp of fog whose top spreads up as it
    # thins swells its box with less and less in it (-0.18 where it alarmed); the
    # development plumes at their first alarm lost at most 0.05.
    smoke_max_dwindle: float = 0.1
    # The relief for thin smoke (``smoke_plume_relief``) is given only where its change
    # is carried: the mean ``stasis`` of its sightings (after the first) under this.
    # A plume's puffs are borne up and about; a thin veil of fog lifting or
    # thickening where it lies keeps the pattern of its change in place while its box
    # climbs and swells, and at the relieved bar it is as confident as thin smoke.
    # The fog tracks that alarmed through the relief on fresh development soaks
    # (seeds 85-91) stood at 0.947-0.984; of the development plumes that needed the
    # relief at their first alarm, all but two stood under 0.96 (those two: one a
    # frame later, one, 0.965, found at levels 1 and 5 only).
    smoke_relief_max_stasis: float = 0.96
    # The same, and lower, where other smoke-like changes were seen elsewhere in the
    # picture in the last ``CROWD_FRAMES`` frames: then the haze of the slope is on
    # the move, and a faint region among its patches must show its change carried
    # more clearly. The fog tracks that alarmed so on development soaks stood at
    # 0.945-0.947; the development plumes that needed the relief with other smoke
    # tracks about, at 0.926 at most.
    smoke_crowd_relief_max_stasis: float = 0.94
    # Between this and ``smoke_max_stasis`` a change stands nearly in place: smoke
    # only when seen strongly (mean confidence >= ``smoke_still_confidence``). The
    # slowest development plumes there were strong (0.72, at 0.983 and 0.984); the fog
    # wisps that alarmed there, at 0.98-0.985, were not (0.49-0.56 on soak seeds
    # 85-91, 0.61 on soak seed 3001).
    smoke_still_stasis: float = 0.98
    smoke_still_confidence: float = 0.66

    def __post_init__(self) -> None:
        if self.plume_hits and not 0 < self.plume_hits <= self.plume_window <= self.window:
            raise ValueError("plume_hits <= plume_window <= window, or plume_hits = 0")

    def scaled(self, factor: float, *, hits: int, window: int) -> AlarmPolicy:
        """The same policy with every behaviour threshold (flicker, pulse, growth,
        motion, rise) multiplied by ``factor``; the confidence bars and every other
        field stay."""
        return replace(
            self,
            hits=hits,
            window=window,
            flame_flicker=self.flame_flicker * factor,
            flame_pulse=self.flame_pulse * factor,
            flame_growth=self.flame_growth * factor,
            smoke_motion=self.smoke_motion * factor,
            smoke_rise=self.smoke_rise * factor,
            smoke_growth=self.smoke_growth * factor,
        )


# Level 3 (high) is the reference; drier, windier weather (4, 5) lowers the bar and
# the persistence asked for, so that a fire is reported sooner; wet weather (1, 2)
# raises it, since a fire is then unlikely and an alarm more likely false. The bar
# is behaviour (flicker, pulse, growth, motion, rise) and persistence: a small or far
# flame looks no less fire-like per frame when the forest is wet.
BASE_POLICY = AlarmPolicy(
    hits=4,
    window=6,
    flame_confidence=0.65,
    flame_flicker=0.045,
    flame_pulse=0.12,
    flame_growth=0.4,
    smoke_confidence=0.46,
    smoke_motion=0.05,
    smoke_rise=0.2,
)
POLICIES: Mapping[int, AlarmPolicy] = {
    1: replace(BASE_POLICY.scaled(1.1, hits=5, window=7), plume_hits=4, plume_window=6),
    2: replace(BASE_POLICY.scaled(1.05, hits=5, window=7), plume_hits=4, plume_window=6),
    3: BASE_POLICY,
    4: BASE_POLICY.scaled(0.95, hits=4, window=6),
    5: BASE_POLICY.scaled(0.9, hits=3, window=5),
}


def policy_for(danger_level: int) -> AlarmPolicy:
    if danger_level not in POLICIES:
        raise ValueError(f"danger level must be 1-5, not {danger_level}")
    return POLICIES[danger_level]


@dataclass(frozen=True, slots=True)
class Sighting:
    """A detection as a track remembers it."""

    frame: int
    box: Box
    confidence: float
    motion: float
    pixels: int
    brightness: float
    stasis: float = 0.0


@dataclass(frozen=True, slots=True)
class Track:
    id: int
    cue: FireCue
    sightings: tuple[Sighting, ...]
    alarmed: bool = False
    # Where the track was first seen, kept after that sighting has left the window:
    # the window shows how a region behaves now, the origin how far it has come.
    origin: Box | None = None

    @property
    def last_box(self) -> Box:
        return self.sightings[-1].box


@dataclass(frozen=True, slots=True)
class Trace:
    """What the tracker remembers of a track that left its window: where it began,
    where it was last seen, and when."""

    cue: FireCue
    origin: Box
    last: Box
    frame: int


@dataclass(frozen=True, slots=True)
class FireAlert:
    """An alarm the tracker raises: what, where in the frame, how sure."""

    kind: AlarmKind
    box: Box
    confidence: float
    frames_seen: int


@dataclass(frozen=True, slots=True)
class TrackerState:
    """Everything the tracker keeps of one camera pose; plain data, JSON-able."""

    frame: int = 0
    next_id: int = 1
    tracks: tuple[Track, ...] = ()
    # Where alarms were raised lately (box, until frame): no second alarm there.
    quiet: tuple[tuple[Box, int], ...] = field(default=())
    # Tracks that left the window lately, so that a region seen again further on
    # keeps the origin of the one it continues.
    trail: tuple[Trace, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "frame": self.frame,
            "next_id": self.next_id,
            "tracks": [
                {
                    "id": t.id,
                    "cue": t.cue.value,
                    "alarmed": t.alarmed,
                    "origin": list(t.origin.as_tuple()) if t.origin else None,
                    "sightings": [
                        [
                            s.frame,
                            *s.box.as_tuple(),
                            s.confidence,
                            s.motion,
                            s.pixels,
                            s.brightness,
                            s.stasis,
                        ]
                        for s in t.sightings
                    ],
                }
                for t in self.tracks
            ],
            "quiet": [[*box.as_tuple(), until] for box, until in self.quiet],
            "trail": [
                [t.cue.value, *t.origin.as_tuple(), *t.last.as_tuple(), t.frame] for t in self.trail
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrackerState:
        tracks = tuple(
            Track(
                id=int(t["id"]),
                cue=FireCue(t["cue"]),
                alarmed=bool(t["alarmed"]),
                origin=Box(*(int(v) for v in t["origin"])) if t.get("origin") else None,
                sightings=tuple(
                    Sighting(
                        frame=int(s[0]),
                        box=Box(int(s[1]), int(s[2]), int(s[3]), int(s[4])),
                        confidence=float(s[5]),
                        motion=float(s[6]),
                        pixels=int(s[7]),
                        brightness=float(s[8]),
                        stasis=float(s[9]) if len(s) > 9 else 0.0,
                    )
                    for s in t["sightings"]
                ),
            )
            for t in data["tracks"]
        )
        quiet = tuple(
            (Box(int(q[0]), int(q[1]), int(q[2]), int(q[3])), int(q[4])) for q in data["quiet"]
        )
        # State stored before the trail was kept has none: it starts empty.
        trail = tuple(
            Trace(
                FireCue(t[0]),
                Box(*(int(v) for v in t[1:5])),
                Box(*(int(v) for v in t[5:9])),
                int(t[9]),
            )
            for t in data.get("trail", ())
        )
        return cls(
            frame=int(data["frame"]),
            next_id=int(data["next_id"]),
            tracks=tracks,
            quiet=quiet,
            trail=trail,
        )


_SINGLE_KIND: Mapping[FireCue, AlarmKind] = {FireCue.FLAME: "flame", FireCue.SMOKE: "smoke"}

# How long, in frames, a place where an alarm was raised stays quiet (10 min at 1 fps).
QUIET_FRAMES = 600
# How long, in frames, a track that left its window is remembered, and how far, in
# its sizes, a region may have come from it for each of those frames (plus one size)
# to be taken as its continuation.
TRAIL_FRAMES = 15
TRAIL_REACH_PER_FRAME = 0.5
# A smoke region more than this many times the area of the sighting it continues
# took in a region that was never tracked (or was found only in part before): the
# smoke of the 256 development fires of seeds 41-45 grew at most 4.3 times from one
# sighting to the next (a first sighting of a few pixels); the fog regions that
# swallowed a young wisp, or a stretch of slope that greyed at once, 5.9 and 12
# times.
SMOKE_MAX_SWELL = 5.0
# A fire, once lit, burns on: its flames are seen in most frames until it is put
# out. Sunlit leaves stirred by the wind, or a glint, twinkle at one place for
# minutes: a flame seen for a few frames, then gone for longer than a window, then
# back. A flame track where flame tracks ended at least this many times in this
# many last frames is a twinkle (see :func:`_twinkles`).
TWINKLE_FRAMES = 180
TWINKLE_LAPSES = 3
# Other smoke tracks seen in this many last frames make a smoke track's scene
# crowded (``AlarmPolicy.smoke_crowd_relief_max_stasis``).
CROWD_FRAMES = 2


def _remembered(cue: FireCue) -> int:
    """How many frames the trace of a track of ``cue`` that left its window is kept."""
    return TWINKLE_FRAMES if cue is FireCue.FLAME else TRAIL_FRAMES


def _twinkles(track: Track, trail: Sequence[Trace]) -> bool:
    """Whether a flame track is a twinkle: flames came and went where it is, each
    seen for a few frames and then gone for longer than a window, at least
    ``TWINKLE_LAPSES`` times in the last ``TWINKLE_FRAMES``."""
    if track.cue is not FireCue.FLAME:
        return False
    here = track.last_box.grown(0.5)
    first = track.sightings[0].frame
    lapses = sum(
        1 for t in trail if t.cue is FireCue.FLAME and t.frame < first and here.overlap(t.last) > 0
    )
    return lapses >= TWINKLE_LAPSES


def _matches(track: Track, detection: Detection) -> float:
    """How well a detection continues a track: overlap of the boxes, widened since fire grows."""
    last = track.last_box
    if detection.box.iou(last) > 0.0:
        return 1.0 + detection.box.iou(last)
    near = last.grown(0.5)
    return 0.5 if near.overlap(detection.box) > 0 else 0.0


def _size(box: Box) -> float:
    return math.sqrt(box.area)


def _continued_origin(
    detection: Detection, frame: int, tracks: Sequence[Track], trail: Sequence[Trace]
) -> Box | None:
    """The origin of the track that a region no track took is most likely a piece
    or a continuation of, if any.

    A region that split from a track (it overlaps where that track just was) keeps
    the track's origin, so a car does not start afresh when its glint breaks in two.
    Beyond that, a glint on a car is seen only now and then, and each time a few
    pixels further along the road: the tracks it leaves are short and each on its
    own stays put. A region of the same cue that turns up within reach of where a
    track was last seen (one size of either, plus ``TRAIL_REACH_PER_FRAME`` sizes per
    frame since), alive or left its window in the last ``TRAIL_FRAMES``, continues
    that track, and keeps its origin: then how far it has travelled shows.
    """
    same = [t for t in tracks if t.cue is detection.cue]
    split = max(
        ((_matches(t, detection), t.origin) for t in same), key=lambda m: m[0], default=None
    )
    if split is not None and split[0] > 0.0:
        return split[1]
    here = detection.box
    seen = [Trace(t.cue, t.origin or t.last_box, t.last_box, t.sightings[-1].frame) for t in same]
    seen += [t for t in trail if t.cue is detection.cue and frame - t.frame <= TRAIL_FRAMES]
    reached: list[tuple[float, Box]] = []
    for trace in seen:
        apart = math.hypot(here.centre_x - trace.last.centre_x, here.bottom - trace.last.bottom)
        size = max(_size(here), _size(trace.last))
        if apart <= size * (1.0 + TRAIL_REACH_PER_FRAME * (frame - trace.frame)):
            reached.append((apart, trace.origin))
    return min(reached, key=lambda r: r[0])[1] if reached else None


def _absorbs(
    tracks: Sequence[Track], taker: int, detection: Detection, frame: int, claimed: set[int]
) -> bool:
    """Whether a smoke ``detection``, continuing track ``taker``, also took in the
    region of another smoke track that was seen a frame or two ago and that no
    detection has continued yet: a region apart from the taker's when last seen,
    and now mostly inside the detection. Two wisps of fog that drift together make
    one region whose top and size jump at once, which reads as a climb and a swell.
    The same holds for a region that was never tracked (too faint until now, or cut
    by an edge): the detection is then more than ``SMOKE_MAX_SWELL`` times the area
    of the taker's last sighting. (Not flames: their tongues part and join all the
    time, and a flame is judged on its flicker, not its climb.)"""
    if detection.cue is not FireCue.SMOKE:
        return False
    if detection.pixels > SMOKE_MAX_SWELL * max(tracks[taker].sightings[-1].pixels, 1):
        return True
    mine = tracks[taker].last_box
    for j, other in enumerate(tracks):
        if (
            j == taker
            or j in claimed
            or other.cue is not FireCue.SMOKE
            or frame - other.sightings[-1].frame > 2
        ):
            continue
        theirs = other.last_box
        if theirs.overlap(mine) == 0 and detection.box.overlap(theirs) > 0.5 * theirs.area:
            return True
    return False


def _drift(sightings: Sequence[Sighting]) -> float:
    """How far the base of the region moved, in multiples of its typical size."""
    first, last = sightings[0].box, sightings[-1].box
    size = median(math.sqrt(s.box.area) for s in sightings)
    moved = math.hypot(last.centre_x - first.centre_x, last.bottom - first.bottom)
    return moved / max(size, 1.0)


def _travel(track: Track) -> float:
    """How far the base of the region is from where its track began, in multiples of
    its typical size (over the window, like :func:`_drift`)."""
    origin = track.origin or track.sightings[0].box
    last = track.last_box
    size = median(math.sqrt(s.box.area) for s in track.sightings)
    moved = math.hypot(last.centre_x - origin.centre_x, last.bottom - origin.bottom)
    return moved / max(size, 1.0)


def _late_over_early(values: Sequence[int]) -> float:
    """How much a size grew: the median of the later half of the sightings against
    that of the earlier half, as a share (negative when it shrank)."""
    half = max(1, len(values) // 2)
    return median(values[-half:]) / max(median(values[:half]), 1.0) - 1.0


def _growth(sightings: Sequence[Sighting]) -> float:
    """How much the box grew."""
    return _late_over_early([s.box.area for s in sightings])


def _filling(sightings: Sequence[Sighting]) -> float:
    """How much the region itself (its pixels, not its box) grew."""
    return _late_over_early([s.pixels for s in sightings])


def _slope(frames: Sequence[int], values: Sequence[float]) -> float:
    """Least-squares change of ``values`` per frame."""
    n = len(frames)
    mean_f, mean_v = sum(frames) / n, sum(values) / n
    spread = sum((f - mean_f) ** 2 for f in frames)
    if spread == 0:
        return 0.0
    return sum((f - mean_f) * (v - mean_v) for f, v in zip(frames, values, strict=True)) / spread


def _robust_slope(frames: Sequence[int], values: Sequence[float]) -> float:
    """Theil-Sen change of ``values`` per frame: the median of the slopes between
    every two sightings, so that one box that is off (a frame where only part of
    the region was found) does not tilt it."""
    slopes = [
        (values[j] - values[i]) / (frames[j] - frames[i])
        for i in range(len(frames))
        for j in range(i + 1, len(frames))
        if frames[j] != frames[i]
    ]
    return median(slopes) if slopes else 0.0


def _rise(sightings: Sequence[Sighting]) -> float:
    """How far the top went up over the sightings (fitted robustly, not from two
    noisy boxes), in multiples of the region's typical height. A top cut by the top
    of the frame is not where the region ends, so those sightings do not count (a
    cloud sliding out of the picture does not rise)."""
    sightings = [s for s in sightings if s.box.y > 0]
    if len(sightings) < 2:
        return 0.0
    frames = [s.frame for s in sightings]
    span = frames[-1] - frames[0]
    height = median(s.box.h for s in sightings)
    return -_robust_slope(frames, [float(s.box.y) for s in sightings]) * span / max(height, 1.0)


def _base_shift(sightings: Sequence[Sighting]) -> float:
    """How far the bottom moved over the sightings (fitted), in typical heights."""
    frames = [s.frame for s in sightings]
    span = frames[-1] - frames[0]
    height = median(s.box.h for s in sightings)
    return abs(_slope(frames, [float(s.box.bottom) for s in sightings])) * span / max(height, 1.0)


def _side_shift(sightings: Sequence[Sighting]) -> float:
    """How far the region moved whole, sideways, over the sightings: the fitted shift
    of both its sides the same way, in typical widths. 0 for a plume that widens
    about or away from its source (its sides part, or one stays); as large as the
    drift for a wisp of fog that drifts past."""
    frames = [s.frame for s in sightings]
    span = frames[-1] - frames[0]
    width = median(s.box.w for s in sightings)
    left = _slope(frames, [float(s.box.x) for s in sightings])
    right = _slope(frames, [float(s.box.x + s.box.w) for s in sightings])
    if left * right <= 0.0:
        return 0.0
    return min(abs(left), abs(right)) * span / max(width, 1.0)


def _pulse(sightings: Sequence[Sighting]) -> float:
    """The mean change of the region's area from one sighting to the next, 0 to 1."""
    pairs = list(zip(sightings, sightings[1:], strict=False))
    if not pairs:
        return 0.0
    return sum(abs(b.pixels - a.pixels) / max(a.pixels, b.pixels, 1) for a, b in pairs) / len(pairs)


def _behaves_like_fire(track: Track, policy: AlarmPolicy, crowded: bool = False) -> bool:
    """Whether a track is fire by its sightings in the window; ``crowded``: other smoke
    tracks were seen lately (see ``smoke_crowd_relief_max_stasis``)."""
    seen = track.sightings
    if len(seen) < policy.hits or _travel(track) > policy.max_travel:
        return False
    confidence = sum(s.confidence for s in seen) / len(seen)
    motion = median(s.motion for s in seen[1:])
    if track.cue is FireCue.FLAME:
        if confidence < policy.flame_confidence or _drift(seen) > policy.max_drift:
            return False
        if _side_shift(seen) > policy.flame_max_side_shift:
            return False
        if median(s.box.h / s.box.w for s in seen) < policy.flame_min_aspect:
            return False
        # A flame never looks the same twice, and it pulses or grows while it burns.
        flickering = sum(1 for s in seen[1:] if s.motion >= policy.flame_flicker) >= (
            policy.flicker_share * (len(seen) - 1)
        )
        pulse = _pulse(seen)
        changing = pulse >= policy.flame_pulse or (
            _growth(seen) >= policy.flame_growth and pulse >= policy.flame_min_pulse
        )
        still = seen[-1].motion < policy.flame_latest_flicker * policy.flame_flicker or any(
            0.0 < s.motion < policy.flame_still_flicker * policy.flame_flicker for s in seen
        )
        return flickering and changing and not still
    if _drift(seen) > policy.smoke_max_drift:
        return False
    if _side_shift(seen) > policy.smoke_max_side_shift:
        return False
    if median(s.box.h / s.box.w for s in seen[-3:]) < policy.smoke_min_aspect:
        return False
    base_shift = _base_shift(seen)
    if base_shift > policy.smoke_max_base_shift:
        return False
    # Smoke keeps moving; a change that has come to rest is something else.
    recent = median(s.motion for s in seen[-3:])
    if min(motion, recent) < policy.smoke_motion:
        return False
    rise, growth = _rise(seen), _growth(seen)
    if rise < policy.smoke_rise or (
        growth < policy.smoke_growth and rise < 2.0 * policy.smoke_rise
    ):
        return False
    if _stands(seen, policy) or _filling(seen) < -policy.smoke_max_dwindle:
        return False
    stasis = _mean_stasis(seen)
    if stasis >= policy.smoke_still_stasis and confidence < policy.smoke_still_confidence:
        return False
    # Thin smoke is a faint change in every frame, but over the frames it is
    # unmistakable: it climbs and swells from a base that stays put, widening away
    # from its source. Such a track needs less confidence frame by frame.
    carried = policy.smoke_crowd_relief_max_stasis if crowded else policy.smoke_relief_max_stasis
    plume = _is_plume(seen, policy) and stasis < carried
    return confidence >= policy.smoke_confidence - (policy.smoke_plume_relief if plume else 0.0)


def _mean_stasis(seen: Sequence[Sighting]) -> float:
    """How much the change of a smoke track stood in place from second to second, on
    the mean (its first sighting has no second before it in the track; 0 without a
    second sighting)."""
    later = seen[1:]
    return sum(s.stasis for s in later) / len(later) if later else 0.0


def _stands(seen: Sequence[Sighting], policy: AlarmPolicy) -> bool:
    """Whether the change of a smoke track stood in place: not smoke at all."""
    return _mean_stasis(seen) >= policy.smoke_max_stasis


def _is_plume(seen: Sequence[Sighting], policy: AlarmPolicy) -> bool:
    """Whether smoke clearly behaves as a plume: it climbs and swells twice as much as
    asked from a base that stays put."""
    return (
        _rise(seen) >= 2.0 * policy.smoke_rise
        and _growth(seen) >= 2.0 * policy.smoke_growth
        and _base_shift(seen) <= 0.5 * policy.smoke_max_base_shift
    )


def _judged_fire(track: Track, policy: AlarmPolicy, frame: int, crowded: bool = False) -> bool:
    """Whether a track is fire at ``frame``: over the policy's persistence, or, for
    smoke that clearly behaves as a plume, over its shorter ``plume_hits`` of
    ``plume_window`` frames (the same behaviour asked of those sightings)."""
    if _behaves_like_fire(track, policy, crowded):
        return True
    if track.cue is not FireCue.SMOKE or not policy.plume_hits:
        return False
    recent = tuple(s for s in track.sightings if frame - s.frame < policy.plume_window)
    if len(recent) < policy.plume_hits or not _is_plume(recent, policy):
        return False
    early = replace(policy, hits=policy.plume_hits, window=policy.plume_window, plume_hits=0)
    return _behaves_like_fire(replace(track, sightings=recent), early, crowded)


class SequenceTracker:
    """Groups the detections of one camera pose over frames and decides on alarms.

    Pure: :meth:`update` takes the pose's state and returns the next one, so the
    state can live wherever the caller keeps it (a database row, a dict).
    """

    def __init__(self, quiet_frames: int = QUIET_FRAMES) -> None:
        self.quiet_frames = quiet_frames

    def update(
        self,
        state: TrackerState,
        detections: Sequence[Detection],
        *,
        danger_level: int,
    ) -> tuple[TrackerState, list[FireAlert]]:
        policy = policy_for(danger_level)
        frame = state.frame + 1
        tracks = [t for t in state.tracks]
        next_id = state.next_id
        claimed: set[int] = set()
        # Greedy: the most confident detections pick their track first.
        for detection in sorted(detections, key=lambda d: -d.confidence):
            sighting = Sighting(
                frame,
                detection.box,
                detection.confidence,
                detection.motion,
                detection.pixels,
                detection.brightness,
                detection.stasis,
            )
            scores = [
                (_matches(t, detection), i)
                for i, t in enumerate(tracks)
                if t.cue is detection.cue and i not in claimed
            ]
            best = max(scores, default=(0.0, -1))
            if best[0] > 0.0:
                i = best[1]
                # A region that took in another tracked region has not grown or
                # climbed by itself: it starts its sightings afresh (where it began
                # stays), and must show again that it climbs and swells.
                earlier = (
                    () if _absorbs(tracks, i, detection, frame, claimed) else tracks[i].sightings
                )
                tracks[i] = replace(tracks[i], sightings=(*earlier, sighting))
                claimed.add(i)
            else:
                # New to the tracker, but perhaps not to the scene.
                origin = _continued_origin(detection, frame, state.tracks, state.trail)
                tracks.append(
                    Track(next_id, detection.cue, (sighting,), origin=origin or detection.box)
                )
                claimed.add(len(tracks) - 1)
                next_id += 1
        # Keep only the sightings of the window; a track nobody saw in it is gone.
        kept: list[Track] = []
        trail = [t for t in state.trail if frame - t.frame <= _remembered(t.cue)]
        for track in tracks:
            recent = tuple(s for s in track.sightings if frame - s.frame < policy.window)
            if recent:
                kept.append(replace(track, sightings=recent))
            else:
                last = track.sightings[-1]
                trail.append(Trace(track.cue, track.origin or last.box, last.box, last.frame))
        quiet = [(box, until) for box, until in state.quiet if until > frame]

        alerts: list[FireAlert] = []
        for i, track in enumerate(kept):
            if track.alarmed:
                continue
            crowded = any(
                other.id != track.id
                and other.cue is FireCue.SMOKE
                and frame - other.sightings[-1].frame <= CROWD_FRAMES
                for other in kept
            )
            if not _judged_fire(track, policy, frame, crowded) or _twinkles(track, trail):
                continue
            box = track.last_box
            kept[i] = replace(track, alarmed=True)
            if any(box.overlap(q.grown(0.5)) for q, _ in quiet):
                continue
            alerts.append(self._alert(kept, track, frame))
            quiet.append((box, frame + self.quiet_frames))
        return (
            TrackerState(
                frame=frame,
                next_id=next_id,
                tracks=tuple(kept),
                quiet=tuple(quiet),
                trail=tuple(trail),
            ),
            alerts,
        )

    @staticmethod
    def _alert(tracks: Sequence[Track], track: Track, frame: int) -> FireAlert:
        seen = track.sightings
        confidence = sum(s.confidence for s in seen) / len(seen)
        # Smoke above a flame, or a flame under smoke: the same fire, seen both ways.
        column = track.last_box.grown(1.0)
        other = [
            t
            for t in tracks
            if t.cue is not track.cue
            and any(frame - s.frame < 3 for s in t.sightings)
            and column.overlap(t.last_box) > 0
        ]
        kind: AlarmKind = "flame_and_smoke" if other else _SINGLE_KIND[track.cue]
        box = track.last_box
        for t in other:
            box = box.union(t.last_box)
        return FireAlert(
            kind=kind, box=box, confidence=round(min(1.0, confidence), 4), frames_seen=len(seen)
        )
