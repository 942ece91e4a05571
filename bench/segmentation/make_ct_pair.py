#!/usr/bin/env python3
"""Writes a synthetic CT-sized label-map pair as NIfTI, for timing `wgsl-dice eval`.

Usage: make_ct_pair.py OUTDIR [--shape 512 512 300] [--seed 0]
A 512 x 512 x 300 grid (i, j, k) of 0.8 x 0.8 x 2.5 mm voxels holds 13 organ-like structures
(labels 1-13 over background 0: 14 classes): ellipsoids of abdominal organ sizes (liver, spleen,
kidneys, stomach, pancreas, gallbladder, adrenal glands, duodenum, bladder) and tubes along k
(aorta, inferior vena cava, esophagus). The prediction moves each structure by up to two voxels
per axis and flips a third of its boundary voxels, as a segmentation model's errors would.
Writes target.nii.gz and pred.nii.gz (uint8, xyzt_units mm). Needs numpy, scipy and nibabel
(Debian: python3-numpy python3-scipy python3-nibabel).
"""

import argparse
import os

import nibabel as nib
import numpy as np
import scipy.ndimage as ndi

SPACING = (0.8, 0.8, 2.5)
# centre (fraction of the grid), radii in mm (i, j, k); tubes have a k radius of None (whole length).
ORGANS = [
    ((0.35, 0.45, 0.55), (95, 80, 75)),  # liver
    ((0.70, 0.40, 0.60), (55, 40, 50)),  # spleen
    ((0.38, 0.62, 0.45), (30, 28, 55)),  # right kidney
    ((0.64, 0.62, 0.47), (30, 28, 55)),  # left kidney
    ((0.60, 0.40, 0.62), (60, 40, 45)),  # stomach
    ((0.52, 0.52, 0.52), (55, 15, 20)),  # pancreas
    ((0.40, 0.40, 0.45), (18, 15, 30)),  # gallbladder
    ((0.42, 0.58, 0.65), (10, 8, 15)),  # right adrenal gland
    ((0.60, 0.58, 0.66), (10, 8, 15)),  # left adrenal gland
    ((0.47, 0.50, 0.45), (25, 15, 35)),  # duodenum
    ((0.50, 0.40, 0.10), (45, 40, 35)),  # bladder
    ((0.51, 0.60, None), (13, 13, None)),  # aorta
    ((0.46, 0.58, None), (12, 10, None)),  # inferior vena cava
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--shape", type=int, nargs=3, default=[512, 512, 300])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    shape = tuple(args.shape)
    target = np.zeros(shape, dtype=np.uint8)
    pred = np.zeros(shape, dtype=np.uint8)
    for label, (centre, radii_mm) in enumerate(ORGANS, start=1):
        c = [f * n if f is not None else n / 2 for f, n in zip(centre, shape)]
        r = [rm / s if rm is not None else n for rm, s, n in zip(radii_mm, SPACING, shape)]
        lo = [max(0, int(ci - ri) - 3) for ci, ri in zip(c, r)]
        hi = [min(n, int(ci + ri) + 4) for ci, ri, n in zip(c, r, shape)]
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        grid = np.indices([b - a for a, b in zip(lo, hi)], dtype=np.float32)
        tube = radii_mm[2] is None
        axes = 2 if tube else 3
        inside = sum(((grid[a] + lo[a] - c[a]) / r[a]) ** 2 for a in range(axes)) <= 1
        target[box][inside] = label
        shift = tuple(int(s) for s in rng.integers(-2, 3, size=3))
        moved = np.roll(inside, shift, axis=(0, 1, 2))
        boundary = moved ^ ndi.binary_erosion(moved)
        flips = boundary & (rng.random(moved.shape) < 0.3)
        pred[box][moved ^ flips] = label
    os.makedirs(args.outdir, exist_ok=True)
    affine = np.diag([*SPACING, 1.0])
    for name, data in (("target", target), ("pred", pred)):
        image = nib.Nifti1Image(data, affine)
        image.header.set_xyzt_units("mm")
        nib.save(image, os.path.join(args.outdir, f"{name}.nii.gz"))


if __name__ == "__main__":
    main()
