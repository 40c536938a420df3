"""A deterministic synthetic evaluation set for fire detection: labelled sequences of
forest-camera frames, with fire (flame, smoke, both) and with what is mistaken for
fire (red vehicles, sunset glow, autumn foliage, fog and low cloud, headlights at
night, and plain forest under passing clouds).

Each sequence is one camera watching one pose at one frame per second for 10-20 s,
640x480 unless told otherwise, every frame passed through JPEG as a camera would
send it. The same seed gives the same bytes. Nothing is written unless asked:

    uv run python bench/fire/make_eval_set.py                 # summary of the set
    uv run python bench/fire/make_eval_set.py --cache         # also keep it in .local/
    uv run python bench/fire/make_eval_set.py --preview DIR   # a contact sheet per category

The scenes are drawn from physical descriptions, not from the detector: flames are
luminous, flickering tongues with a glow; smoke is a semi-transparent plume of puffs
that rise, drift with the wind and widen; fog banks drift and thicken. The detector
is tuned on one seed and reported on another (see eval_detection.py).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

FloatImage = npt.NDArray[np.float32]
Rng = np.random.Generator

VERSION = 4  # bump when the scenes change, so a cache is not reused
WIDTH, HEIGHT = 640, 480
FPS = 1.0
CACHE_DIR = Path(__file__).resolve().parents[2] / ".local" / "bench" / "fire"

POSITIVE = ("flame", "smoke", "flame_and_smoke")
NEGATIVE = (
    "red_vehicle",
    "sunset_glow",
    "autumn_foliage",
    "fog_low_cloud",
    "headlights_night",
    "plain_forest",
)
CATEGORIES = POSITIVE + NEGATIVE


@dataclass
class LabelledSequence:
    """One camera pose for a few seconds; ``fire_box`` is where the fire is (x, y, w, h)."""

    id: str
    category: str
    frames: list[bytes]
    fire_box: tuple[int, int, int, int] | None
    fire_from_frame: int | None
    conditions: str
    size: tuple[int, int] = (WIDTH, HEIGHT)

    @property
    def positive(self) -> bool:
        return self.category in POSITIVE

    @property
    def camera_seconds(self) -> float:
        return len(self.frames) / FPS


# --- textures and scene ---------------------------------------------------------


def noise(rng: Rng, h: int, w: int, cells: int, octaves: int = 3) -> FloatImage:
    """Smooth value noise in [0, 1]: random grids upsampled and summed over octaves."""
    out = np.zeros((h, w), np.float32)
    total = 0.0
    amp = 1.0
    for octave in range(octaves):
        n = cells * 2**octave
        grid = rng.random((max(2, n * h // w + 1), n + 1)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    out /= total
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def bgr(b: float, g: float, r: float) -> npt.NDArray[np.float32]:
    return np.array([b, g, r], np.float32)


@dataclass
class Scene:
    """The still background of a pose, and what the frames add to it."""

    base: FloatImage  # H x W x 3, BGR float 0-255
    ridge: npt.NDArray[np.int32]  # the skyline row of each column
    time: str  # day, overcast, dusk, night
    clouds: FloatImage | None = None  # alpha of clouds, wider than the frame
    cloud_colour: npt.NDArray[np.float32] = field(default_factory=lambda: bgr(235, 235, 235))
    cloud_speed: float = 0.0
    shadows: FloatImage | None = None
    shadow_speed: float = 0.0
    road: list[tuple[int, int]] = field(default_factory=list)
    noise_sigma: float = 2.5
    jpeg_quality: int = 85

    @property
    def h(self) -> int:
        return int(self.base.shape[0])

    @property
    def w(self) -> int:
        return int(self.base.shape[1])

    def ground_point(self, rng: Rng, margin: float = 0.1) -> tuple[int, int]:
        """A random point on the terrain, below the skyline."""
        x = int(rng.uniform(margin, 1 - margin) * self.w)
        top = int(self.ridge[x]) + 12
        y = int(rng.uniform(top, min(self.h - 20, top + 0.6 * (self.h - top))))
        return x, y


SKIES = {
    "day": (bgr(215, 165, 110), bgr(225, 205, 180)),
    "overcast": (bgr(178, 176, 172), bgr(205, 205, 202)),
    "dusk": (bgr(120, 80, 70), bgr(90, 150, 235)),
    "night": (bgr(28, 16, 8), bgr(40, 28, 20)),
}
LIGHT = {"day": 1.0, "overcast": 0.8, "dusk": 0.55, "night": 0.12}


def make_scene(rng: Rng, time: str, w: int = WIDTH, h: int = HEIGHT) -> Scene:
    top, horizon = SKIES[time]
    sky_end = rng.uniform(0.28, 0.5)
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    ramp = np.clip(t / sky_end, 0, 1)
    sky = top[None, None, :] * (1 - ramp) + horizon[None, None, :] * ramp
    base = np.repeat(sky, w, axis=1).astype(np.float32)
    light = LIGHT[time] * rng.uniform(0.9, 1.1)

    # Two or three ridges, the farther ones paler and bluer (aerial perspective).
    xs = np.arange(w, dtype=np.float32)
    ridge = np.full(w, h, np.int32)
    layers = int(rng.integers(2, 4))
    for layer in range(layers):
        depth = (layers - 1 - layer) / max(layers - 1, 1)  # 1 far ... 0 near
        level = h * (sky_end + 0.05 + 0.12 * layer + rng.uniform(-0.03, 0.03))
        profile = level + sum(
            rng.uniform(4, 28) * np.sin(xs / w * math.tau * rng.uniform(0.5, 4) + rng.uniform(0, 6))
            for _ in range(4)
        )
        profile = profile + (noise(rng, 1, w, 24, 2)[0] - 0.5) * 14
        top_row = np.clip(profile.astype(np.int32), 0, h - 1)
        canopy = noise(rng, h, w, int(rng.integers(8, 20)), 4)
        fine = noise(rng, h, w, 80, 2)
        green = bgr(40, 95, 55) * (1 - 0.35 * depth) + bgr(150, 140, 120) * 0.45 * depth
        brown = bgr(45, 70, 95) * (1 - 0.35 * depth) + bgr(150, 140, 120) * 0.45 * depth
        mix = np.clip(canopy * 1.6 - 0.55, 0, 1)[:, :, None]
        texture = green[None, None, :] * (1 - mix) + brown[None, None, :] * mix
        texture *= (0.7 + 0.6 * fine)[:, :, None] * (0.8 + 0.2 * (1 - depth))
        rows = np.arange(h)[:, None]
        below = rows >= top_row[None, :]
        base[below] = texture[below]
        ridge = np.minimum(ridge, top_row)
    # Light falls on the terrain, not on the sky (which is already its own colour).
    terrain = np.arange(h)[:, None] >= ridge[None, :]
    base[terrain] *= light
    if time == "night":
        base[~terrain] *= 0.9
    scene = Scene(base=base, ridge=ridge, time=time)
    scene.noise_sigma = float(rng.uniform(1.5, 4.0) if time != "night" else rng.uniform(2.5, 5))
    scene.jpeg_quality = int(rng.integers(70, 92))
    if time in ("day", "overcast") and rng.random() < 0.85:
        scene.clouds = np.clip(noise(rng, h, w + 400, 6, 4) * 1.8 - 0.9, 0, 1) * rng.uniform(
            0.3, 0.9
        )
        scene.cloud_colour = bgr(238, 238, 238) if time == "day" else bgr(215, 215, 215)
        scene.cloud_speed = float(rng.uniform(0.5, 4.0))
    if time == "day" and rng.random() < 0.6:
        scene.shadows = noise(rng, h, w + 400, 4, 3)
        scene.shadow_speed = float(rng.uniform(1.0, 5.0))
    return scene


def add_road(rng: Rng, scene: Scene) -> list[tuple[int, int]]:
    """A dirt road across the terrain, as the points of its centre line."""
    h, w = scene.h, scene.w
    y0 = int(max(scene.ridge) + rng.uniform(20, 0.5 * (h - max(scene.ridge))))
    y0 = min(y0, h - 30)
    slope = rng.uniform(-0.15, 0.15)
    points = [(x, int(y0 + slope * (x - w / 2) + 6 * math.sin(x / 90.0))) for x in range(0, w, 8)]
    colour = bgr(95, 110, 120) * LIGHT[scene.time]
    width = int(rng.integers(8, 16))
    canvas = scene.base.copy()
    cv2.polylines(canvas, [np.array(points, np.int32)], False, colour.tolist(), width, cv2.LINE_AA)
    scene.base = canvas
    scene.road = points
    return points


def road_y(points: list[tuple[int, int]], x: float) -> float:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return float(np.interp(x, xs, ys))


# --- what the frames show -------------------------------------------------------


@dataclass
class Flame:
    x: int
    y: int  # base
    height0: float
    height1: float
    start: int
    frames: int

    def height(self, i: int) -> float:
        if i < self.start:
            return 0.0
        k = min(1.0, (i - self.start) / max(self.frames - self.start - 1, 1))
        return self.height0 + (self.height1 - self.height0) * k


FLAME_RAMP = [  # from the hot core outwards, BGR
    bgr(205, 245, 255),
    bgr(70, 215, 255),
    bgr(25, 150, 252),
    bgr(15, 80, 225),
]


def draw_flame(rng: Rng, img: FloatImage, x: int, y: int, height: float, night: bool) -> None:
    """Luminous tongues of fire standing on (x, y), a new shape every call."""
    if height < 2:
        return
    width = height * rng.uniform(0.6, 1.1)
    pad = int(height * 1.6) + 6
    h, w = img.shape[:2]
    x0, x1 = max(0, x - pad), min(w, x + pad)
    y0, y1 = max(0, int(y - height * 1.8) - 6), min(h, y + pad // 3 + 4)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    local = np.zeros((y1 - y0, x1 - x0), np.float32)
    cx, cy = x - x0, y - y0
    for _ in range(int(rng.integers(3, 8))):
        tx = cx + rng.normal(0, width * 0.25)
        th = height * rng.uniform(0.45, 1.15)
        tw = width * rng.uniform(0.2, 0.45)
        lean = rng.normal(0, width * 0.25)
        tip = (int(tx + lean), int(cy - th))
        poly = np.array(
            [(int(tx - tw), cy), tip, (int(tx + tw), cy), (int(tx), int(cy + tw * 0.3))],
            np.int32,
        )
        cv2.fillPoly(local, [poly], 1.0, cv2.LINE_AA)
    cv2.ellipse(
        local, (cx, cy), (max(1, int(width * 0.5)), max(1, int(height * 0.18))), 0, 0, 360, 1.0, -1
    )
    local = cv2.GaussianBlur(local, (0, 0), max(0.6, height / 25))
    # Hotter (whiter) low in the flame and on its axis.
    rows = np.arange(local.shape[0], dtype=np.float32)[:, None]
    cols = np.arange(local.shape[1], dtype=np.float32)[None, :]
    up = np.clip((cy - rows) / max(height, 1), 0, 1)
    side = np.clip(np.abs(cols - cx) / max(width * 0.6, 1), 0, 1)
    heat = np.clip(1.0 - 0.75 * up - 0.5 * side + rng.normal(0, 0.08, local.shape), 0, 1)
    heat = heat * np.clip(local * 1.3, 0, 1)
    stops = np.array([0.85, 0.6, 0.35, 0.0], np.float32)
    colour = np.zeros((*local.shape, 3), np.float32)
    for i in range(len(stops) - 1):
        hi, lo = stops[i], stops[i + 1]
        k = np.clip((heat - lo) / (hi - lo), 0, 1)[:, :, None]
        band = ((heat >= lo) & (heat < hi if i else heat <= 1.01))[:, :, None]
        colour = np.where(band, FLAME_RAMP[i + 1] * (1 - k) + FLAME_RAMP[i] * k, colour)
    colour = np.where((heat >= stops[0])[:, :, None], FLAME_RAMP[0], colour)
    alpha = np.clip(local * 1.4, 0, 1)[:, :, None]
    roi = img[y0:y1, x0:x1]
    # A glow on what is around: strong at night, faint by day.
    glow = cv2.GaussianBlur(local, (0, 0), max(2.0, height / 3))[:, :, None]
    roi += glow * bgr(20, 90, 200) * (1.2 if night else 0.35)
    roi[:] = roi * (1 - alpha) + colour * alpha


@dataclass
class Plume:
    x: float
    y: float  # source on the ground
    wind: float  # px per frame sideways
    rise: float  # px per frame upwards
    radius0: float
    grey: float
    opacity: float
    start: int
    puffs: list[list[float]] = field(default_factory=list)  # x, y, r, age

    def step(self, rng: Rng, i: int) -> None:
        if i < self.start:
            return
        for puff in self.puffs:
            puff[3] += 1
            puff[1] -= self.rise * rng.uniform(0.7, 1.3) * (1 + 0.1 * puff[3])
            puff[0] += self.wind * (0.4 + 0.15 * puff[3]) + rng.normal(0, 0.6)
            puff[2] *= rng.uniform(1.06, 1.16)
        for _ in range(int(rng.integers(2, 4))):
            self.puffs.append(
                [
                    self.x + rng.normal(0, self.radius0 * 0.3),
                    self.y - rng.uniform(0, self.radius0),
                    self.radius0 * rng.uniform(0.8, 1.2),
                    0,
                ]
            )
        self.puffs = [p for p in self.puffs if p[3] < 22 and p[1] > -40]

    def extent(self) -> tuple[int, int, int, int] | None:
        if not self.puffs:
            return None
        x0 = min(p[0] - p[2] for p in self.puffs)
        x1 = max(p[0] + p[2] for p in self.puffs)
        y0 = min(p[1] - p[2] for p in self.puffs)
        y1 = max(p[1] + p[2] for p in self.puffs)
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def draw_plume(rng: Rng, img: FloatImage, plume: Plume, texture: FloatImage, i: int) -> None:
    if not plume.puffs:
        return
    h, w = img.shape[:2]
    alpha = np.zeros((h, w), np.float32)
    for x, y, r, age in plume.puffs:
        fade = max(0.0, 1.0 - age / 22.0)
        cv2.circle(alpha, (int(x), int(y)), max(1, int(r)), float(fade), -1, cv2.LINE_AA)
    sigma = max(2.0, plume.radius0 * 0.8)
    alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
    shift = (i * 3) % (texture.shape[1] - w)
    alpha *= 0.55 + 0.45 * texture[:h, shift : shift + w]
    alpha = np.clip(alpha * plume.opacity, 0, 0.9)[:, :, None]
    colour = bgr(plume.grey + 6, plume.grey + 2, plume.grey) * (
        LIGHT["day"] if img.mean() > 60 else 0.5
    )
    img[:] = img * (1 - alpha) + colour * alpha


def draw_fog(img: FloatImage, band: FloatImage, offset: int, grey: float, strength: float) -> None:
    h, w = img.shape[:2]
    alpha = np.clip(band[:h, offset : offset + w] * strength, 0, 0.9)[:, :, None]
    img[:] = img * (1 - alpha) + bgr(grey + 4, grey + 2, grey) * alpha


def draw_vehicle(
    img: FloatImage, x: float, y: float, length: float, body: npt.NDArray[np.float32], glint: bool
) -> tuple[int, int, int, int]:
    height = length * 0.42
    x0, y0 = int(x - length / 2), int(y - height)
    x1, y1 = int(x + length / 2), int(y)
    cv2.rectangle(img, (x0, y0 + int(height * 0.35)), (x1, y1), body.tolist(), -1)
    cab = (x0 + int(length * 0.2), y0, x1 - int(length * 0.25), y0 + int(height * 0.45))
    cv2.rectangle(img, cab[:2], cab[2:], (body * 0.9).tolist(), -1)
    win = (cab[0] + 2, cab[1] + 2, cab[2] - 2, cab[3] - 1)
    cv2.rectangle(img, win[:2], win[2:], (70.0, 60.0, 55.0), -1)
    wheel = max(2, int(height * 0.18))
    for wx in (x0 + int(length * 0.2), x1 - int(length * 0.2)):
        cv2.circle(img, (wx, y1), wheel, (20.0, 20.0, 20.0), -1)
    if glint:
        # The sun on the roof and the windscreen: a few saturated pixels.
        cv2.line(img, (cab[0] + 1, cab[1]), (cab[2] - 1, cab[1]), (245.0, 250.0, 255.0), 2)
        cv2.circle(img, (win[0] + 3, win[1] + 2), 2, (250.0, 252.0, 255.0), -1)
    return x0, y0, x1 - x0, y1 - y0


def draw_light(
    img: FloatImage, x: float, y: float, radius: float, colour: Any, gain: float, core: bool = True
) -> None:
    h, w = img.shape[:2]
    pad = int(radius * 4) + 2
    x0, x1 = max(0, int(x) - pad), min(w, int(x) + pad)
    y0, y1 = max(0, int(y) - pad), min(h, int(y) + pad)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d2 = ((xx - x) ** 2 + (yy - y) ** 2) / max(radius, 0.5) ** 2
    halo = np.exp(-d2 / 2.0)[:, :, None] * gain
    img[y0:y1, x0:x1] += halo * np.asarray(colour, np.float32)
    if core:
        img[y0:y1, x0:x1] += np.exp(-d2 * 6)[:, :, None] * 255.0


def finish(rng: Rng, img: FloatImage, scene: Scene) -> bytes:
    """Sensor noise, 8 bits, and JPEG as the camera sends it."""
    noisy = img + rng.normal(0.0, scene.noise_sigma, img.shape).astype(np.float32)
    frame = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, scene.jpeg_quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return jpeg.tobytes()


def sky_and_light(scene: Scene, i: int, drift: float) -> FloatImage:
    """The pose's background at frame i: moving clouds and shadows, light drifting."""
    img = scene.base.copy()
    h, w = scene.h, scene.w
    terrain = (np.arange(h)[:, None] >= scene.ridge[None, :])[:, :, None]
    if scene.shadows is not None:
        shift = int(i * scene.shadow_speed) % (scene.shadows.shape[1] - w)
        shade = 1.0 - 0.28 * np.clip(scene.shadows[:, shift : shift + w] * 1.6 - 0.5, 0, 1)
        img = np.where(terrain, img * shade[:, :, None], img)
    if scene.clouds is not None:
        shift = int(i * scene.cloud_speed) % (scene.clouds.shape[1] - w)
        alpha = scene.clouds[:, shift : shift + w][:, :, None]
        alpha = np.where(terrain, 0.0, alpha)
        img = img * (1 - alpha) + scene.cloud_colour * alpha
    return (img * (1.0 + drift)).astype(np.float32)


# --- the sequences ----------------------------------------------------------------


def _sequence(
    rng: Rng, category: str, ident: str, w: int, h: int, length: int | None = None
) -> LabelledSequence:
    frames_n = length if length is not None else int(rng.integers(10, 21))
    if category in ("flame", "flame_and_smoke"):
        time = str(rng.choice(["day", "day", "overcast", "dusk", "night"]))
    elif category == "smoke":
        time = str(rng.choice(["day", "day", "overcast", "dusk"]))
    elif category == "sunset_glow":
        time = "dusk"
    elif category == "headlights_night":
        time = "night"
    elif category == "fog_low_cloud":
        time = str(rng.choice(["day", "overcast", "overcast", "dusk"]))
    else:
        time = str(rng.choice(["day", "day", "overcast", "dusk"]))
    scene = make_scene(rng, time, w, h)
    texture = noise(rng, h, w + 600, 10, 4)
    drift_walk = np.cumsum(rng.normal(0, 0.006, frames_n))
    frames: list[bytes] = []
    fire_box: tuple[int, int, int, int] | None = None
    fire_from: int | None = None
    night = time == "night"

    flame: Flame | None = None
    plume: Plume | None = None
    if category in POSITIVE:
        gx, gy = scene.ground_point(rng)
        start = int(rng.integers(0, 4))
        fire_from = start
        far = rng.random() < 0.4  # a distant fire: a few pixels high
        if category in ("flame", "flame_and_smoke"):
            scale = h / 480.0
            h0 = (rng.uniform(5, 9) if far else rng.uniform(8, 20)) * scale
            h1 = h0 * rng.uniform(1.3, 3.0)
            flame = Flame(gx, gy, h0, h1, start, frames_n)
        if category in ("smoke", "flame_and_smoke"):
            scale = h / 480.0
            plume = Plume(
                x=gx,
                y=gy - (flame.height0 * 0.5 if flame else 0),
                wind=float(rng.uniform(-2.5, 2.5)) * scale,
                rise=float(rng.uniform(1.5, 4.5)) * scale,
                radius0=float(rng.uniform(3, 6) if far else rng.uniform(5, 10)) * scale,
                grey=float(rng.uniform(150, 235)),
                opacity=float(rng.uniform(0.45, 0.9)),
                start=start,
            )
            # Some cameras arrive at a pose where the plume already stands.
            preroll = int(rng.integers(0, 6)) if rng.random() < 0.3 else 0
            for k in range(-preroll, 0):
                plume.step(rng, k + plume.start)
    extents: list[tuple[int, int, int, int]] = []

    # Distractors of the negative categories, set up once per sequence.
    vehicles: list[dict[str, Any]] = []
    if category in ("red_vehicle", "headlights_night"):
        road = add_road(rng, scene)
        for _ in range(int(rng.integers(1, 3))):
            parked = rng.random() < 0.3
            vehicles.append(
                {
                    "x": float(rng.uniform(0.1, 0.9) * w),
                    "speed": 0.0 if parked else float(rng.choice([-1, 1]) * rng.uniform(2, 14)),
                    "length": float(rng.uniform(25, 70) * w / 640),
                    "body": bgr(
                        *(
                            [rng.uniform(20, 50), rng.uniform(20, 45), rng.uniform(170, 230)]
                            if rng.random() < 0.7
                            else [rng.uniform(20, 40), rng.uniform(70, 110), rng.uniform(210, 250)]
                        )
                    )
                    * (LIGHT[time] if time != "night" else 0.1),
                    "glint": bool(rng.random() < 0.6),
                    "road": road,
                }
            )
    lamps: list[tuple[float, float, float, Any]] = []
    if category == "headlights_night":
        for _ in range(int(rng.integers(0, 3))):
            lx, ly = scene.ground_point(rng)
            colour = bgr(40, 150, 255) if rng.random() < 0.5 else bgr(150, 220, 255)
            lamps.append((float(lx), float(ly), float(rng.uniform(2, 5)), colour))
    sun: list[float] = []
    if category == "sunset_glow":
        sx = float(rng.uniform(0.15, 0.85) * w)
        sun = [sx, float(scene.ridge[int(sx)] - rng.uniform(-6, 30)), float(rng.uniform(7, 18))]
        # Clouds lit from below by the low sun.
        scene.clouds = np.clip(noise(rng, h, w + 400, 5, 4) * 1.9 - 1.0, 0, 1) * 0.85
        scene.cloud_colour = bgr(70, 140, 250)
        scene.cloud_speed = float(rng.uniform(0.3, 1.5))
    foliage: list[tuple[float, float, float, Any]] = []
    if category == "autumn_foliage" or (category in POSITIVE and rng.random() < 0.2):
        for _ in range(int(rng.integers(25, 70))):
            fx, fy = scene.ground_point(rng, 0.02)
            tone = rng.choice(3)
            colour = [
                bgr(30, 60, 190),
                bgr(25, 120, 230),
                bgr(40, 190, 240),
            ][int(tone)] * rng.uniform(0.75, 1.1)
            foliage.append((float(fx), float(fy), float(rng.uniform(3, 12) * w / 640), colour))
    fog: dict[str, Any] | None = None
    if category == "fog_low_cloud":
        band = np.zeros((h, w + 800), np.float32)
        kind = rng.choice(["valley", "wisps", "bank"])
        base_y = float(rng.uniform(0.35, 0.85) * h)
        body = noise(rng, h, w + 800, 5, 4)
        rows = np.arange(h, dtype=np.float32)[:, None]
        if kind == "valley":
            thick = float(rng.uniform(0.08, 0.25) * h)
            band = np.exp(-(((rows - base_y) / thick) ** 2)) * (0.5 + 0.8 * body)
        elif kind == "bank":
            band = np.clip((rows - (base_y - 0.3 * h)) / (0.3 * h), 0, 1) * (0.4 + 0.9 * body)
        else:
            band = np.clip(body * 2.2 - 1.3, 0, 1) * np.exp(-(((rows - base_y) / (0.12 * h)) ** 2))
        fog = {
            "band": band.astype(np.float32),
            "speed": float(rng.uniform(-4, 4)),
            "grey": float(rng.uniform(170, 230)),
            "strength": float(rng.uniform(0.5, 1.0)),
            "thicken": float(rng.uniform(0.0, 0.04)),
            "lift": float(rng.uniform(0.0, 1.5)),
        }

    for i in range(frames_n):
        img = sky_and_light(scene, i, float(drift_walk[i]))
        for fx, fy, r, colour in foliage:
            sway = rng.normal(0, 0.7, 2)
            cv2.circle(
                img,
                (int(fx + sway[0]), int(fy + sway[1])),
                max(1, int(r)),
                (colour * LIGHT[time] * rng.uniform(0.95, 1.05)).tolist(),
                -1,
                cv2.LINE_AA,
            )
        if sun:
            sun[1] += 0.6
            draw_light(img, sun[0], sun[1], sun[2] * 2.2, bgr(30, 110, 230), 80.0, core=False)
            cv2.circle(img, (int(sun[0]), int(sun[1])), int(sun[2]), (200.0, 245.0, 255.0), -1)
            # The ridge hides what of the sun has set.
            img = np.where(
                (np.arange(h)[:, None] >= scene.ridge[None, :])[:, :, None], scene.base, img
            ).astype(np.float32)
        if fog is not None:
            offset = int(400 + i * fog["speed"]) % (fog["band"].shape[1] - w)
            lifted = np.roll(fog["band"], -int(i * fog["lift"]), axis=0)
            draw_fog(img, lifted, offset, fog["grey"], fog["strength"] * (1 + fog["thicken"] * i))
        for v in vehicles:
            v["x"] += v["speed"]
            # Off one side, the next vehicle comes in from the other (long streams).
            if v["x"] > w + v["length"]:
                v["x"] = -v["length"]
            elif v["x"] < -v["length"]:
                v["x"] = w + v["length"]
            vy = road_y(v["road"], v["x"])
            if time == "night":
                draw_vehicle(img, v["x"], vy, v["length"], v["body"], False)
                ahead = 1 if v["speed"] >= 0 else -1
                for dx in (-0.3, 0.3):
                    draw_light(
                        img,
                        v["x"] + ahead * v["length"] * 0.45,
                        vy - v["length"] * 0.15 + dx * v["length"] * 0.2,
                        v["length"] * 0.12,
                        bgr(170, 225, 255) if rng.random() < 0.5 else bgr(240, 240, 235),
                        160.0,
                    )
            else:
                draw_vehicle(img, v["x"], vy, v["length"], v["body"], v["glint"])
        for lx, ly, r, colour in lamps:
            draw_light(img, lx, ly, r * rng.uniform(0.95, 1.05), colour, 170.0)
        if plume is not None:
            plume.step(rng, i)
            draw_plume(rng, img, plume, texture, i)
            e = plume.extent()
            if e is not None and i >= plume.start:
                extents.append(e)
        if flame is not None:
            height = flame.height(i)
            draw_flame(rng, img, flame.x, flame.y, height, night)
            if height > 0:
                fw = int(height * 1.2)
                extents.append(
                    (
                        flame.x - fw // 2 - 2,
                        int(flame.y - height * 1.2),
                        fw + 4,
                        int(height * 1.3) + 2,
                    )
                )
        frames.append(finish(rng, img, scene))

    if extents:
        x0 = max(0, min(e[0] for e in extents))
        y0 = max(0, min(e[1] for e in extents))
        x1 = min(w, max(e[0] + e[2] for e in extents))
        y1 = min(h, max(e[1] + e[3] for e in extents))
        fire_box = (x0, y0, x1 - x0, y1 - y0)
    return LabelledSequence(
        id=ident,
        category=category,
        frames=frames,
        fire_box=fire_box,
        fire_from_frame=fire_from,
        conditions=time,
        size=(w, h),
    )


def generate(
    seed: int, per_category: int = 27, size: tuple[int, int] = (WIDTH, HEIGHT)
) -> Iterator[LabelledSequence]:
    """The set, in a fixed order; sequence k of a category depends only on (seed, category, k)."""
    w, h = size
    for c, category in enumerate(CATEGORIES):
        for k in range(per_category):
            rng = np.random.default_rng([seed, c, k])
            yield _sequence(rng, category, f"{category}-{seed}-{k:03d}", w, h)


def soak(
    seed: int, hours: float, stream_minutes: float = 10.0, size: tuple[int, int] = (WIDTH, HEIGHT)
) -> Iterator[LabelledSequence]:
    """Long streams without fire, for the false alarm rate: ``hours`` of camera time in
    streams of ``stream_minutes`` at 1 frame/s, the negative categories in turn. Each
    stream is one pose: its vehicles drive through and away, its fog drifts, its sun
    sets, its clouds pass."""
    length = int(stream_minutes * 60 * FPS)
    for k in range(max(1, round(hours * 3600 * FPS / length))):
        yield soak_stream(seed, k, stream_minutes, size)


def soak_stream(
    seed: int, k: int, stream_minutes: float = 10.0, size: tuple[int, int] = (WIDTH, HEIGHT)
) -> LabelledSequence:
    """Stream k of :func:`soak`."""
    category = NEGATIVE[k % len(NEGATIVE)]
    rng = np.random.default_rng([seed, 1000 + k])
    length = int(stream_minutes * 60 * FPS)
    return _sequence(rng, category, f"soak-{category}-{seed}-{k:03d}", size[0], size[1], length)


# --- cache ------------------------------------------------------------------------


def cache_path(seed: int, per_category: int, size: tuple[int, int]) -> Path:
    return CACHE_DIR / f"eval-v{VERSION}-s{seed}-n{per_category}-{size[0]}x{size[1]}.bin"


def save(path: Path, sequences: list[LabelledSequence]) -> None:
    """One file: a JSON index, then every JPEG back to back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    index, blobs = [], io.BytesIO()
    for s in sequences:
        sizes = [len(f) for f in s.frames]
        for f in s.frames:
            blobs.write(f)
        index.append(
            {
                "id": s.id,
                "category": s.category,
                "fire_box": s.fire_box,
                "fire_from_frame": s.fire_from_frame,
                "conditions": s.conditions,
                "size": s.size,
                "frames": sizes,
            }
        )
    head = zlib.compress(json.dumps(index).encode())
    path.write_bytes(len(head).to_bytes(8, "little") + head + blobs.getvalue())


def load(path: Path) -> list[LabelledSequence]:
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    index = json.loads(zlib.decompress(data[8 : 8 + n]))
    at = 8 + n
    out = []
    for item in index:
        frames = []
        for size in item["frames"]:
            frames.append(data[at : at + size])
            at += size
        out.append(
            LabelledSequence(
                id=item["id"],
                category=item["category"],
                frames=frames,
                fire_box=tuple(item["fire_box"]) if item["fire_box"] else None,
                fire_from_frame=item["fire_from_frame"],
                conditions=item["conditions"],
                size=tuple(item["size"]),
            )
        )
    return out


def evaluation_set(
    seed: int, per_category: int = 27, size: tuple[int, int] = (WIDTH, HEIGHT), cache: bool = True
) -> list[LabelledSequence]:
    """The set for a seed, from the cache under .local/ when there, made (and kept) if not."""
    path = cache_path(seed, per_category, size)
    if cache and path.exists():
        return load(path)
    sequences = list(generate(seed, per_category, size))
    if cache:
        save(path, sequences)
    return sequences


def contact_sheet(sequences: list[LabelledSequence], path: Path) -> None:
    """Every 3rd frame of up to 6 sequences, one row each, with the fire box drawn."""
    rows = []
    for s in sequences[:6]:
        tiles = []
        for f in s.frames[::3][:6]:
            img = cv2.imdecode(np.frombuffer(f, np.uint8), cv2.IMREAD_COLOR)
            if s.fire_box:
                x, y, w, h = s.fire_box
                cv2.rectangle(img, (x, y), (x + w, y + h), (0, 255, 0), 1)
            tiles.append(cv2.resize(img, (320, 240)))
        while len(tiles) < 6:
            tiles.append(np.zeros_like(tiles[0]))
        rows.append(np.hstack(tiles))
    cv2.imwrite(str(path), np.vstack(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--per-category", type=int, default=27)
    parser.add_argument("--size", default=f"{WIDTH}x{HEIGHT}")
    parser.add_argument("--cache", action="store_true", help="keep the set under .local/")
    parser.add_argument("--preview", type=Path, help="write a contact sheet per category here")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    assert len(size) == 2
    sequences = (
        evaluation_set(args.seed, args.per_category, (size[0], size[1]))
        if args.cache
        else list(generate(args.seed, args.per_category, (size[0], size[1])))
    )
    frames = sum(len(s.frames) for s in sequences)
    total = sum(len(f) for s in sequences for f in s.frames)
    print(
        f"{len(sequences)} sequences, {frames} frames, {total / 1e6:.1f} MB of JPEG, seed {args.seed}"
    )
    for category in CATEGORIES:
        mine = [s for s in sequences if s.category == category]
        seconds = sum(s.camera_seconds for s in mine)
        print(f"  {category:18s} {len(mine):4d} sequences  {seconds:6.0f} camera-seconds")
    if args.preview:
        args.preview.mkdir(parents=True, exist_ok=True)
        for category in CATEGORIES:
            contact_sheet(
                [s for s in sequences if s.category == category], args.preview / f"{category}.jpg"
            )
        print(f"contact sheets in {args.preview}")


if __name__ == "__main__":
    main()
