"""Fire detection speed on one core: frames per second at 640x480 and 1280x720, and the
share of a core the 73 forest cameras of Yongchuan need at one frame per second.

    uv run python bench/fire/bench_detection_speed.py
    uv run python bench/fire/bench_detection_speed.py --per-category 5 --repeat 5

OpenCV is held to one thread, so the figures are per core. Three stages are timed on
the same JPEG frames of the evaluation set (every category, fire and no fire, since
the cost depends on what a frame shows):

* decode: JPEG to pixels, at the reduced scale the detector asks for;
* detect: flame and smoke detection on the decoded frame (with the pose's memory);
* all: decode, detect and the sequence tracker: what the consumer does per frame.

The CPU share is 73 frames/s divided by the frames/s of "all", on process CPU time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_eval_set import LabelledSequence, evaluation_set  # noqa: E402

from fire_detect.domain.detection import (  # noqa: E402
    SceneMemory,
    SequenceTracker,
    TrackerState,
    analyse_frame,
    decode_frame,
)

FOREST_CAMERAS = 73
SEED = 99


def decode_all(sequences: list[LabelledSequence]) -> float:
    started = time.process_time()
    for s in sequences:
        for data in s.frames:
            decode_frame(data)
    return time.process_time() - started


def detect_all(sequences: list[LabelledSequence]) -> float:
    decoded = [[decode_frame(data)[0] for data in s.frames] for s in sequences]
    started = time.process_time()
    for frames in decoded:
        memory: SceneMemory | None = None
        for frame in frames:
            memory = analyse_frame(frame, memory).memory
    return time.process_time() - started


def everything(sequences: list[LabelledSequence]) -> float:
    tracker = SequenceTracker()
    started = time.process_time()
    for s in sequences:
        memory: SceneMemory | None = None
        state = TrackerState()
        for data in s.frames:
            frame, _ = decode_frame(data)
            analysis = analyse_frame(frame, memory)
            memory = analysis.memory
            state, _ = tracker.update(state, analysis.detections, danger_level=3)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-category", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print(f"OpenCV {cv2.__version__}, 1 thread; median of {args.repeat} runs; process CPU time")
    print(
        f"{'size':>9s} {'frames':>6s} {'decode':>9s} {'detect':>9s} {'all':>9s}   73 cameras at 1 fps"
    )
    for size in ((640, 480), (1280, 720)):
        sequences = evaluation_set(SEED, args.per_category, size)
        frames = sum(len(s.frames) for s in sequences)
        figures = []
        for stage in (decode_all, detect_all, everything):
            seconds = statistics.median(stage(sequences) for _ in range(args.repeat))
            figures.append(frames / seconds)
        share = FOREST_CAMERAS / figures[2]
        print(
            f"{size[0]:>4d}x{size[1]:<4d} {frames:6d} "
            + " ".join(f"{f:7.0f}/s" for f in figures)
            + f"   {share * 100:5.1f} % of one core ({1000 / figures[2]:.2f} ms a frame)"
        )


if __name__ == "__main__":
    main()
