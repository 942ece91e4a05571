#!/usr/bin/env python3
"""Writes a synthetic label-map pair (pred.npy, target.npy) for timing the surface metrics.

Usage: make_label_maps.py OUTDIR [--size 128] [--labels 4] [--seed 0] [--radius 0.15 0.35]
The target holds labels-1 overlapping ellipsoids of random centres and radii; the prediction is
the target shifted by a voxel or two per label, with its boundary roughened by random flips.
"""

import argparse
import os

import numpy as np
import scipy.ndimage as ndi


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--labels", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--radius", type=float, nargs=2, default=[0.15, 0.35], help="ellipsoid radii, as fractions of the size")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    n = args.size
    grid = np.indices((n, n, n), dtype=np.float32)
    target = np.zeros((n, n, n), dtype=np.uint8)
    pred = np.zeros((n, n, n), dtype=np.uint8)
    for label in range(1, args.labels):
        centre = rng.uniform(0.35 * n, 0.65 * n, size=3)
        radii = rng.uniform(args.radius[0] * n, args.radius[1] * n, size=3)
        shift = rng.integers(-2, 3, size=3)
        inside = sum(((grid[a] - centre[a]) / radii[a]) ** 2 for a in range(3)) <= 1
        target[inside] = label
        moved = np.roll(inside, tuple(shift), axis=(0, 1, 2))
        boundary = moved ^ ndi.binary_erosion(moved)
        flips = boundary & (rng.random(moved.shape) < 0.3)
        pred[moved ^ flips] = label
    os.makedirs(args.outdir, exist_ok=True)
    np.save(os.path.join(args.outdir, "pred.npy"), pred)
    np.save(os.path.join(args.outdir, "target.npy"), target)


if __name__ == "__main__":
    main()
