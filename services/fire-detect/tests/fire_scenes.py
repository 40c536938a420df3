"""Synthetic forest frames for the tests: a flame that grows and flickers, and a
scene with fire colours but no fire. Shared by fire-detect's integration tests and
the end-to-end tests (which put this folder on sys.path)."""

from __future__ import annotations

import cv2
import numpy as np

W, H = 320, 240


def forest(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.float32)
    img[: H // 3] = (215, 170, 120)
    grain = cv2.resize(rng.random((12, 16)).astype(np.float32), (W, H - H // 3))[:, :, None]
    fine = rng.random((H - H // 3, W, 1)).astype(np.float32)
    green, brown = np.array((40, 95, 55), np.float32), np.array((45, 70, 95), np.float32)
    img[H // 3 :] = (green * (1 - grain) + brown * grain) * (0.75 + 0.5 * fine)
    return img.astype(np.uint8)


def jpeg(img: np.ndarray, rng: np.random.Generator) -> bytes:
    noisy = np.clip(img + rng.normal(0, 2.0, img.shape), 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    return data.tobytes()


def fire_sequence(seed: int, x: int, frames: int = 10) -> list[bytes]:
    """A flame at column x that grows and never looks the same twice."""
    rng = np.random.default_rng(seed)
    scene = forest(seed)
    out = []
    for k in range(frames):
        img = scene.copy()
        height = 12 + 2 * k
        for _ in range(4):
            tx = x + int(rng.normal(0, height * 0.2))
            th = int(height * rng.uniform(0.5, 1.1))
            tw = max(2, int(height * rng.uniform(0.15, 0.35)))
            poly = np.array([(tx - tw, 190), (tx, 190 - th), (tx + tw, 190)], np.int32)
            cv2.fillPoly(img, [poly], (20, 120, 250))
        cv2.ellipse(
            img, (x, 190 - height // 4), (height // 4, height // 3), 0, 0, 360, (60, 210, 255), -1
        )
        cv2.ellipse(
            img, (x, 190 - height // 6), (height // 8, height // 6), 0, 0, 360, (215, 248, 255), -1
        )
        out.append(jpeg(img, rng))
    return out


def quiet_sequence(seed: int, frames: int = 10) -> list[bytes]:
    """Autumn leaves and a parked red car: fire colours, no fire."""
    rng = np.random.default_rng(seed)
    scene = forest(seed)
    for cx in range(30, 300, 40):
        cv2.circle(scene, (cx, 175), 6, (40, 185, 235), -1)
    cv2.rectangle(scene, (120, 200), (165, 216), (30, 30, 200), -1)
    return [jpeg(scene, rng) for _ in range(frames)]
