"""Benchmark: the thumbnail pipeline against plain Pillow, on 12-megapixel JPEGs.

    .venv/bin/python -m bench.thumbnails [--images 8] [--rounds 2]

Makes ``--images`` 4000x3000 JPEGs (noise over gradients, quality 90, an EXIF
orientation), then times, in the same run:

- **baseline**: plain Pillow as one would write it without care — ``Image.open``, a
  full-size decode (``load()`` before ``thumbnail``, so no draft mode), then
  ``Image.thumbnail`` to each width (160, 480, 1200) on a copy, each saved as JPEG;
- **pipeline, 1 worker**: :func:`overcast.apps.blog.thumbnails.make_thumbnails` (draft
  decode, EXIF orientation, metadata stripped, each width from the next larger one);
- **pipeline, 2 workers**: the same in two processes at once (the 2-core rate).

Prints images/s for each and the ratios. Targets (issue 5): pipeline ≥ 2x the
baseline on one worker; two workers ≥ 1.6x one worker's rate.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

from overcast.apps.blog.thumbnails import WIDTHS, make_thumbnails

SIZE = (4000, 3000)  # 12 megapixels


def make_photo(path: Path, seed: int) -> None:
    """A 12 MP JPEG that compresses like a photo, not like a flat colour."""
    noise = Image.effect_noise((SIZE[0] // 4, SIZE[1] // 4), 40 + seed).resize(SIZE)
    gradient = Image.linear_gradient("L").resize(SIZE)
    image = Image.merge("RGB", (noise, gradient, Image.eval(noise, lambda v: 255 - v)))
    exif = Image.Exif()
    exif[0x0112] = 1 + seed % 2 * 5  # orientations 1 and 6
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())


def baseline(path: str) -> int:
    with Image.open(path) as image:
        image.load()  # full-size decode: no draft mode
        written = 0
        for width in WIDTHS:
            copy = image.copy()
            copy.thumbnail((width, width * 10))
            out = io.BytesIO()
            copy.save(out, "JPEG", quality=85)
            written += len(out.getvalue())
        return written


def pipeline(path: str) -> int:
    with open(path, "rb") as source:
        return sum(len(thumbnail.body) for thumbnail in make_thumbnails(source))


def rate(work: Callable[[str], int], paths: Sequence[str], rounds: int) -> float:
    work(paths[0])  # warm up
    started = time.perf_counter()
    for _ in range(rounds):
        for path in paths:
            work(path)
    return rounds * len(paths) / (time.perf_counter() - started)


def parallel_rate(paths: Sequence[str], rounds: int, workers: int) -> float:
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        list(pool.map(pipeline, paths[:workers]))  # warm up each worker
        started = time.perf_counter()
        list(pool.map(pipeline, list(paths) * rounds))
        return rounds * len(paths) / (time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for seed in range(args.images):
            path = Path(directory) / f"photo-{seed}.jpg"
            make_photo(path, seed)
            paths.append(str(path))
        size = sum(os.path.getsize(path) for path in paths) / len(paths) / 1e6
        print(f"{args.images} JPEGs of {SIZE[0]}x{SIZE[1]}, {size:.1f} MB each")
        plain = rate(baseline, paths, args.rounds)
        one = rate(pipeline, paths, args.rounds)
        two = parallel_rate(paths, args.rounds, 2)
    print(f"CPUs: {os.cpu_count()}; baseline (Pillow thumbnail, full decode): {plain:.2f} images/s")
    print(f"pipeline, 1 worker:  {one:6.2f} images/s, {one / plain:.2f}x baseline (target >= 2)")
    print(f"pipeline, 2 workers: {two:6.2f} images/s, {two / one:.2f}x 1 worker (target >= 1.6)")


if __name__ == "__main__":
    main()
