#!/usr/bin/env python3
"""MONAI-style CPU surface metrics, timed: the baseline wgsl-dice's GPU surface metrics race.

MONAI itself is not installable here (no PyPI), so this is our own re-statement of what MONAI
1.5.0's CPU path does for compute_hausdorff_distance(percentile=95),
compute_average_surface_distance and compute_surface_dice, written from the semantics
(test/fixtures/README.md, surface-public.jsonl.gz; src/reference/surface/), not copied:

- the label maps become one-hot [1, C, ...] float tensors; the background channel is dropped;
- each metric is its own call, and each call, for every (batch, class) pair:
  - crops both masks to the bounding box of their union grown by one voxel (zero-padded past the
    image, as MONAI's CropForegroundD(margin=1, allow_smaller=False));
  - takes the edges as mask XOR scipy.ndimage.binary_erosion(mask);
  - measures each direction with scipy.ndimage.distance_transform_edt(~edges, sampling=spacing)
    (distance_transform_cdt for chessboard / taxicab), cast to float32 torch tensors;
  - reduces: torch.quantile (HD95), the mean of the pooled or one-directional distances (ASD),
    the share within the class threshold (NSD).

Usage: surface_metrics.py PRED.npy TARGET.npy --labels 4 [--spacing 1 1 1] [--tolerance 1.0]
       [--percentile 95] [--repeat 3]
Prints one JSON object: seconds per metric call (best of --repeat) and the per-class values.
"""

import argparse
import json
import time

import numpy as np
import scipy.ndimage as ndi
import torch


def crop_with_margin(pred, target):
    """Both masks on the union's bounding box grown by one voxel, zero-padded past the image."""
    union = pred | target
    if not union.any():
        return None
    coords = np.nonzero(union)
    start = [int(c.min()) - 1 for c in coords]
    stop = [int(c.max()) + 2 for c in coords]
    shape = [b - a for a, b in zip(start, stop)]
    out = []
    for mask in (pred, target):
        box = np.zeros(shape, dtype=bool)
        src = tuple(slice(max(a, 0), min(b, n)) for a, b, n in zip(start, stop, mask.shape))
        dst = tuple(slice(max(a, 0) - a, max(a, 0) - a + (s.stop - s.start)) for a, s in zip(start, src))
        box[dst] = mask[src]
        out.append(box)
    return out


def edges_of(mask):
    return ndi.binary_erosion(mask) ^ mask


def directed_distances(from_edges, to_edges, metric, spacing):
    """Distances from every `from` edge voxel to the nearest `to` edge voxel (MONAI's conventions)."""
    if not to_edges.any():
        return torch.full((int(from_edges.sum()),), float("inf"), dtype=torch.float32)
    if not from_edges.any():
        return torch.full((int(to_edges.sum()),), float("inf"), dtype=torch.float32)
    if metric == "euclidean":
        field = ndi.distance_transform_edt(~to_edges, sampling=spacing)
    else:
        field = ndi.distance_transform_cdt(~to_edges, metric=metric)
    return torch.as_tensor(field, dtype=torch.float32)[torch.as_tensor(from_edges)]


def surface_distances(pred, target, metric, spacing, symmetric):
    cropped = crop_with_margin(pred, target)
    if cropped is None:
        empty = torch.zeros((0,), dtype=torch.float32)
        return (empty, empty) if symmetric else (empty,)
    edges_pred, edges_target = (edges_of(m) for m in cropped)
    forward = directed_distances(edges_pred, edges_target, metric, spacing)
    if not symmetric:
        return (forward,)
    return forward, directed_distances(edges_target, edges_pred, metric, spacing)


def hausdorff(pred, target, metric, spacing, percentile):
    values = []
    for d in surface_distances(pred, target, metric, spacing, symmetric=True):
        if d.shape == (0,):
            values.append(torch.tensor(float("nan")))
        elif not percentile:
            values.append(d.max())
        else:
            values.append(torch.quantile(d, percentile / 100))
    return float(torch.max(torch.stack(values)))


def average_surface_distance(pred, target, metric, spacing, symmetric=False):
    d = torch.cat(surface_distances(pred, target, metric, spacing, symmetric))
    return float("nan") if d.shape == (0,) else float(d.mean())


def surface_dice(pred, target, metric, spacing, threshold):
    forward, backward = surface_distances(pred, target, metric, spacing, symmetric=True)
    complete = len(forward) + len(backward)
    if complete == 0:
        return float("nan")
    correct = int((forward <= threshold).sum()) + int((backward <= threshold).sum())
    return correct / complete


def per_class(metric_fn, one_hot):
    """One MONAI metric call: every (batch, class) pair of the foreground channels."""
    pred, target = one_hot
    batch, channels = pred.shape[:2]
    out = np.empty((batch, channels - 1), dtype=np.float32)
    for b in range(batch):
        for c in range(1, channels):
            out[b, c - 1] = metric_fn(pred[b, c].numpy().astype(bool), target[b, c].numpy().astype(bool), c - 1)
    return out


def best_time(fn, repeat):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pred")
    parser.add_argument("target")
    parser.add_argument("--labels", type=int, required=True, help="number of labels, background included")
    parser.add_argument("--spacing", type=float, nargs="+", default=None)
    parser.add_argument("--tolerance", type=float, nargs="+", default=[1.0], help="NSD threshold, one or one per foreground label")
    parser.add_argument("--percentile", type=float, default=95.0)
    parser.add_argument("--metric", default="euclidean", choices=["euclidean", "chessboard", "taxicab"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    pred_map, target_map = np.load(args.pred), np.load(args.target)
    if pred_map.shape != target_map.shape:
        raise SystemExit(f"label maps differ in shape: {pred_map.shape} and {target_map.shape}")
    spacing = args.spacing if args.spacing is None or len(args.spacing) > 1 else args.spacing * pred_map.ndim
    thresholds = args.tolerance * (args.labels - 1) if len(args.tolerance) == 1 else args.tolerance

    def to_one_hot(label_map):
        t = torch.as_tensor(label_map.astype(np.int64))[None]
        return torch.nn.functional.one_hot(t, args.labels).movedim(-1, 1).float()

    convert_s, one_hot = best_time(lambda: (to_one_hot(pred_map), to_one_hot(target_map)), args.repeat)
    hd_s, hd = best_time(lambda: per_class(lambda p, t, c: hausdorff(p, t, args.metric, spacing, args.percentile), one_hot), args.repeat)
    asd_s, asd = best_time(lambda: per_class(lambda p, t, c: average_surface_distance(p, t, args.metric, spacing), one_hot), args.repeat)
    nsd_s, nsd = best_time(lambda: per_class(lambda p, t, c: surface_dice(p, t, args.metric, spacing, thresholds[c]), one_hot), args.repeat)
    print(json.dumps({
        "shape": list(pred_map.shape),
        "labels": args.labels,
        "spacing": spacing,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "seconds": {
            "one_hot": convert_s,
            "hausdorff": hd_s,
            "average_surface_distance": asd_s,
            "surface_dice": nsd_s,
            "total": convert_s + hd_s + asd_s + nsd_s,
        },
        "hausdorff": hd[0].tolist(),
        "average_surface_distance": asd[0].tolist(),
        "surface_dice": nsd[0].tolist(),
    }, indent=2))


if __name__ == "__main__":
    main()
